"""`kind: optimizer`: one optimizer pair over shared parameters, fed the same seeded gradients for a few steps.

The spec's inputs are the parameters (drawn once, identical bytes on both sides); each step draws one gradient per
parameter from the case's "gradients" stream, both optimizers apply it, and every parameter (and each optimizer
state the spec maps, e.g. Adam's exp_avg) is compared after every step. No loss and no model: an optimizer's
update rule is judged on its own, so a difference is the optimizer's, never a gradient's.
"""

from __future__ import annotations

import numpy as np

from eqcheck.cases import draws
from eqcheck.cases.sweep import Case
from eqcheck.execution.failures import CaseFailure
from eqcheck.spec.fields import join
from eqcheck.verdict.compare import json_safe
from eqcheck.verdict.results import ERROR, FAIL, PASS, CaseResult


def draw_gradients(case: Case, seed: int, shapes: list[tuple[int, ...]]) -> list[list[np.ndarray]]:
    """steps x parameters gradients, in the case dtype, from their own seeded stream (the same on every side)."""
    run = case.spec.optimizer
    rng = draws.case_rng(seed, case.id, "gradients")
    args = case.distribution_args(run.gradients, join("optimizer", "gradients"))
    return [[draws.draw(rng, run.gradients.kind, args, shape, case.dtype) for shape in shapes] for _ in range(run.steps)]


def _build(runner, case: Case, t, initial: dict[str, np.ndarray]):
    backend, obj = runner.backends[t.label], runner.resolved[(case.spec.path, t.framework)]
    init = {k: runner.materialize(case, backend, v) for k, v in case.init_args(t.framework).items()}
    arrays = [initial[inp.name] for inp in case.spec.inputs]
    return runner.step(t, case, "build the optimizer", lambda: backend.optimizer_over(obj, arrays, init))


def attempt(runner, case: Case, target, seed: int) -> None:
    """One side alone: build its optimizer and take every step (CaseFailure naming that side when it refuses)."""
    initial = runner.source.inputs(case, seed)
    gradients = draw_gradients(case, seed, [initial[inp.name].shape for inp in case.spec.inputs])
    backend, (optimizer, params) = runner.backends[target.label], _build(runner, case, target, initial)
    for step, grads in enumerate(gradients, 1):
        runner.step(target, case, f"step (step {step})", lambda: backend.optimizer_step(optimizer, params, grads))


def run(runner, case: Case, result: CaseResult, seed: int) -> None:
    spec, plan = case.spec, case.spec.optimizer
    initial = runner.source.inputs(case, seed)
    names = [inp.name for inp in spec.inputs]
    gradients = draw_gradients(case, seed, [initial[n].shape for n in names])
    built = {}
    for t in runner.targets:
        built[t.label] = _build(runner, case, t, initial)
        result.sides[t.label] = {"op": spec.sides[t.framework].op, "init": json_safe(case.init_args(t.framework)), "call": {},
                                 "inputs": [{"name": n, "shape": list(initial[n].shape), "dtype": case.dtype} for n in names]}
    a_label, b_label = (t.label for t in runner.targets)
    tolerance = case.tolerance()
    rows, first = [], None
    compared = dict(plan.state)
    for step in range(1, plan.steps + 1):
        values, states = {}, {}
        for t in runner.targets:
            backend, (optimizer, params) = runner.backends[t.label], built[t.label]
            runner.step(t, case, f"step (step {step})", lambda: backend.optimizer_step(optimizer, params, gradients[step - 1]))
            values[t.label] = runner.step(t, case, "read the parameters", lambda: backend.parameter_values(params))
            if step == 1 and t is runner.targets[0] and case.sample is not None:
                compared = _kept_by_reference(runner, case, t, optimizer, params, compared)
            states[t.label] = {key: _state(runner, t, case, backend, optimizer, params, key, attribute)
                               for key, attribute in compared.items()}
        for i, name in enumerate(names):
            rows.append(_row(runner, f"step{step}:{name}", "train", values[a_label][i], values[b_label][i], tolerance))
            for key in compared:
                rows.append(_row(runner, f"step{step}:{key}:{name}", "state", states[a_label][key][i], states[b_label][key][i], tolerance))
        if first is None:
            first = next(({"step": step, "row": row.name} for row, _, _ in rows if not row.passed), None)
    runner.add_rows(result, rows)
    result.details["optimizer"] = {"steps": plan.steps, "parameters": names, "state": dict(plan.state),
                                   "gradients": plan.gradients.describe(), "tolerance": tolerance.as_dict(),
                                   "first_divergent": first}
    if compared != plan.state:
        result.details["optimizer"]["state_not_kept"] = sorted(set(plan.state) - set(compared))
    result.status = PASS if all(o.passed for o in result.outputs) else FAIL
    if first:
        result.message = f"parameters or state differ after optimizer step {first['step']}, first in {first['row']}"


def _kept_by_reference(runner, case: Case, t, optimizer, params, state: dict[str, str]) -> dict[str, str]:
    """An explored sample's configuration may keep less state than the spec's (torch's SGD keeps no momentum_buffer
    at momentum=0): the mapped states the reference keeps after its first step; the others are not compared."""
    backend, kept = runner.backends[t.label], {}
    for key, attribute in state.items():
        try:
            backend.optimizer_state(optimizer, params, key if t.framework == "torch" else attribute)
        except (KeyError, AttributeError):
            continue
        kept[key] = attribute
    return kept


def _state(runner, t, case, backend, optimizer, params, key: str, attribute: str) -> list[np.ndarray]:
    """State `key` (torch's name) on this side: torch reads optimizer.state[p][key], MindSpore the mapped attribute."""
    name = key if t.framework == "torch" else attribute
    try:
        return runner.step(t, case, f"read optimizer state '{name}'", lambda: backend.optimizer_state(optimizer, params, name))
    except CaseFailure as failure:
        if isinstance(failure.__cause__, KeyError):
            raise CaseFailure(ERROR, f"{t.label} optimizer keeps no state '{name}' (spec optimizer.state.{key})", t.label) from None
        raise


def _row(runner, name, kind, a, b, tolerance):
    row = runner.row(name, kind, a, b, tolerance)
    return row, a, b
