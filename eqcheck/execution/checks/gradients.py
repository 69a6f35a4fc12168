"""--grad: one shared seeded cotangent per float output; gradients w.r.t. float inputs and trainable parameters,
parameter gradients brought back to canonical names through the weight map."""

from __future__ import annotations

import numpy as np

from eqcheck.cases import draws, weights
from eqcheck.cases.sweep import Case
from eqcheck.dtypes import is_float
from eqcheck.errors import EqcheckError
from eqcheck.verdict.results import UNSUPPORTED, CaseResult, OutputResult
from eqcheck.execution.checks import determinism
from eqcheck.execution.failures import CaseFailure, short_error


def draw_cotangents(runner, case: Case, seed: int, flat) -> list[np.ndarray | None]:
    """One seeded cotangent per float output (same bytes on both sides); None for ignored or integer outputs."""
    rng = draws.case_rng(seed, case.id, "cotangent")
    specs = case.spec.outputs
    out = []
    for i, (_, array) in enumerate(flat[runner.targets[0].label]):
        ignored = specs[i].ignore if specs and i < len(specs) else None
        if ignored or not np.issubdtype(array.dtype, np.floating):
            out.append(None)
            continue
        out.append(draws.draw(rng, "normal", {"mean": 0.0, "std": 1.0}, array.shape, case.dtype).astype(array.dtype))
    return out

def _flat(grads) -> list[tuple[str, np.ndarray]]:
    inputs, params = grads
    return [*((f"grad:{k}", np.asarray(v)) for k, v in inputs.items()), *((f"grad:param.{k}", np.asarray(v)) for k, v in params.items())]


def compare_gradients(runner, case: Case, result: CaseResult, seed: int, built, weight_map: weights.WeightMap,
               loaded, inputs, flat) -> None:
    spec = case.spec
    cotangents = draw_cotangents(runner, case, seed, flat)
    wrt = [inp.name for inp in spec.inputs
           if all(is_float(case.input_dtype(inp, t.framework)) for t in runner.targets)]
    runner.materials.update(cotangents=cotangents, wrt=wrt)
    grads = {}

    def backward(t):
        backend = runner.backends[t.label]
        # Reload first: a train-mode forward updated the buffers, and the gradient pass must see the same state.
        backend.load(built[t.label], loaded[t.label])
        tensors = {inp.name: backend.tensor(inputs[inp.name], case.input_dtype(inp, t.framework)) for inp in spec.inputs}
        return backend.grad(built[t.label], lambda ts, t=t: runner.pack(case, t, ts), tensors, wrt, cotangents)

    for t in runner.targets:
        backend = runner.backends[t.label]
        try:
            grads[t.label] = backward(t)
            if spec.repeat > 1:  # --repeat: the gradients of identical calls must match bit for bit too
                determinism.check_repeats(result, t.label, "gradient", _flat(grads[t.label]), lambda t=t: _flat(backward(t)), spec.repeat)
        except (EqcheckError, CaseFailure):
            raise
        except Exception as exc:  # noqa: BLE001 - no gradient on this side: unsupported for grad, not a crash
            backend.recover()
            message = f"{t.label} cannot compute gradients: {short_error(exc)}"
            result.details["gradients"] = {"status": UNSUPPORTED, "message": message}
            result.outputs.append(OutputResult("grad", [], {}, None, f"unsupported: {message}", kind="grad"))
            return
    a_label, b_label = (t.label for t in runner.targets)
    a_fw, b_fw = (t.framework for t in runner.targets)
    tolerance = case.grad_tolerance()
    rows = []
    for name in wrt:
        a, b = grads[a_label][0][name], grads[b_label][0][name]
        rows.append((runner.row(f"grad:{name}", "grad", a, b, tolerance), a, b))
    param_a = weight_map.to_canonical(a_fw, grads[a_label][1])
    param_b = weight_map.to_canonical(b_fw, grads[b_label][1])
    input_names = set(wrt)
    for w in weight_map.weights:
        if w.name not in param_a and w.name not in param_b:
            continue  # a buffer, or frozen on both sides
        name = f"grad:{'param.' if w.name in input_names else ''}{w.name}"
        if w.name in param_a and w.name in param_b:
            a, b = param_a[w.name], param_b[w.name]
            rows.append((runner.row(name, "grad", a, b, tolerance), a, b))
        else:
            missing = b_label if w.name in param_a else a_label
            present = param_a.get(w.name, param_b.get(w.name))
            reason = f"no gradient on {missing}: the parameter is not trainable there"
            result.outputs.append(OutputResult(name, list(present.shape), {}, None, reason, kind="grad"))
    runner.add_rows(result, rows)
    result.details["gradients"] = {"status": "compared", "wrt_inputs": wrt, "tolerance": tolerance.as_dict(),
                                   "cotangent": "normal(0, 1), seeded per case, one per float output"}
