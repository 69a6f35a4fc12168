"""--trials N: N independent seeds per case; the record keeps the worst trial and the spread of max_abs."""

from __future__ import annotations

import statistics

import numpy as np

from eqcheck.verdict.results import (
    ERROR, EXPECTED_DIFFERENCE, FAIL, NONDETERMINISTIC, PASS, UNEXPECTED_PASS, UNSUPPORTED, CaseResult,
)

_SEVERITY = {PASS: 0, UNSUPPORTED: 1, EXPECTED_DIFFERENCE: 2, UNEXPECTED_PASS: 3, FAIL: 4, NONDETERMINISTIC: 5, ERROR: 6}


def trial_seeds(seed: int, count: int) -> list[int]:
    """Trial 0 uses --seed itself (so --trials 1 is the plain run); later trials derive from (seed, i)."""
    return [seed] + [int(np.random.SeedSequence([seed, i]).generate_state(1)[0]) for i in range(1, count)]


def _score(result: CaseResult, confirmed: bool = False) -> tuple:
    severity = _SEVERITY.get(result.status, 0)
    if confirmed and result.status == UNEXPECTED_PASS:
        severity = _SEVERITY[PASS]  # a draw without the difference (no ties drawn) does not make the declaration stale
    rows = [o for o in result.outputs if o.deviation is not None]
    worst_fraction = max((o.deviation.mismatched_fraction for o in rows), default=0.0)
    worst_excess = max((o.deviation.max_abs / max(o.deviation.tolerance.atol, 1e-300) for o in rows
                        if o.deviation.max_abs == o.deviation.max_abs), default=0.0)
    return severity, worst_fraction, worst_excess


def combine(results: list[CaseResult], seeds: list[int]) -> CaseResult:
    """The worst trial's record, plus `trials`: seeds, each trial's status and min/median/max of max_abs per output.

    A declared difference that shows in any trial is confirmed: it may depend on the draw (ties in topk), so only a
    difference that no trial shows makes the case `unexpected_pass`.
    """
    confirmed = any(r.status == EXPECTED_DIFFERENCE for r in results)
    worst_index = max(range(len(results)), key=lambda i: _score(results[i], confirmed))
    worst = results[worst_index]
    spread: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(o.name for r in results for o in r.outputs):
        values = [o.deviation.max_abs for r in results for o in r.outputs
                  if o.name == name and o.deviation is not None and o.deviation.max_abs == o.deviation.max_abs]
        if values:
            spread[name] = {"min": min(values), "median": float(statistics.median(values)), "max": max(values)}
    worst.details["trials"] = {
        "count": len(results),
        "seeds": seeds,
        "statuses": [r.status for r in results],
        "worst_seed": seeds[worst_index],
        "max_abs": spread,
    }
    if worst_index:
        note = f"worst of {len(results)} trials: seed {seeds[worst_index]}"
        worst.message = f"{worst.message}; {note}" if worst.message else note
    worst.duration_s = sum(r.duration_s for r in results)
    return worst
