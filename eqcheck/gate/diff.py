"""`eqcheck diff OLD NEW`: what changed between two reports (a framework upgrade, a new eqcheck, new specs).

Pure data in, pure data out (the rich view is `report/diff_view.py`). Per case and output:

- **status changes**: a case that was not failing and now is (pass -> fail, -> error, -> unexpected_pass) is a
  *regression*; one that was failing and no longer is is *fixed*; other changes (pass -> unsupported,
  expected_difference -> pass …) are reported as *changed*.
- **outputs**: a row that passed and now fails inside a failing case is a regression (a second output going
  wrong in a case that already failed); a row added or removed is reported.
- **deviation growth**: max_abs of the same (case, output) grew by more than `rel_change` (default 10x) *and*
  now exceeds the floor `FLOOR_FRACTION x atol` of that row (a tenth of its absolute tolerance: 1e-6 for
  float32). Below the floor a growth is float noise (1e-9 -> 1e-8) and is not flagged. A growth is a
  regression even while the row still passes: it used up 10x more of the tolerance than before.
- **golden drift**: a target whose golden status became `drift` is a regression.
- **declared as noise**: a case whose declaration is intermittent may flip between pass and expected_difference,
  and a row declared `uninitialised` (memory a kernel leaves unwritten) has no meaningful max_abs: neither is a change.
- **cases added / removed**, and **environment** and **settings** differences (framework versions, seed …).

`regression` is true iff anything above is a regression; the CLI exits 1 then.
"""

from __future__ import annotations

import math
from typing import Any

from eqcheck.verdict.results import FAILING

DEFAULT_REL_CHANGE = 10.0
FLOOR_FRACTION = 0.1  # a growth counts only once the new max_abs exceeds this fraction of the row's atol
DIFF_FORMAT = "eqcheck-diff"
DIFF_VERSION = 1


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return math.inf  # a non-finite deviation is larger than any finite one
    return None


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def _key(out: dict) -> str:
    return out["name"]


def _status_kind(old: str, new: str) -> str:
    if new in FAILING and old not in FAILING:
        return "regression"
    if old in FAILING and new not in FAILING:
        return "fixed"
    return "changed"


def _intermittent(case: dict) -> bool:
    return bool((case.get("expected_difference") or {}).get("intermittent") or case.get("covered_intermittent"))


def _garbage(case: dict) -> set[str]:
    return set((case.get("expected_difference") or {}).get("uninitialised") or ())


def diff_documents(old: dict, new: dict, *, rel_change: float = DEFAULT_REL_CHANGE,
                   old_name: str = "OLD", new_name: str = "NEW") -> dict[str, Any]:
    changes: list[dict[str, Any]] = []
    old_cases = {c["id"]: c for c in old.get("cases", [])}
    new_cases = {c["id"]: c for c in new.get("cases", [])}
    added = [i for i in new_cases if i not in old_cases]
    removed = [i for i in old_cases if i not in new_cases]

    for case_id, nc in new_cases.items():
        oc = old_cases.get(case_id)
        if oc is None:
            if nc["status"] in FAILING:
                changes.append({"id": case_id, "output": None, "what": "status", "kind": "regression",
                                "old": None, "new": nc["status"], "note": "new case, failing" + (f": {nc['message']}" if nc.get("message") else "")})
            continue
        flips = _intermittent(oc) or _intermittent(nc)  # shown in some runs only: its status comes and goes
        if oc["status"] != nc["status"] and not (flips and {oc["status"], nc["status"]} <= {"pass", "expected_difference"}):
            kind = _status_kind(oc["status"], nc["status"])
            note = nc.get("message") if kind == "regression" else None
            changes.append({"id": case_id, "output": None, "what": "status", "kind": kind,
                            "old": oc["status"], "new": nc["status"], "note": note})
        old_outputs = {_key(o): o for o in oc.get("outputs") or []}
        new_outputs = {_key(o): o for o in nc.get("outputs") or []}
        for name, no in new_outputs.items():
            oo = old_outputs.get(name)
            if oo is None:
                if old_outputs:
                    changes.append({"id": case_id, "output": name, "what": "output", "kind": "changed",
                                    "old": None, "new": "added", "note": None})
                continue
            if oo.get("passed") is True and no.get("passed") is False and nc["status"] in FAILING \
                    and oc["status"] == nc["status"]:  # a status change already says so
                changes.append({"id": case_id, "output": name, "what": "passed", "kind": "regression",
                                "old": "pass", "new": "fail", "note": no.get("reason")})
            a, b = _number(oo.get("max_abs")), _number(no.get("max_abs"))
            if a is None or b is None or no.get("ignored") or name in _garbage(oc) | _garbage(nc):
                continue  # a declared row of uninitialised memory is compared as a symptom (its status), not by size
            atol = _number((no.get("tolerance") or {}).get("atol")) or 0.0
            floor = FLOOR_FRACTION * atol
            factor = math.inf if a == 0 else b / a
            if b > floor and factor > rel_change:
                changes.append({"id": case_id, "output": name, "what": "max_abs", "kind": "regression",
                                "old": oo.get("max_abs"), "new": no.get("max_abs"),
                                "factor": None if math.isinf(factor) else round(factor, 3),
                                "note": f"grew {'from exactly 0' if a == 0 else f'{factor:.3g}x'} (limit {rel_change:g}x, floor {floor:.1e})"})
            elif a > floor and b > 0 and a / b > rel_change:
                changes.append({"id": case_id, "output": name, "what": "max_abs", "kind": "improved",
                                "old": oo.get("max_abs"), "new": no.get("max_abs"), "factor": round(b / a, 6),
                                "note": f"shrank {a / b:.3g}x"})
        for name in old_outputs:
            if name not in new_outputs and new_outputs:
                changes.append({"id": case_id, "output": name, "what": "output", "kind": "changed",
                                "old": "present", "new": "removed", "note": None})
        old_golden, new_golden = oc.get("golden") or {}, nc.get("golden") or {}
        for label, entry in new_golden.items():
            before = (old_golden.get(label) or {}).get("status")
            if entry.get("status") == "drift" and before != "drift":
                changes.append({"id": case_id, "output": f"golden:{label}", "what": "golden", "kind": "regression",
                                "old": before, "new": "drift", "note": None})

    environment = []
    old_env, new_env = _flatten(old.get("environment", {})), _flatten(new.get("environment", {}))
    for key in sorted(set(old_env) | set(new_env)):
        if old_env.get(key) != new_env.get(key):
            environment.append({"key": key, "old": old_env.get(key), "new": new_env.get(key)})
    settings = []
    for key in ("seed", "schema_version", "eqcheck_version"):
        if old.get(key) != new.get(key):
            settings.append({"key": key, "old": old.get(key), "new": new.get(key)})
    old_set, new_set = _flatten(old.get("settings", {})), _flatten(new.get("settings", {}))
    for key in sorted(set(old_set) | set(new_set)):
        if key.startswith("shard") or old_set.get(key) == new_set.get(key):
            continue
        settings.append({"key": f"settings.{key}", "old": old_set.get(key), "new": new_set.get(key)})

    order = {"regression": 0, "fixed": 1, "improved": 2, "changed": 3}
    changes.sort(key=lambda c: order[c["kind"]])
    counts = {kind: sum(1 for c in changes if c["kind"] == kind) for kind in order}
    return {
        "format": DIFF_FORMAT,
        "format_version": DIFF_VERSION,
        "old": {"file": old_name, "created": old.get("created"), "versions": old.get("environment", {}).get("versions", {}),
                "summary": old.get("summary")},
        "new": {"file": new_name, "created": new.get("created"), "versions": new.get("environment", {}).get("versions", {}),
                "summary": new.get("summary")},
        "rel_change": rel_change,
        "floor_fraction_of_atol": FLOOR_FRACTION,
        "environment": environment,
        "settings": settings,
        "added": added,
        "removed": removed,
        "changes": changes,
        "counts": {"regressions": counts["regression"], "fixed": counts["fixed"], "improved": counts["improved"],
                   "changed": counts["changed"], "added": len(added), "removed": len(removed)},
        "regression": counts["regression"] > 0,
    }
