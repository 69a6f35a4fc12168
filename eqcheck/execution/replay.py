"""Local verdicts of model layers: each paired layer of the candidate run alone on the reference side's recorded inputs.

A layer row of the full forward pass compares what each side's layer produced after everything upstream, so
rounding accumulates (a faithful ResNet port drifts past float32 tolerances by the last stage). Here every paired
candidate layer is called on exactly the inputs the reference layer saw (recorded by its forward hook) and judged
against the reference layer's recorded output with the op verdict rule (`verdict.compare`). A local result outside
its tolerance is anchored to float64 where a side can replay in float64 (torch: a float64 copy of the module on the
same inputs; a MindSpore Cell cannot be copied to float64, so torch anchors alone, as for op rows): within float32
noise of it, the row passes. The first layer whose *local* verdict fails is the one to blame.

The candidate's parameters and buffers are read before and restored after, so a train-mode layer (BatchNorm's
running statistics) leaves no trace on the checks that follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eqcheck.execution.failures import short_error
from eqcheck.verdict import attribution
from eqcheck.verdict.compare import compare


def replay_forward(session, backends: dict[str, Any], built: dict[str, Any], case) -> dict[tuple[str, int], dict[str, Any]]:
    """(reference path, call) -> the local verdict record of that layer call (see `judge`), or a note why none."""
    watches = session.watches["forward"]
    if len(watches) < 2:
        return {}
    ref_label, cand_label = session.labels
    cand = backends[cand_label]
    tolerance = case.tolerance()
    snapshot = cand.read(built[cand_label])
    local: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        for pair in session.pairs:
            recorded = watches[ref_label].records.get(pair.ref, [])
            for call, args in enumerate(watches[ref_label].inputs.get(pair.ref, [])):
                if args is None:
                    local[(pair.ref, call)] = {"note": "not replayed: its inputs are not plain tensors"}
                    continue
                try:
                    alone = cand.replay(built[cand_label], pair.cand, args, case.dtype)
                except Exception as exc:  # noqa: BLE001 - a layer that cannot run alone keeps its accumulated verdict
                    local[(pair.ref, call)] = {"note": f"not replayed: {cand_label} could not run it alone ({short_error(exc)})"}
                    continue
                float64 = lambda pair=pair, args=args: _float64(backends, built, session.labels, pair, args)
                local[(pair.ref, call)] = judge(recorded[call], alone, tolerance, session.labels, case.dtype, float64)
    finally:
        cand.load(built[cand_label], snapshot)
    return local


def judge(ref_leaves, cand_leaves, tolerance, labels, dtype: str, float64) -> dict[str, Any]:
    """The op verdict rule over a layer's output leaves; a failing leaf is anchored to float64 (`float64()`)."""
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(ref_leaves, cand_leaves)) if a is not None and b is not None]
    if not pairs or len(ref_leaves) != len(cand_leaves):
        return {"note": f"not judged: {len(ref_leaves)} vs {len(cand_leaves)} output tensors"}
    deviations = [compare(np.asarray(a), np.asarray(b), tolerance) for _, a, b in pairs]
    passed = [d.passed for d in deviations]
    record: dict[str, Any] = {}
    if not all(passed) and dtype != "float64":
        own = float64()
        for k, (index, a, b) in enumerate(pairs):
            reference = own.get(labels[0])
            if passed[k] or reference is None or index >= len(reference) or reference[index] is None:
                continue
            sides = {label: (leaves[index] if leaves is not None and index < len(leaves) else None) for label, leaves in own.items()}
            found = attribution.attribute(deviations[k].max_abs, False, deviations[k].nonfinite_mismatch,
                                          dict(zip(labels, (a, b))), labels[0], reference[index], sides, dtype)
            passed[k] = found["within_noise"]
            record.setdefault("attribution", {key: found[key] for key in ("statement", "outlier", "within_noise", "noise_ratio")})
    worst = max(range(len(deviations)), key=lambda k: (not passed[k], _finite(deviations[k].max_abs)))
    record.update(passed=all(passed), max_abs=_metric(max(_finite(d.max_abs) for d in deviations)),
                  max_rel=_metric(max(_finite(d.max_rel) for d in deviations)))
    if not record["passed"] and deviations[worst].reason:
        record["reason"] = deviations[worst].reason
    return record


def _float64(backends, built, labels, pair, args) -> dict[str, list | None]:
    """Each side's layer replayed in float64 on the same inputs (None: that side cannot)."""
    wide = [a.astype(np.float64) if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating) else a for a in args]
    out = {}
    for label, path in zip(labels, (pair.ref, pair.cand)):
        try:
            out[label] = backends[label].replay(built[label], path, wide, "float64")
        except Exception:  # noqa: BLE001 - a side without float64 (MindSpore Cells, CPU kernels) does not anchor
            out[label] = None
    return out


def _finite(value) -> float:
    return float("inf") if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def _metric(value: float):
    return value if np.isfinite(value) else "inf"
