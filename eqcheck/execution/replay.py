"""Local verdicts of model layers: each paired layer of the candidate run alone on the reference side's recorded inputs.

A layer row of the full forward pass compares what each side's layer produced after everything upstream, so
rounding accumulates (a faithful ResNet port drifts past float32 tolerances by the last stage). Here every paired
candidate layer is called on exactly the inputs the reference layer saw (recorded by its forward hook) and judged
against the reference layer's recorded output with the op verdict rule (`verdict.compare`). A local result outside
its tolerance is anchored to float64 where a side can replay in float64 (each side's float64 layer on the
same inputs, replayed by the error budget's float64 builds, execution/checks/reference.py; a side that refuses
float64, such as MindSpore's CPU Conv2d, leaves the other to anchor alone, as for op rows): within float32 noise of
it, the row passes. The first layer whose *local* verdict fails is the one to blame.

Backward, the same by the other half of the chain rule: each paired candidate layer is called alone on the reference
layer's recorded inputs and differentiated by its own framework's autodiff (torch.autograd.grad with grad_outputs,
mindspore.value_and_grad of sum(output * cotangent)), the cotangent being the gradient that reached the reference
layer's outputs in the reference backward pass (recorded by its backward hook); its input gradients are judged
against the reference layer's recorded input gradients by the same rule and anchored to float64 the same way. The
first backward row whose local verdict fails names the layer whose backward is wrong.

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
                inputs = _inputs(ref_watch, pair.ref, call, session.watches["forward"].get(label), path, call, dtype)
                if isinstance(inputs, str):
                    out[(pair.ref, call)] = inputs
                    continue
                try:
                    out[(pair.ref, call)] = backend.replay(built, path, inputs[0], dtype, keywords=inputs[1])
                except Exception as exc:  # noqa: BLE001 - a layer that cannot run alone keeps its accumulated verdict
                    out[(pair.ref, call)] = f"not replayed: {label} could not run it alone ({short_error(exc)})"
    finally:
        backend.load(built, snapshot)  # a train-mode layer's running statistics leave no trace
    return out


def replay_backward(session, backend, built, label: str, dtype: str) -> dict[tuple[str, int], Any]:
    """(reference path, backward call) -> this side's layer input gradients on the reference side's recorded inputs
    and output gradient (cast to `dtype`), or a note (str) saying why none; the backward half of `replay_layers`."""
    ref_forward = session.watches["forward"].get(session.labels[0])
    ref_backward = session.watches["backward"].get(session.labels[0])
    if ref_forward is None or ref_backward is None or len(session.watches["backward"]) < 2:
        return {}
    snapshot = {name: np.array(array, copy=True) for name, array in backend.read(built).items()}
    out: dict[tuple[str, int], Any] = {}
    try:
        for pair in session.pairs:
            path = pair.ref if label == session.labels[0] else pair.cand
            inputs, reached = ref_forward.inputs.get(pair.ref, []), ref_backward.records.get(pair.ref, [])
            cotangents = ref_backward.cotangents.get(pair.ref, [])
            for call in range(len(reached)):
                key = (pair.ref, call)
                if len(cotangents) != len(reached):  # tensor hooks on the inputs (torch in-place ops) see no output gradient
                    out[key] = "not replayed: the reference side's output gradient of this layer was not recorded"
                    continue
                if len(inputs) != len(reached):
                    out[key] = f"not replayed: {len(inputs)} forward calls, {len(reached)} reached backward"
                    continue
                forward = len(inputs) - 1 - call  # backpropagation reaches a module's calls last-first
                cast = _inputs(ref_forward, pair.ref, forward, session.watches["forward"].get(label), path, forward, dtype)
                if isinstance(cast, str):
                    out[key] = cast
                    continue
                cots = _cast(cotangents[call], dtype)
                try:
                    grads = backend.replay_grad(built, path, cast[0], cots, dtype, keywords=cast[1])
                except Exception as exc:  # noqa: BLE001 - a layer that cannot run alone keeps its accumulated verdict
                    out[key] = f"not replayed: {label} could not differentiate it alone ({short_error(exc)})"
                    continue
                # in the reference layout where only the layout differs (a Flatten on one side)
                out[key] = [g.reshape(r.shape) if isinstance(g, np.ndarray) and isinstance(r, np.ndarray) and g.shape != r.shape
                            and g.size == r.size else g for g, r in zip(grads, reached[call])] + list(grads[len(reached[call]):])
    finally:
        backend.load(built, snapshot)
    return out


def _cast(arrays: list, dtype: str) -> list:
    """Recorded float arrays in float64 for a float64 build's replay; anything else as recorded."""
    return [a.astype(np.float64) if dtype == "float64" and isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)
            else a for a in arrays]


def _inputs(ref_watch, ref_path: str, ref_call: int, own_watch, path: str, call: int, dtype: str):
    """(positional, keyword) inputs for this side's layer: the reference layer's recorded inputs, in this side's own
    layout where only the layout differs (HF's classifier takes 512x1x1 and flattens inside; mindcv's Dense takes the
    flattened 512). Where the two calls differ in structure (HF passes hidden_states, the mask and position ids by
    keyword; a port its rotary tables and mask by position), only the first float tensor, the layer's data, comes
    from the reference; the rest stay as this side's own forward pass recorded them. A str: why none."""
    args = _recorded(ref_watch, ref_path, ref_call)
    if args is None:
        return "not replayed: its inputs are not plain tensors"
    own = _recorded(own_watch, path, call) if own_watch is not None else None
    ref_args, ref_keywords = args
    if own is None or (len(own[0]) == len(ref_args) and list(own[1]) == list(ref_keywords)):
        own = own or (ref_args, ref_keywords)
        values = [_fit(a, o) for a, o in zip([*ref_args, *ref_keywords.values()], [*own[0], *own[1].values()])]
    else:
        values, reference = [*own[0], *own[1].values()], [*ref_args, *ref_keywords.values()]
        mine, theirs = _first_float(values), _first_float(reference)
        if mine is None or theirs is None or values[mine].size != reference[theirs].size:
            return "not replayed: the two calls differ in structure and their first tensors in size"
        values[mine] = reference[theirs].reshape(values[mine].shape)
    values = _cast(values, dtype)
    return values[:len(own[0])], dict(zip(own[1], values[len(own[0]):]))


def _recorded(watch, path: str, call: int):
    calls, named = watch.inputs.get(path, []), watch.keywords.get(path, [])
    if call >= len(calls) or calls[call] is None:
        return None
    return calls[call], (named[call] if call < len(named) and named[call] is not None else {})


def _fit(a, own):
    """A reference input in this side's layout where only the layout differs (same values, same order)."""
    if isinstance(a, np.ndarray) and isinstance(own, np.ndarray) and a.shape != own.shape and a.size == own.size:
        return a.reshape(own.shape)
    return a


def _first_float(values: list):
    return next((i for i, v in enumerate(values) if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating)), None)


def aligned(ref_leaves: list, cand_leaves: list) -> tuple[list[tuple[int, Any, Any]], str | None]:
    """Which tensors of a paired layer to compare: index by index where both sides have as many; where the counts
    differ (HF's attention returns (output, None, None), a port its output; HF's inputs are hidden_states, a mask and
    position ids, a port's its rotary tables), only the first tensor of each: the layer's data."""
    if len(ref_leaves) == len(cand_leaves):
        return [(i, a, b) for i, (a, b) in enumerate(zip(ref_leaves, cand_leaves)) if a is not None and b is not None], None
    first = lambda leaves: next((v for v in leaves if v is not None), None)
    a, b = first(ref_leaves), first(cand_leaves)
    note = f"{len(ref_leaves)} vs {len(cand_leaves)} tensors: compared the first of each"
    return ([(0, a, b)] if a is not None and b is not None else []), note


def comparable(pairs) -> str | None:
    """Why two layers' tensors cannot be compared element by element: their shapes differ (never broadcast)."""
    bad = next(((a.shape, b.shape) for _, a, b in pairs if np.shape(a) != np.shape(b)), None)
    return f"not comparable (shapes {list(bad[0])} vs {list(bad[1])})" if bad else None


def judge(ref_leaves, cand_leaves, tolerance, labels, dtype: str, float64, bound=None) -> dict[str, Any]:
    """The op verdict rule over a layer's output leaves; a failing leaf is anchored to float64 (`float64()`, if given),
    with the structural rounding bound of leaf k (`bound(k)`, verdict/rounding.py) where the layer is multilinear."""
    pairs, _ = aligned(ref_leaves, cand_leaves)
    pairs = [(i, a, _fit(b, a)) for i, a, b in pairs]
    if not pairs:
        return {"note": f"not judged: {len(ref_leaves)} vs {len(cand_leaves)} tensors, none on both sides"}
    if comparable(pairs):
        return {"note": comparable(pairs)}
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
                                          dict(zip(labels, (a, b))), anchor, sides[anchor], sides, dtype,
                                          bound=bound(index) if bound is not None else None)
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
