"""--grad: one shared seeded cotangent per float output; gradients w.r.t. float inputs and trainable parameters,
parameter gradients brought back to canonical names through the weight map."""

from __future__ import annotations

import numpy as np

from eqcheck.cases import weights
from eqcheck.cases.sweep import Case
from eqcheck.dtypes import is_float
from eqcheck.errors import EqcheckError
from eqcheck.verdict.results import UNSUPPORTED, CaseResult, OutputResult
from eqcheck.execution import replay
from eqcheck.execution.checks import determinism
from eqcheck.execution.failures import CaseFailure, short_error
from eqcheck.execution.trial import Trial


def differentiable_inputs(runner, case: Case) -> list[str]:
    """Float inputs on every side, except those the spec marks `grad: false` (labels, targets)."""
    return [inp.name for inp in case.spec.inputs
            if inp.grad and all(is_float(case.input_dtype(inp, t.framework)) for t in runner.targets)]


def side_gradients(runner, case: Case, t, built, side_weights, inputs, wrt, cotangents):
    """This side's (input gradients, parameter gradients by side name), weights reloaded first so that a
    train-mode forward's buffer updates do not leak into the gradient pass."""
    backend = runner.backends[t.label]
    backend.load(built, side_weights)
    tensors = {inp.name: runner.input_tensor(case, backend, inputs[inp.name], case.input_dtype(inp, t.framework))
               for inp in case.spec.inputs}
    return backend.grad(built, lambda ts: runner.pack(case, t, ts), tensors, wrt, cotangents)


def _watched_gradients(runner, case: Case, t, built, side_weights, inputs, wrt, cotangents):
    """side_gradients with the layer hooks of a model spec on (execution/layers.py)."""
    def through_tensor_hooks(why: str):
        with runner.watch_layers(t, built, "backward", through_inputs=True):
            grads = side_gradients(runner, case, t, built, side_weights, inputs, wrt, cotangents)
        runner.layers.through_inputs.add(t.label)
        runner.layers.notes["backward"] = f"{t.label} {why}, so its layer gradients were recorded through tensor hooks on each layer's inputs instead."
        return grads

    keyword = runner.layers.keyword_called(t.label) if runner.layers is not None and runner.backends[t.label].keyword_gradients else []
    if keyword:  # full backward hooks see positional inputs only: tensor hooks see keyword inputs too
        return through_tensor_hooks(f"calls {len(keyword)} layers with tensors by keyword ({keyword[0]}, ...), which full "
                                    f"backward hooks do not see")
    try:
        with runner.watch_layers(t, built, "backward"):
            return side_gradients(runner, case, t, built, side_weights, inputs, wrt, cotangents)
    except RuntimeError as exc:
        if runner.layers is None or "BackwardHook" not in str(exc):
            raise
        # torch's full backward hooks refuse an in-place op on a hooked output inside forward() (`h += residual`):
        # record the same input gradients through tensor hooks; failing that, compare without the layer walk.
        refusal = str(exc).split(". ")[0].strip().rstrip(".")
        try:
            return through_tensor_hooks(f"refused full backward hooks because forward() modifies a layer's output in place ({refusal})")
        except RuntimeError as again:
            runner.layers.problems["backward"] = (
                f"{t.label} refused backward hooks because forward() modifies a layer's output in place ({refusal}), "
                f"and tensor hooks on the layers' inputs failed too ({short_error(again)}), so the gradients are "
                f"compared without the layer walk.")
            return side_gradients(runner, case, t, built, side_weights, inputs, wrt, cotangents)


def row_names(weight_map: weights.WeightMap, wrt: list[str], framework: str, grads) -> dict[str, np.ndarray]:
    """Gradient rows by row name (grad:<input>, grad:<weight>), parameters in canonical names and layout."""
    input_grads, param_grads = grads
    rows = {f"grad:{name}": input_grads[name] for name in wrt}
    canonical = weight_map.to_canonical(framework, param_grads)
    for w in weight_map.weights:
        if w.name in canonical:
            rows[f"grad:{'param.' if w.name in wrt else ''}{w.name}"] = canonical[w.name]
    return rows


def _flat(grads) -> list[tuple[str, np.ndarray]]:
    """A side's gradients as one list, for the bitwise --repeat comparison."""
    inputs, params = grads
    return [*((f"grad:{k}", np.asarray(v)) for k, v in inputs.items()), *((f"grad:param.{k}", np.asarray(v)) for k, v in params.items())]


def compare_gradients(runner, trial: Trial, result: CaseResult) -> None:
    """Both sides' gradients for the trial's cotangents w.r.t. `trial.wrt` and the parameters, one row each."""
    case, built, loaded, inputs, wrt, cotangents = trial.case, trial.built, trial.loaded, trial.inputs, trial.wrt, trial.cotangents
    weight_map = trial.weight_map
    grads = {}

    for t in runner.targets:
        try:
            grads[t.label] = _watched_gradients(runner, case, t, built[t.label], loaded[t.label], inputs, wrt, cotangents)
            if case.spec.repeat > 1:  # --repeat: the gradients of identical calls must match bit for bit too
                again = lambda t=t: _flat(side_gradients(runner, case, t, built[t.label], loaded[t.label], inputs, wrt, cotangents))
                determinism.check_repeats(result, t.label, "gradient", _flat(grads[t.label]), again, case.spec.repeat)
        except (EqcheckError, CaseFailure):
            raise
        except Exception as exc:  # noqa: BLE001 - no gradient on this side: unsupported for grad, not a crash
            runner.backends[t.label].recover()
            message = f"{t.label} cannot compute gradients: {short_error(exc)}"
            result.details["gradients"] = {"status": UNSUPPORTED, "message": message}
            result.outputs.append(OutputResult("grad", [], {}, None, f"unsupported: {message}", kind="grad"))
            return
    (a_label, a_fw), (b_label, b_fw) = ((t.label, t.framework) for t in runner.targets)
    named_a = row_names(weight_map, wrt, a_fw, grads[a_label])
    named_b = row_names(weight_map, wrt, b_fw, grads[b_label])
    one_sided = {f"grad:{w.name}" for w in weight_map.weights if len(w.sides) == 1}  # an unmapped parameter's init
    tolerance = case.grad_tolerance()
    rows = []
    for name in dict.fromkeys([*named_a, *named_b]):
        if name in named_a and name in named_b:
            a, b = named_a[name], named_b[name]
            rows.append((runner.row(name, "grad", a, b, tolerance), a, b))
        else:
            missing = b_label if name in named_a else a_label
            present = named_a.get(name, named_b.get(name))
            reason = ("unshared parameter (unmapped): one side only" if name in one_sided
                      else f"no gradient on {missing}: the parameter is not trainable there")
            result.outputs.append(OutputResult(name, list(present.shape), {}, None, reason, kind="grad"))
    runner.add_rows(result, rows)
    if runner.layers is not None:
        cand = runner.targets[1]
        if runner.source.extra_calls:  # local backward verdicts (execution/replay.py)
            runner.layers.local_backward = replay.replay_backward(runner.layers, runner.backends[cand.label], built[cand.label],
                                                                  cand.label, case.dtype)
        backward = runner.layers.report(case, "backward")
        if backward is not None:
            result.details.setdefault("layers", {})["backward"] = backward
    result.details["gradients"] = {"status": "compared", "wrt_inputs": wrt, "tolerance": tolerance.as_dict(),
                                   "cotangent": "normal(0, 1), seeded per case, one per float output"}
