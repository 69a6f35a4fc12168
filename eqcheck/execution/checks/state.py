"""Training state: buffers (BatchNorm running statistics) after the call, compared under canonical names."""

from __future__ import annotations

from eqcheck.cases import weights
from eqcheck.cases.sweep import Case
from eqcheck.verdict.results import CaseResult


def compare_state(runner, case: Case, result: CaseResult, built, weight_map: weights.WeightMap, params) -> None:
    """Buffers (running statistics) after the call, brought back to canonical names and layout."""
    stateful = [w for w in weight_map.weights
                if w.integer_default is None and not any(params[fw][s.param].trainable for fw, s in w.sides.items())]
    if not stateful:
        return
    canonical = {}
    for t in runner.targets:
        backend = runner.backends[t.label]
        read = runner.step(t, case, "read state", lambda: backend.read(built[t.label]))
        canonical[t.label] = weight_map.to_canonical(t.framework, read)
    a_label, b_label = (t.label for t in runner.targets)
    rows = []
    for w in stateful:
        a, b = canonical[a_label][w.name], canonical[b_label][w.name]
        name = f"state:{w.name}"
        rows.append((runner.row(name, "state", a, b, case.tolerance(name)), a, b))
    runner.add_rows(result, rows)
