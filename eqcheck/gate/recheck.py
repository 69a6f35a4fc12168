"""A case's verdict is a property of the case: `eqcheck recheck` runs cases of a catalog run again, each in a worker
process of its own (--fresh), and compares. Pure: which cases to take, and what differs.

- `--sample N`: a seeded random sample of the run's cases; every status, failing row and max |diff| must be the same
  as in the catalog run (cases covered by an intermittent declaration, or by one naming uninitialised rows, are
  left out: they may differ by design).
- `--intermittent N`: every case an intermittent declaration covers, N times; per declaration, in how many runs it
  showed: 0 retires it, N confirms it is not intermittent, anything between is the new measured count.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

RTOL = 1e-9  # the same inputs and kernels give the same bits; the slack is the JSON round trip's


def sample(cases: list[dict], count: int, seed: int, skip: set[str] = frozenset()) -> list[str]:
    """`count` case ids drawn with `seed` from the run's cases (sorted first: the draw does not depend on run order)."""
    ids = sorted(c["id"] for c in cases if c["id"] not in skip)
    return sorted(random.Random(seed).sample(ids, min(count, len(ids))))


def _failing(case: dict) -> dict[str, Any]:
    return {o["name"]: o.get("max_abs") for o in case.get("outputs") or [] if o.get("passed") is False}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or math.isclose(a, b, rel_tol=RTOL)
    return a == b


def differences(catalog: list[dict], fresh: list[dict]) -> list[str]:
    """One line per case whose fresh run differs from the catalog run: status, failing rows, or a row's max |diff|."""
    before = {c["id"]: c for c in catalog}
    out = []
    for case in fresh:
        old = before.get(case["id"])
        if old is None:
            out.append(f"{case['id']}: not in the catalog run")
            continue
        if any((c.get("expected_difference") or {}).get("uninitialised") for c in (old, case)):
            continue  # declared memory a kernel leaves unwritten: what it holds depends on what ran before, by design
        if old["status"] != case["status"]:
            out.append(f"{case['id']}: {old['status']} in the catalog run, {case['status']} alone"
                       + (f" ({case['message']})" if case.get("message") else ""))
            continue
        rows_old, rows_new = _failing(old), _failing(case)
        if set(rows_old) != set(rows_new):
            out.append(f"{case['id']}: failing rows {sorted(rows_old)} in the catalog run, {sorted(rows_new)} alone")
            continue
        for name in rows_old:
            if not _same(rows_old[name], rows_new[name]):
                out.append(f"{case['id']} {name}: max_abs {rows_old[name]} in the catalog run, {rows_new[name]} alone")
    return out


def shown(runs: list[list[dict]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(spec, declaration) -> (runs in which it matched a case, runs), over repeated runs of the same cases."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, len(runs)])
    for cases in runs:
        matched = set()
        for case in cases:
            name = (case.get("expected_difference") or {}).get("declaration") or case.get("covered_by")
            if name:
                counts[(case["spec"], name)]
                if case["status"] == "expected_difference":
                    matched.add((case["spec"], name))
        for key in matched:
            counts[key][0] += 1
    return {key: (k, n) for key, (k, n) in counts.items()}
