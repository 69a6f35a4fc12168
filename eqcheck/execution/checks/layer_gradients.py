"""Model specs: a whole-model row that one paired layer produced -- a parameter's gradient, or the model's output --
judged by what that layer saw, so that no side needs a float64 run of the whole model.

Whole-model rows accumulate every upstream difference, and MindSpore's CPU convolutions refuse float64, so its own
rounding cannot be measured on the whole model. Let F be the torch layer in float64 (its output, or its parameter's
gradient given the gradient reaching its output), evaluated on what each side's layer received (x_T and x_M, the
recorded inputs; c_T and c_M, the recorded output gradients). Then, exactly,

    G_M - G_T = (G_M - F(x_M, c_M))  +  (F(x_M, c_M) - F(x_T, c_T))  +  (F(x_T, c_T) - G_T)
                 MindSpore's local       what reached the layer:          torch's local
                 error                   judged at the rows upstream      error

so the row is explained once each side's local error is rounding-sized. For a multilinear layer (Conv, Linear) that
is Higham's bound gamma_n * F(|x|, |c|) (the layer on absolute values; n from the layer on ones), rigorous for any
summation order on any CPU; for any other layer the fallback of verdict/attribution.py (at most sqrt(eps) x the
row's scale, or what the other side's local error shows as well). A planted bug in the layer's kernel is its own
local error and fails; a bug upstream fails at its own layer's row.
"""

from __future__ import annotations

import copy

import numpy as np

from eqcheck.execution.trial import Trial
from eqcheck.verdict import attribution, rounding
from eqcheck.verdict.compare import json_safe
from eqcheck.verdict.results import CaseResult


def explain(runner, trial: Trial, result: CaseResult) -> int:
    """Attach the layer's local judgement to every failing whole-model row one paired layer produced; the number of
    rows it explains."""
    session = runner.layers
    if session is None or len(runner.targets) != 2 or runner.targets[0].framework != "torch":
        return 0
    ref, cand = (t.label for t in runner.targets)
    module = getattr(trial.built[ref], "module", None)
    forward, backward = session.watches["forward"], session.watches["backward"]
    if module is None or not all(label in forward for label in (ref, cand)):
        return 0
    explained = 0
    owners = _parameter_owners(trial, session)
    for out in result.outputs:
        if out.passed or out.name not in result.arrays.get(ref, {}) or out.name not in result.arrays.get(cand, {}):
            continue
        a, b = result.arrays[ref][out.name], result.arrays[cand][out.name]
        if out.kind == "grad" and out.name in owners and all(label in backward for label in (ref, cand)):
            pair, param = owners[out.name]
            recorded = _recorded(forward, backward, pair, ref, cand)
            layer = LayerFunction(module.get_submodule(pair.ref), param) if recorded else None
        elif out.kind == "output":
            pair = _producer(forward, session, ref, cand, a, b)
            recorded = _recorded(forward, None, pair, ref, cand) if pair else None
            layer = LayerFunction(module.get_submodule(pair.ref), None) if recorded else None
        else:
            continue
        if layer is None:
            continue
        try:
            explained += _judge(out, a, b, layer, recorded, trial.case.dtype, pair, (ref, cand))
        except (RuntimeError, ValueError, TypeError):  # the recorded arrays do not fit a call of the layer alone
            continue
    return explained


class LayerFunction:
    """F: a copy of the torch layer in float64 -- its output (`param` None) or one parameter's gradient given the
    gradient reaching its output -- on recorded arrays; `absolute` evaluates it on |x|, |c| and |weights|."""

    def __init__(self, layer, param: str | None):
        self.layer, self.param = layer, param
        self.multilinear = rounding.structure(f"torch.nn.{type(layer).__name__}") == "multilinear"

    def __call__(self, x: np.ndarray, c: np.ndarray | None, weights=lambda w: w) -> np.ndarray:
        import torch

        layer = copy.deepcopy(self.layer).double()
        with torch.no_grad():
            for p in layer.parameters():
                p.copy_(weights(p))
        inp = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
        if self.param is None:
            with torch.no_grad():
                return layer(inp).numpy().copy()
        target = dict(layer.named_parameters())[self.param]
        with torch.enable_grad():
            out = layer(inp)
            out.backward(torch.from_numpy(np.ascontiguousarray(c, dtype=np.float64)).reshape(out.shape))
        return target.grad.numpy().copy()

    def bound(self, x: np.ndarray, c: np.ndarray | None, dtype: str) -> np.ndarray | None:
        """Higham's bound of one side's local rounding, for a multilinear layer; None for any other."""
        if not self.multilinear:
            return None
        absolute = self(np.abs(x), None if c is None else np.abs(c), weights=lambda w: w.abs())
        counts = self(np.ones_like(x), None if c is None else np.ones_like(c), weights=lambda w: w.abs() * 0 + 1)
        return rounding.allowance(absolute, counts, dtype)


def _parameter_owners(trial: Trial, session) -> dict[str, tuple]:
    """grad:<canonical name> -> (layer pair, parameter name inside the torch layer), where the canonical layout is
    torch's (no transform to undo)."""
    pairs = {pair.ref: pair for pair in session.pairs}
    owners = {}
    for w in trial.weight_map.weights:
        side = w.sides.get("torch")
        if side is None or side.transforms or "." not in side.param:
            continue
        path, param = side.param.rsplit(".", 1)
        if path in pairs:
            owners[f"grad:{w.name}"] = (pairs[path], param)
    return owners


def _producer(forward, session, ref: str, cand: str, a: np.ndarray, b: np.ndarray):
    """The paired layer whose one recorded output is exactly this row on both sides (the model's last layer)."""
    for pair in session.pairs:
        outs = [forward[label].records.get(path, []) for label, path in ((ref, pair.ref), (cand, pair.cand))]
        if all(len(calls) == 1 and len(calls[0]) == 1 and isinstance(calls[0][0], np.ndarray) for calls in outs):
            mine, theirs = outs[0][0][0], outs[1][0][0]
            if mine.shape == np.shape(a) and theirs.size == np.size(b) and np.array_equal(mine, a) \
                    and np.array_equal(theirs.reshape(np.shape(b)), b):
                return pair
    return None


def _recorded(forward, backward, pair, ref: str, cand: str):
    """((x_T, c_T), (x_M, c_M)) of a layer called once on each side with one tensor input of the same shape (c None
    when `backward` is None), else None."""
    found = []
    for label, path in ((ref, pair.ref), (cand, pair.cand)):
        inputs = forward[label].inputs.get(path, [])
        keywords = getattr(forward[label], "keywords", {}).get(path, [{}])
        if len(inputs) != 1 or inputs[0] is None or any(keywords[:1]):
            return None
        tensors = [a for a in inputs[0] if isinstance(a, np.ndarray)]
        if len(tensors) != 1:
            return None
        c = None
        if backward is not None:
            cotangents = backward[label].cotangents.get(path, [])
            outs = [g for g in cotangents[0] if isinstance(g, np.ndarray)] if len(cotangents) == 1 else []
            if len(outs) != 1:
                return None
            c = outs[0].astype(np.float64)
        found.append((tensors[0].astype(np.float64), c))
    (x_t, c_t), (x_m, c_m) = found
    if x_t.size != x_m.size or (c_t is not None and c_t.size != c_m.size):
        return None
    return (x_t, c_t), (x_m.reshape(x_t.shape), None if c_m is None else c_m.reshape(c_t.shape))


def _judge(out, a, b, layer: LayerFunction, recorded, dtype: str, pair, labels: tuple[str, str]) -> int:
    (x_t, c_t), (x_m, c_m) = recorded
    f_t, f_m = layer(x_t, c_t), layer(x_m, c_m)
    if np.shape(f_t) != np.shape(a) or np.shape(f_m) != np.shape(b):
        return 0
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not (np.isfinite(a64).all() and np.isfinite(b64).all()):
        return 0
    ref, cand = labels
    local = {ref: np.abs(a64 - f_t), cand: np.abs(b64 - f_m)}
    bounds = {ref: layer.bound(x_t, c_t, dtype), cand: layer.bound(x_m, c_m, dtype)}
    scale = float(np.max(np.abs(f_t), initial=0.0))
    largest = {label: float(np.max(e, initial=0.0)) for label, e in local.items()}
    plausible = {}
    for label, error in local.items():
        if bounds[label] is not None:
            plausible[label] = bool(np.all(error <= bounds[label]))
        else:  # the fallback for a layer of unknown structure (verdict/attribution.py)
            other = max(v for k, v in largest.items() if k != label)
            plausible[label] = largest[label] <= max(attribution.plausible_fallback(dtype, scale),
                                                     attribution.PRECISION_OUTLIER_RATIO * other)
    name = pair.ref if pair.ref == pair.cand else f"{pair.ref} / {pair.cand}"
    record = dict(out.attribution or {})
    record["layer_local"] = {"layer": name, "local_error": largest, "rounding_sized": plausible,
                             "structure": "multilinear" if layer.multilinear else None,
                             "reached": float(np.max(np.abs(f_m - f_t), initial=0.0))}
    ok = all(plausible.values())
    if ok:
        record.update(within_noise=True, verdict=f"pass (local to {name}: rounding, plus what reached it)",
                      statement=f"{name} alone: each side's local error is rounding-sized ({ref} {largest[ref]:.3g}, "
                                f"{cand} {largest[cand]:.3g}); the rest reached it from upstream layers")
    else:
        off = [label for label, good in plausible.items() if not good]
        record["statement"] = (f"{name} alone: {' and '.join(off)}'s local error is more than rounding "
                               f"({ref} {largest[ref]:.3g}, {cand} {largest[cand]:.3g})")
    out.attribution = json_safe(record)
    return int(ok)
