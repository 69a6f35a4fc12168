"""The third opinion: where torch and MindSpore disagree on a forward output and the op has an OpInfo entry with a
numpy/scipy `ref`, run the ref on the same inputs (float64, exactly upcast; torch's call arguments) and say which
side it agrees with. The entry is the explored sample's (--explore), the spec's `explore: {opinfo: NAME}`, or for
a spec with an explore section, the one derived from its torch function (torch.nn.functional.X -> nn.functional.X).

Recorded in the case's `third_opinion` (per forward row: each side's max_abs to the ref, `agrees_with` torch,
mindspore, both or neither, a statement); it never changes a verdict, and a ref that fails says so there.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from eqcheck.backends import opinfo_refs
from eqcheck.cases.sweep import Case
from eqcheck.execution.failures import short_error
from eqcheck.execution.trial import Trial
from eqcheck.verdict.attribution import max_abs
from eqcheck.verdict.results import CaseResult


# torch op path prefix -> op_db name prefix, for a spec whose explore section leaves `opinfo` to its default
_DERIVED = (("torch.nn.functional.", "nn.functional."), ("torch.special.", "special."), ("torch.linalg.", "linalg."),
            ("torch.fft.", "fft."), ("torch.Tensor.", ""), ("torch.", ""))


def entry_of(case: Case) -> str | None:
    """The op_db entry: an explored sample's, the spec's `explore.opinfo`, or (a spec with an explore section)
    derived from a torch function's path; None for specs without an explore section and for classes."""
    sample = getattr(case, "sample", None)  # --explore cases (eqcheck/cases/explore.py)
    if sample is not None and getattr(sample, "source", None) == "opinfo":
        return sample.entry
    explore = case.spec.explore
    if explore is None:
        return None
    if explore.opinfo:
        return explore.opinfo
    op = case.spec.sides["torch"].op if "torch" in case.spec.sides else ""
    last = op.rsplit(".", 1)[-1]
    if not last or last[0].isupper():  # an nn.Module class: its samples are ModuleInfo's, which have no ref
        return None
    return next((new + op[len(old):] for old, new in _DERIVED if op.startswith(old)), None)


def wanted(runner, case: Case, result: CaseResult) -> bool:
    """A forward row disagrees, the case names an OpInfo entry, and the torch side runs here (not recorded)."""
    return (entry_of(case) is not None and runner.source.extra_calls
            and any(o.kind == "output" and o.deviation is not None and not o.passed for o in result.outputs)
            and any(t.framework == "torch" for t in runner.targets))


def _agrees(side: np.ndarray, ref: np.ndarray, tolerance) -> bool:
    a, r = np.asarray(side, np.float64), np.asarray(ref, np.float64)
    if a.shape != r.shape:
        return False
    same_nonfinite = (np.isnan(a) == np.isnan(r)) & np.where(np.isinf(a) | np.isinf(r), a == r, True)
    with np.errstate(all="ignore"):
        close = np.abs(a - r) <= tolerance.atol + tolerance.rtol * np.maximum(np.abs(a), np.abs(r))
    return bool(np.all(np.where(np.isfinite(a) & np.isfinite(r), close, same_nonfinite)))


def _nonfinite_mismatch(side: np.ndarray, ref: np.ndarray) -> int:
    """Elements where one is NaN/Inf and the other is not, or both are but differ."""
    a, r = np.asarray(side, np.float64), np.asarray(ref, np.float64)
    differ = (np.isfinite(a) != np.isfinite(r)) | (~np.isfinite(a) & ~np.isfinite(r) & ~((a == r) | (np.isnan(a) & np.isnan(r))))
    return int(differ.sum())


def judge(runner, trial: Trial, result: CaseResult) -> None:
    case, inputs = trial.case, trial.inputs
    entry = entry_of(case)
    ref, name = opinfo_refs.reference(entry)
    record = {"entry": entry, "ref": name if ref is not None else None}
    result.details["third_opinion"] = record
    if ref is None:
        record["message"] = name
        return
    t = next(t for t in runner.targets if t.framework == "torch")
    backend = runner.backends[t.label]
    case64 = dataclasses.replace(case, dtype="float64")
    try:
        tensors = {inp.name: backend.tensor(inputs[inp.name].astype(np.float64)
                                            if np.issubdtype(inputs[inp.name].dtype, np.floating) else inputs[inp.name],
                                            case64.input_dtype(inp, t.framework) if np.issubdtype(inputs[inp.name].dtype, np.floating)
                                            else case.input_dtype(inp, t.framework))
                   for inp in case.spec.inputs}
        args, kwargs = runner.pack(case64, t, tensors)
        numpy_of = lambda v: backend.to_numpy(v) if backend.is_tensor(v) else (
            type(v)(numpy_of(x) for x in v) if isinstance(v, (list, tuple)) else v)
        with np.errstate(all="ignore"):
            out = ref(*numpy_of(list(args)), **{k: numpy_of(v) for k, v in kwargs.items()})
    except Exception as exc:  # noqa: BLE001 - a ref that cannot take this call is an answer, not a crash
        record["message"] = f"the ref failed on this call: {short_error(exc)}"
        return
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    labels = [tg.label for tg in runner.targets]
    rows = {}
    for row, ref_out in zip([o for o in result.outputs if o.kind == "output" and o.deviation is not None], outs):
        ref_out = np.asarray(ref_out)
        arrays = {label: result.arrays[label][row.name] for label in labels}
        if not all(np.shape(a) == ref_out.shape for a in arrays.values()):
            rows[row.name] = {"statement": f"the ref's output has shape {list(ref_out.shape)}, not the sides'"}
            continue
        tolerance = case.tolerance(row.name)
        agree = [label for label in labels if _agrees(arrays[label], ref_out, tolerance)]
        verdict = "both" if len(agree) == 2 else agree[0] if agree else "neither"
        distance = {label: max_abs(arrays[label], ref_out) for label in labels}
        nonfinite = {label: _nonfinite_mismatch(arrays[label], ref_out) for label in labels}
        said = {"both": "agrees with both sides", "neither": "agrees with neither side"}.get(
            verdict, f"agrees with {verdict}, not {next(label for label in labels if label != verdict)}")
        numbers = [f"{label} max_abs {distance[label]:.3g}" + (f", {nonfinite[label]} NaN/Inf apart" if nonfinite[label] else "")
                   for label in labels]
        rows[row.name] = {"agrees_with": verdict, "distance": distance, "nonfinite_mismatch": nonfinite,
                          "statement": f"op_db '{entry}' ref {said} ({'; '.join(numbers)})"}
    record["rows"] = rows
