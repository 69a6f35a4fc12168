"""Local verdicts of model layers: each paired layer of the candidate run alone on the reference side's recorded inputs.

A layer row of the full forward pass compares what each side's layer produced after everything upstream, so
rounding accumulates (a faithful ResNet port drifts past float32 tolerances by the last stage). Here every paired
candidate layer is called on exactly the inputs the reference layer saw (recorded by its forward hook) and judged
against the reference layer's recorded output with the op verdict rule (`verdict.compare`). A local result outside
its tolerance is anchored to float64 where a side can replay in float64 (each side's float64 layer on the
same inputs, replayed by the error budget's float64 builds, execution/checks/reference.py; a side that refuses
float64, such as MindSpore's CPU Conv2d, leaves the other to anchor alone, as for op rows): within float32 noise of
it, the row passes. The first layer whose *local* verdict fails is the one to blame.

The candidate's parameters and buffers are read before and restored after, so a train-mode layer (BatchNorm's
running statistics) leaves no trace on the checks that follow.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eqcheck.execution.failures import short_error
from eqcheck.verdict import attribution
from eqcheck.verdict.compare import compare


def replay_layers(session, backend, built, label: str, dtype: str) -> dict[tuple[str, int], Any]:
    """(reference path, call) -> this side's layer output leaves on the reference side's recorded inputs (cast to
    `dtype`), or a note (str) saying why it could not run alone. `built` may be a float64 build (the error budget)."""
    ref_watch = session.watches["forward"].get(session.labels[0])
    if ref_watch is None or len(session.watches["forward"]) < 2:
        return {}
    snapshot = {name: np.array(array, copy=True) for name, array in backend.read(built).items()}  # asnumpy() may share memory
    out: dict[tuple[str, int], Any] = {}
    try:
        for pair in session.pairs:
            path = pair.ref if label == session.labels[0] else pair.cand
            for call, args in enumerate(ref_watch.inputs.get(pair.ref, [])):
                if args is None:
                    out[(pair.ref, call)] = "not replayed: its inputs are not plain tensors"
                    continue
                cast = [a.astype(np.float64) if dtype == "float64" and isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)
                        else a for a in args]
                cast = _relaid(cast, session.watches["forward"].get(label), path, call)
                try:
                    out[(pair.ref, call)] = backend.replay(built, path, cast, dtype)
                except Exception as exc:  # noqa: BLE001 - a layer that cannot run alone keeps its accumulated verdict
                    out[(pair.ref, call)] = f"not replayed: {label} could not run it alone ({short_error(exc)})"
    finally:
        backend.load(built, snapshot)  # a train-mode layer's running statistics leave no trace
    return out


def _relaid(args: list, own_watch, path: str, call: int) -> list:
    """The reference inputs in this side's own layout where only the layout differs (HF's classifier takes
    512x1x1 and flattens inside; mindcv's Dense takes the flattened 512): same values, same order."""
    calls = own_watch.inputs.get(path, []) if own_watch is not None else []
    own = calls[call] if call < len(calls) and calls[call] is not None else []
    return [a.reshape(o.shape) if isinstance(a, np.ndarray) and isinstance(o, np.ndarray) and a.shape != o.shape and a.size == o.size
            else a for a, o in zip(args, own)] + list(args[len(own):])


def judge(ref_leaves, cand_leaves, tolerance, labels, dtype: str, float64) -> dict[str, Any]:
    """The op verdict rule over a layer's output leaves; a failing leaf is anchored to float64 (`float64()`, if given)."""
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(ref_leaves, cand_leaves)) if a is not None and b is not None]
    if not pairs or len(ref_leaves) != len(cand_leaves):
        return {"note": f"not judged: {len(ref_leaves)} vs {len(cand_leaves)} output tensors"}
    deviations = [compare(np.asarray(a), np.asarray(b), tolerance) for _, a, b in pairs]
    passed = [d.passed for d in deviations]
    record: dict[str, Any] = {}
    if not all(passed) and float64 is not None:
        own = float64()
        for k, (index, a, b) in enumerate(pairs):
            sides = {label: _genuine(own.get(label), index) for label in labels}
            anchor = next((label for label in labels if sides[label] is not None), None)  # the reference side first
            if passed[k] or anchor is None:
                continue
            found = attribution.attribute(deviations[k].max_abs, False, deviations[k].nonfinite_mismatch,
                                          dict(zip(labels, (a, b))), anchor, sides[anchor], sides, dtype)
            passed[k] = found["within_noise"]
            record.setdefault("attribution", {key: found[key] for key in ("statement", "outlier", "within_noise", "noise_ratio")})
    worst = max(range(len(deviations)), key=lambda k: (not passed[k], finite(deviations[k].max_abs)))
    record.update(passed=all(passed), max_abs=metric(max(finite(d.max_abs) for d in deviations)),
                  max_rel=metric(max(finite(d.max_rel) for d in deviations)))
    if not record["passed"] and deviations[worst].reason:
        record["reason"] = deviations[worst].reason
    return record


def _genuine(leaves, index: int):
    """A float64 replay's leaf, if that side really computed in float64 (a kernel that does not measures nothing)."""
    leaf = leaves[index] if isinstance(leaves, list) and index < len(leaves) else None
    return leaf if isinstance(leaf, np.ndarray) and leaf.dtype == np.float64 else None


def finite(value) -> float:
    return float("inf") if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


def metric(value: float):
    return value if np.isfinite(value) else "inf"
