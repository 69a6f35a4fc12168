"""The error budget's float64 re-runs: each side runs the case once more in float64 on the same values (forward,
state and gradients in one run), and every row is judged against them. The rule is eqcheck/verdict/attribution.py's.

When: by default only for a case with a row outside its tolerance (a passing case costs nothing more); on every
case with --reference float64 or --strict-precision (which needs the precision notes of passing rows too).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from eqcheck.backends import standins
from eqcheck.cases.sweep import Case
from eqcheck.dtypes import is_float
from eqcheck.errors import EqcheckError
from eqcheck.execution import replay
from eqcheck.execution.checks import gradients, layer_gradients, state
from eqcheck.execution.failures import CaseFailure, short_error
from eqcheck.execution.trial import Trial
from eqcheck.verdict import attribution, rounding
from eqcheck.verdict.results import CaseResult


def wanted(case: Case, result: CaseResult) -> bool:
    """Does this case run in float64: a float case below float64 with a failing row, or asked for every case."""
    if not is_float(case.dtype) or case.dtype == "float64":
        return False
    spec = case.spec
    if spec.reference or spec.strict_precision:
        return True
    return spec.error_budget and (any(o.deviation is not None and not o.deviation.passed
                                      and not (o.deviation.reason or "").startswith("shape ") for o in result.outputs)
                                  or _layer_failed(result))


def _layer_failed(result: CaseResult) -> bool:
    """A model spec's layer row outside its budget is a failing row too (execution/layers.py)."""
    return any((section or {}).get("first_divergent") for section in (result.details.get("layers") or {}).values())


def judge(runner, trial: Trial, result: CaseResult) -> None:
    """Re-run each side in float64 (at most once), then attach a budget record to every float row."""
    case = trial.case
    case64 = dataclasses.replace(case, dtype="float64")
    runs, status, standin_runs = {}, {}, {}
    for t in runner.targets:
        try:
            runs[t.label], status[t.label] = float64_run(runner, t, trial, case64, trial.state_rows)
        except CaseFailure as failure:
            status[t.label] = failure.message
            runner.backends[t.label].recover()
            standin = standins.standin_for(case.spec.sides[t.framework].op)
            if standin is not None:
                standin_runs[t.label], status[f"{t.label} stand-in"] = _standin_runs(runner, t, trial, case64, standin)
    # A "float64" run returning another dtype computed in that dtype: it measures no own error.
    genuine = {label: {name: a for name, a in rows.items() if a.dtype == np.float64} for label, rows in runs.items()}
    labels = [t.label for t in runner.targets]
    torch_first = [t.label for t in runner.targets if t.framework == "torch"] + labels
    record = {"dtype": "float64", "float64_runs": status, "k": attribution.NOISE_K}
    result.details["reference"] = record
    shape = structure_of(case)
    anchor_target = next((t for t in runner.targets if t.framework == "torch" and genuine.get(t.label)), None)
    bounds, sensitivity = {}, {}
    if shape and anchor_target is not None:
        record["structure"] = shape
        try:
            if shape == "multilinear":
                bounds = structural_bounds(runner, anchor_target, trial, case64)
            else:
                sensitivity = input_sensitivity(runner, anchor_target, trial, case64)
        except (CaseFailure, EqcheckError) as failure:
            runner.backends[anchor_target.label].recover()
            record["structure_note"] = f"no structural bound: {getattr(failure, 'message', failure)}"
    judged = 0
    for out in result.outputs:
        if out.deviation is None or out.name not in result.arrays.get(labels[0], {}):
            continue
        arrays = {label: result.arrays[label][out.name] for label in labels}
        if not all(np.issubdtype(np.asarray(a).dtype, np.floating) for a in arrays.values()):
            continue
        ref_label = next((label for label in torch_first if out.name in genuine.get(label, {})), None)
        if ref_label is None:
            continue
        reference = genuine[ref_label][out.name]
        if any(np.shape(a) != reference.shape for a in arrays.values()):
            continue  # a shape mismatch is its own failure: there is no rounding error to measure
        dev = out.deviation
        if shape == "elementwise" and out.kind == "output" and out.name in sensitivity:
            out.attribution = attribution.elementwise(
                dev.max_abs, dev.passed, dev.nonfinite_mismatch, arrays, ref_label, reference,
                {label: genuine.get(label, {}).get(out.name) for label in labels}, sensitivity[out.name], case.dtype)
        else:
            out.attribution = attribution.attribute(
                dev.max_abs, dev.passed, dev.nonfinite_mismatch, arrays, ref_label, reference,
                {label: genuine.get(label, {}).get(out.name) for label in labels}, case.dtype,
                standin={label: (rows[0][out.name], rows[1][out.name]) for label, rows in standin_runs.items()
                         if out.name in rows[0] and out.name in rows[1]},
                bound=bounds.get(out.name))
        out.strict_precision = case.spec.strict_precision
        judged += 1
    if runner.layers is not None:  # model specs: a parameter gradient judged by what its own layer saw
        record["rows_explained_by_layers"] = layer_gradients.explain(runner, trial, result)
    anchor = next((label for label in torch_first if genuine.get(label)), None)
    if runner.layers is not None and anchor is not None:  # model specs: every forward layer row against float64 too
        runner.layers.float64_reference = anchor
        layers = result.details.setdefault("layers", {})
        layers["forward"] = runner.layers.report(case, "forward")
        if layers.get("backward"):  # again after forward: whether a forward layer deviates may have changed
            layers["backward"] = runner.layers.report(case, "backward")
    record["rows_judged"] = judged
    if not judged:
        record["message"] = "no side could run this case in float64: no error budget"


def structure_of(case: Case) -> str | None:
    """'elementwise', 'multilinear' or None: what verdict/rounding.py knows of this op spec's torch op."""
    if case.spec.is_model or "torch" not in case.spec.sides or case.spec.kind != "op":
        return None
    return rounding.structure(case.spec.sides["torch"].op, case.spec.explore.opinfo if case.spec.explore else None)


def _mapped(arrays: dict[str, np.ndarray], fn) -> dict[str, np.ndarray]:
    return {n: fn(a.astype(np.float64)) if np.issubdtype(a.dtype, np.floating) else a for n, a in arrays.items()}


def structural_bounds(runner, t, trial: Trial, case64: Case) -> dict[str, np.ndarray]:
    """A multilinear op's rounding bound per row (verdict/rounding.py): the op in float64 on absolute inputs,
    weights and cotangents (sum |t_i|), and on ones (n, the number of products per element)."""
    runs = []
    for fn in (np.abs, np.ones_like):
        cot = None if trial.cotangents is None else [None if c is None else fn(c.astype(np.float64))
                                                     for c in trial.cotangents]
        moved = dataclasses.replace(trial, canonical=_mapped(trial.canonical, fn), inputs=_mapped(trial.inputs, fn),
                                    cotangents=cot)
        rows, _ = float64_run(runner, t, moved, case64, None)
        runs.append(rows)
    absolute, counts = runs
    return {name: rounding.allowance(absolute[name], counts[name], trial.case.dtype) for name in absolute
            if name in counts and absolute[name].dtype == np.float64 and np.shape(absolute[name]) == np.shape(counts[name])}


FD_STEP = 2.0**-20  # relative input step of the float64 central difference: truncation ~h^2, rounding ~u64/h, both < 1e-10


def input_sensitivity(runner, t, trial: Trial, case64: Case) -> dict[str, np.ndarray]:
    """An elementwise op's sensitivity to a relative perturbation of each float input, sum_k |x_k df/dx_k| per
    forward row, by float64 central differences on the torch side (the condition term of verdict.attribution.elementwise)."""
    total: dict[str, np.ndarray] = {}
    for name, array in trial.inputs.items():
        if not np.issubdtype(array.dtype, np.floating):
            continue
        ends = []
        for factor in (1 + FD_STEP, 1 - FD_STEP):
            moved = dataclasses.replace(trial, inputs={**trial.inputs, name: array.astype(np.float64) * factor})
            rows, _ = float64_run(runner, t, moved, case64, None, forward_only=True)
            ends.append(rows)
        for row, high in ends[0].items():
            low = ends[1].get(row)
            if low is None or high.dtype != np.float64 or np.shape(low) != np.shape(high):
                continue
            with np.errstate(all="ignore"):
                term = np.abs(high - low) / (2 * FD_STEP)
            total[row] = total.get(row, 0) + np.where(np.isfinite(term), term, 0.0)
    return total


def _standin_runs(runner, t, trial: Trial, case64: Case, standin) -> tuple[tuple[dict, dict], str]:
    """The stand-in of a side that refused float64, run in the case dtype and in float64 ({} and {} if it fails)."""
    try:
        low, _ = float64_run(runner, t, trial, trial.case, None, obj=standin)
        high, how = float64_run(runner, t, trial, case64, None, obj=standin)
    except (CaseFailure, EqcheckError) as failure:
        runner.backends[t.label].recover()
        return ({}, {}), f"failed: {getattr(failure, 'message', failure)}"
    high = {name: a for name, a in high.items() if a.dtype == np.float64}
    return (low, high), f"{standin.__module__}.{standin.__name__}: {how}"


def float64_run(runner, t, trial: Trial, case64: Case, state_rows: list | None, obj=None, forward_only: bool = False
                ) -> tuple[dict[str, np.ndarray], str]:
    """One float64 run of this side (or a run of `obj` in the dtype of `case64`, for a stand-in): every row it can
    produce by row name, and how the run went (`forward_only`: no gradients, as the input-sensitivity runs need)."""
    case, seed, weight_map, canonical, inputs = trial.case, trial.seed, trial.weight_map, trial.canonical, trial.inputs
    backend = runner.backends[t.label]
    built = runner.step(t, case64, f"build in {case64.dtype}", lambda: runner.build(t, case64, seed, obj=obj))
    params64 = backend.parameters(built)
    up = {n: a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a for n, a in canonical.items()}
    side = {n: a.astype(params64[n].default.dtype, copy=False) for n, a in weight_map.to_side(t.framework, up).items()}
    runner.step(t, case64, "load float64 weights", lambda: backend.load(built, side))
    runner.verify_loaded(t, backend.read(built), side)  # a float64 run on anything but the shared values is no reference
    tensors = {}
    for inp in case.spec.inputs:
        array, dtype = inputs[inp.name], case64.input_dtype(inp, t.framework)
        tensors[inp.name] = backend.tensor(array.astype(np.float64) if is_float(dtype) else array, dtype)
    args, kwargs = runner.pack(case64, t, tensors)
    with runner.watch_layers(t, built, "float64"):  # model specs: every layer's float64 output anchors its row
        raw = runner.step(t, case64, "run in float64", lambda: backend.call(built, args, kwargs))
    if runner.layers is not None and runner.layers.local:  # and each layer alone on the recorded inputs anchors its local row
        runner.layers.local64[t.label] = replay.replay_layers(runner.layers, backend, built, t.label, "float64")
    flat = runner.step(t, case64, "run in float64", lambda: runner.flatten(backend, raw, t.label))
    forward = [o.name for o in runner.forward_names(case, len(flat), [p for p, _ in flat])]
    rows = dict(zip(forward, (a for _, a in flat)))
    if state_rows:
        rows.update(state.side_state(runner, case64, t, built, weight_map, state_rows))
    cotangents = trial.cotangents
    if case.spec.grad and cotangents is not None and not forward_only:
        up_cot = [None if c is None else c.astype(np.float64) for c in cotangents]
        hooks = {"through_inputs": True} if runner.layers is not None and t.label in runner.layers.through_inputs else {}
        try:
            with runner.watch_layers(t, built, "backward64", **hooks):  # every layer's float64 input gradient anchors its row
                grads = gradients.side_gradients(runner, case64, t, built, side, inputs64(case, inputs), trial.wrt, up_cot)
            if runner.layers is not None and runner.layers.local_backward:  # each layer differentiated alone in float64 anchors its local backward row
                runner.layers.local_backward64[t.label] = replay.replay_backward(runner.layers, backend, built, t.label, "float64")
        except EqcheckError:
            raise
        except Exception as exc:  # noqa: BLE001 - no float64 gradient here: forward and state rows still count
            backend.recover()
            return rows, f"forward ok; gradients failed in float64: {short_error(exc)}"
        rows.update(gradients.row_names(weight_map, trial.wrt, t.framework, grads))
    return rows, "ok"


def inputs64(case: Case, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a for name, a in inputs.items()}
