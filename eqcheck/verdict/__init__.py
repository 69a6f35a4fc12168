"""Verdict: pure numpy judgement of two sides' outputs. `compare` computes the deviation metrics and the
tolerance rule, `attribution` decides against float64 re-runs which side is off and whether a deviation is only
the case dtype's rounding noise (the error budget, precision notes), `diagnosis` names the pattern a failing row
shows, and `results` holds the plain records (statuses, rows, case results) that the
execution layer fills and the reports render.

May import: `eqcheck.cases`, `eqcheck.spec`, `eqcheck.backends` and the package root. Never `execution`, `report`
or `gate`; no framework.
"""
