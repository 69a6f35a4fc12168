"""`kind: schedule`: a learning-rate schedule pair, compared as the sequence of learning rates over `steps` steps.

A scheduler class wraps a one-parameter optimizer at the spec's `lr` on each side (torch.optim.SGD, MindSpore's
mindspore.experimental.optim.SGD) and steps `steps - 1` times; a function (mindspore.nn.piecewise_constant_lr, ...)
returns the list itself. Entry i is the rate step i trains with, so index 0 is the rate before any step.
"""

from __future__ import annotations

import numpy as np

from eqcheck.cases.sweep import Case
from eqcheck.execution.failures import CaseFailure
from eqcheck.verdict.compare import json_safe
from eqcheck.verdict.results import ERROR, FAIL, PASS, CaseResult


def attempt(runner, case: Case, target, seed: int) -> np.ndarray:
    """One side's learning rates (CaseFailure naming that side when it refuses the arguments)."""
    spec, run = case.spec, case.spec.schedule
    backend, obj = runner.backends[target.label], runner.resolved[(spec.path, target.framework)]
    init = {k: runner.materialize(case, backend, v) for k, v in case.init_args(target.framework).items()}
    return np.asarray(runner.step(target, case, "compute the learning rates",
                                  lambda: backend.learning_rates(obj, init, run.steps, run.lr, run.metrics)), np.float64)


def run(runner, case: Case, result: CaseResult, seed: int) -> None:
    spec, plan = case.spec, case.spec.schedule
    rates = {}
    for t in runner.targets:
        rates[t.label] = attempt(runner, case, t, seed)
        result.sides[t.label] = {"op": spec.sides[t.framework].op, "init": json_safe(case.init_args(t.framework)), "call": {},
                                 "inputs": []}
    (a_label, a), (b_label, b) = rates.items()
    if a.shape != b.shape:
        raise CaseFailure(ERROR, f"the schedules differ in length: {a_label} gave {a.size} rates, {b_label} {b.size} "
                                 f"(schedule.steps is {plan.steps})")
    tolerance = case.tolerance()
    row = runner.row("lr", "output", a, b, tolerance)
    runner.add_rows(result, [(row, a, b)])
    close = np.isclose(a, b, rtol=tolerance.rtol, atol=tolerance.atol)
    first = int(np.argmin(close)) if not close.all() else None
    result.details["schedule"] = {"steps": plan.steps, "lr": plan.lr, "metrics": list(plan.metrics) or None,
                                  "first_divergent": None if first is None else {"step": first, a_label: float(a[first]), b_label: float(b[first])}}
    result.status = PASS if row.passed else FAIL
    if first is not None:
        result.message = f"the learning rates differ from step {first}: {a_label} {a[first]:.6g}, {b_label} {b[first]:.6g}"
