"""Model specs: a parameter-gradient row of a multilinear layer (Conv, Linear) judged by what its own layer saw.

A whole-model weight gradient accumulates every upstream difference, and MindSpore's CPU convolutions refuse float64,
so its own rounding cannot be measured on the whole model. But a layer's weight (and bias) gradient is bilinear in
the layer's input x and the gradient c reaching its output, G = B(x, c), and each side computes B on its own x and c:

    |G_M - G_T| <= |G_M - B(x_M, c_M)| + |B(x_M, c_M) - B(x_T, c_T)| + |B(x_T, c_T) - G_T|
               <= gamma_n (B(|x_M|, |c_M|) + B(|x_T|, |c_T|)) + B(|x_M - x_T|, |c_M|) + B(|x_T|, |c_M - c_T|)

(Higham's bound for each side's sums of n products, and the identity x_M c_M - x_T c_T = (x_M - x_T) c_M +
x_T (c_M - c_T)). Every term is the torch layer's own autograd in float64 on the arrays the layer hooks recorded, so
the bound holds for any summation order on any CPU. A row within it differs only by this layer's rounding on both
sides and by what reached the layer -- and that is judged where it arises, at the layer rows forward and backward.
"""

from __future__ import annotations

import copy

import numpy as np

from eqcheck.execution.trial import Trial
from eqcheck.verdict import rounding
from eqcheck.verdict.results import CaseResult


def explain(runner, trial: Trial, result: CaseResult) -> int:
    """Attach the layer bound to every failing parameter-gradient row it explains; the number of rows explained."""
    session = runner.layers
    if session is None or len(runner.targets) != 2 or runner.targets[0].framework != "torch":
        return 0
    ref, cand = (t.label for t in runner.targets)
    forward, backward = session.watches["forward"], session.watches["backward"]
    if not all(label in watches for watches in (forward, backward) for label in (ref, cand)):
        return 0
    module = getattr(trial.built[ref], "module", None)
    if module is None:
        return 0
    owners = _owners(trial, session)
    explained = 0
    for out in result.outputs:
        owner = owners.get(out.name) if out.kind == "grad" and not out.passed else None
        if owner is None or out.name not in result.arrays.get(ref, {}):
            continue
        pair, param = owner
        recorded = _recorded(forward, backward, pair, ref, cand)
        if recorded is None:
            continue
        bound = _bound(module.get_submodule(pair.ref), param, *recorded, trial.case.dtype)
        if bound is None or np.shape(bound) != np.shape(result.arrays[ref][out.name]):
            continue
        explained += _judge(out, result.arrays[ref][out.name], result.arrays[cand][out.name], bound, pair.ref)
    return explained


def _owners(trial: Trial, session) -> dict[str, tuple]:
    """grad:<canonical name> -> (layer pair, parameter name inside the torch layer), for parameters of paired layers
    whose torch module is multilinear and whose canonical layout is torch's (no transform to undo)."""
    pairs = {pair.ref: pair for pair in session.pairs if rounding.structure(f"torch.nn.{pair.ref_type}") == "multilinear"}
    owners = {}
    for w in trial.weight_map.weights:
        side = w.sides.get("torch")
        if side is None or side.transforms or "." not in side.param:
            continue
        path, param = side.param.rsplit(".", 1)
        if path in pairs:
            owners[f"grad:{w.name}"] = (pairs[path], param)
    return owners


def _recorded(forward, backward, pair, ref: str, cand: str):
    """(x_T, c_T, x_M, c_M) of a layer called once on each side with one tensor input of the same shape, else None."""
    found = []
    for label, path in ((ref, pair.ref), (cand, pair.cand)):
        inputs, cotangents = forward[label].inputs.get(path, []), backward[label].cotangents.get(path, [])
        if len(inputs) != 1 or len(cotangents) != 1 or inputs[0] is None:
            return None
        tensors = [a for a in inputs[0] if isinstance(a, np.ndarray)]
        outs = [c for c in cotangents[0] if isinstance(c, np.ndarray)]
        if len(tensors) != 1 or len(outs) != 1:
            return None
        found += [tensors[0].astype(np.float64), outs[0].astype(np.float64)]
    x_t, c_t, x_m, c_m = found
    if x_t.shape != x_m.shape or c_t.shape != c_m.shape:
        return None
    return x_t, c_t, x_m, c_m


def _bound(layer, param: str, x_t, c_t, x_m, c_m, dtype: str) -> np.ndarray | None:
    import torch

    layer64 = copy.deepcopy(layer).double()
    target = dict(layer64.named_parameters()).get(param)
    if target is None:
        return None

    def grad(x, c) -> np.ndarray:  # B(x, c): the parameter's gradient at input x and output gradient c
        target.grad = None
        with torch.enable_grad():
            out = layer64(torch.from_numpy(np.ascontiguousarray(x)))
            out.backward(torch.from_numpy(np.ascontiguousarray(c)).reshape(out.shape))
        return target.grad.detach().numpy().copy()

    try:
        counts = grad(np.ones_like(x_t), np.ones_like(c_t))
        rounding_terms = grad(np.abs(x_m), np.abs(c_m)) + grad(np.abs(x_t), np.abs(c_t))
        reached = grad(np.abs(x_m - x_t), np.abs(c_m)) + grad(np.abs(x_t), np.abs(c_m - c_t))
    except (RuntimeError, ValueError):  # a layer whose recorded arrays do not fit a call alone keeps its verdict
        return None
    return rounding.allowance(rounding_terms, counts, dtype) + reached


def _judge(out, a: np.ndarray, b: np.ndarray, bound: np.ndarray, layer: str) -> int:
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not (np.isfinite(a64).all() and np.isfinite(b64).all()):
        return 0
    gap = np.abs(a64 - b64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.max(np.where(bound > 0, gap / bound, np.where(gap > 0, np.inf, 0.0)), initial=0.0))
    record = dict(out.attribution or {})
    record["layer_bound"] = {"layer": layer, "bound": float(np.max(bound, initial=0.0)), "ratio": ratio}
    if ratio <= 1.0:
        record.update(within_noise=True, verdict=f"pass (within {layer}'s rounding and what reached it)",
                      statement=f"explained by {layer}: both sides' rounding of its sums and the differences of its input "
                                f"and output gradient ({ratio:.2g}x that bound)")
    out.attribution = record
    return int(ratio <= 1.0)
