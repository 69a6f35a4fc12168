"""Training state: buffers (BatchNorm running statistics) after the call, compared under canonical names."""

from __future__ import annotations

from eqcheck.cases import weights
from eqcheck.cases.sweep import Case
from eqcheck.execution.trial import Trial
from eqcheck.verdict.results import CaseResult


def stateful_weights(weight_map: weights.WeightMap, params) -> list:
    """Buffers: mapped entries trainable on no side (integer counters excluded)."""
    return [w for w in weight_map.weights
            if w.integer_default is None and not any(params[fw][s.param].trainable for fw, s in w.sides.items())]


def side_state(runner, case: Case, t, built, weight_map: weights.WeightMap, stateful) -> dict:
    """This side's buffers after the call, by row name (state:<weight>), in canonical names and layout."""
    backend = runner.backends[t.label]
    read = runner.step(t, case, "read state", lambda: backend.read(built))
    canonical = weight_map.to_canonical(t.framework, read)
    return {f"state:{w.name}": canonical[w.name] for w in stateful}


def compare_state(runner, trial: Trial, result: CaseResult) -> None:
    """Buffers (running statistics) after the call, brought back to canonical names and layout."""
    case, stateful = trial.case, trial.state_rows
    if not stateful:
        return
    a, b = (side_state(runner, case, t, trial.built[t.label], trial.weight_map, stateful) for t in runner.targets)
    rows = [(runner.row(name, "state", a[name], b[name], case.tolerance(name)), a[name], b[name]) for name in a]
    runner.add_rows(result, rows)
