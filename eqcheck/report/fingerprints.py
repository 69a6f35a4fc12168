"""Declarations from a run: the fingerprint each one matched (`eqcheck findings --fingerprints`, so nobody types the
numbers), the declarations that matched nothing (stale), and the spec files rewritten with them.

A case record names the declaration that covered it (`expected_difference.declaration`, or `covered_by` when it
passed) and, when it failed, what it measured (`measured`: rows with symptom and max_abs, or the refusal/crash).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from eqcheck.spec import writer

Key = tuple[str, str]  # (spec file, declaration field: expected_difference[2])
SECTIONS = ("expected_difference", "edge_differences")


@dataclass
class Use:
    """What one declaration did in a run: the cases it covered, the ones it matched, what those measured."""

    covered: int = 0
    matched: int = 0
    measured: list[dict] = field(default_factory=list)


def uses(cases: list[dict]) -> dict[Key, Use]:
    out: dict[Key, Use] = defaultdict(Use)
    for case in cases:
        name = (case.get("expected_difference") or {}).get("declaration") or case.get("covered_by")
        if not name:
            continue
        use = out[(case["spec"], name)]
        use.covered += 1
        if case["status"] == "expected_difference":
            use.matched += 1
            if case.get("measured"):
                use.measured.append(case["measured"])
    return dict(out)


def stale(cases: list[dict]) -> list[tuple[str, str, int]]:
    """(spec, declaration, cases covered) for each declaration that covered cases in this run and matched none."""
    return sorted((spec, name, use.covered) for (spec, name), use in uses(cases).items() if not use.matched)


def _round_up(x: float) -> float:
    """x to 3 significant digits, never below x (the written number is a bound's base: it must cover what was measured)."""
    if x == 0 or not math.isfinite(x):
        return x
    mantissa, exponent = f"{x:.2e}".split("e")
    if float(f"{mantissa}e{exponent}") < x:
        mantissa = f"{float(mantissa) + 0.01:.2f}"
    return float(f"{mantissa}e{exponent}")


def fingerprint(measured: list[dict]) -> dict[str, Any] | None:
    """The fingerprint covering every measurement: {symptom, signal} when all were refusals or crashes, {rows} when
    all were failing rows; None when there is nothing, or a mix that no one fingerprint can say (left for a person)."""
    failures = [m["failure"] for m in measured if "failure" in m]
    if failures and len(failures) < len(measured) or not measured:
        return None
    if failures:
        symptoms = {f["symptom"] for f in failures}
        if len(symptoms) > 1:
            return None
        signals = {f.get("signal") for f in failures}
        return {"symptom": symptoms.pop(), **({"signal": signals.pop()} if len(signals) == 1 and None not in signals else {})}
    rows: dict[str, dict] = {}
    for m in measured:
        for row in m["rows"]:
            entry = rows.setdefault(row["row"], {"symptoms": set(), "max_abs": None})
            entry["symptoms"].add(row["symptom"])
            if row.get("max_abs") is not None and math.isfinite(row["max_abs"]):
                entry["max_abs"] = max(entry["max_abs"] or 0.0, row["max_abs"])
    out = {}
    for name in sorted(rows):
        symptoms, max_abs = sorted(rows[name]["symptoms"]), rows[name]["max_abs"]
        if "value" in symptoms and not max_abs:  # a value row whose max |diff| read 0 or NaN: only its symptom says it
            symptoms = [s for s in symptoms if s != "value"] or ["uninitialised"]
        if "value" in symptoms:
            out[name] = {"symptom": symptoms[0] if len(symptoms) == 1 else symptoms, "max_abs": _round_up(max_abs)}
        else:
            out[name] = symptoms[0] if len(symptoms) == 1 else symptoms
    return {"rows": out}


# ---- writing them into the spec files ---------------------------------------------------------------------------

def _ordered(item: dict) -> dict:
    order = ("edge", "reason", "link", "when", "rows", "symptom", "signal", "intermittent")
    return {k: item[k] for k in order if k in item} | {k: v for k, v in item.items() if k not in order}


def _section_span(lines: list[str], key: str) -> tuple[int, int] | None:
    """The lines of a top-level section: its `key:` line up to the next top-level key (comments before it stay)."""
    start = next((i for i, line in enumerate(lines) if re.match(rf"{key}\s*:", line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t-#"):
        end += 1
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return start, end


def rewrite(text: str, changes: dict[str, dict | None]) -> str:
    """The spec text with each named declaration's fingerprint replaced (`changes`: field -> fingerprint, or None
    to retire the declaration); the rest of the file is left as written."""
    def change(name: str, item: dict) -> dict | None:
        if name not in changes:
            return item
        if changes[name] is None:
            return None
        return {k: v for k, v in item.items() if k not in ("rows", "symptom", "signal")} | changes[name]
    return edit(text, change, set(changes))


def edit(text: str, change, names: set[str] | None = None) -> str:
    """The spec text with `change(field, declaration) -> declaration | None` (None: drop it) applied to each
    declaration (those in `names`, when given); sections it leaves unchanged keep their text."""
    data = yaml.safe_load(text)
    lines = text.splitlines(keepends=True)
    for key in reversed(SECTIONS):  # later sections first: the earlier spans stay valid
        raw = data.get(key)
        if raw is None or (names is not None and not any(f == key or f.startswith(key + "[") for f in names)):
            continue
        items = [raw] if isinstance(raw, dict) else list(raw)
        kept = []
        for i, item in enumerate(items):
            new = change(key if isinstance(raw, dict) else f"{key}[{i}]", item)
            if new is not None:
                kept.append(new)
        if kept == items:
            continue
        span = _section_span(lines, key)
        body = writer.dump({key: [_ordered(item) for item in kept]}) if kept else ""  # the one spec style
        lines[span[0]:span[1]] = [body]
    return "".join(lines)


def apply(cases: list[dict], root: str | Path = ".", retire: bool = False, keep: set[Key] = frozenset()) -> dict[str, Any]:
    """Write every measured fingerprint into its spec file (and, with `retire`, drop the declarations that matched
    nothing, unless intermittent); `keep` names declarations left as written. Returns what it did: files,
    fingerprints written, retired, left (mixed symptoms)."""
    by_file: dict[str, dict[str, dict | None]] = defaultdict(dict)
    left, written, retired = [], 0, []
    for (spec, name), use in sorted(uses(cases).items()):
        if (spec, name) in keep:
            continue
        if not use.matched:
            if retire:
                retired.append((spec, name))
                by_file[spec][name] = None
            continue
        print_ = fingerprint(use.measured)
        if print_ is None:
            left.append((spec, name))
            continue
        by_file[spec][name] = print_
        written += 1
    for spec, changes in by_file.items():
        path = Path(root) / spec
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        for name in [n for n, c in changes.items() if c is None]:  # an intermittent declaration stays: it did not show
            if (_item(data, name) or {}).get("intermittent"):
                del changes[name]
                retired.remove((spec, name))
        path.write_text(rewrite(text, changes), encoding="utf-8")
    return {"files": len(by_file), "written": written, "retired": retired, "left": left}


def _item(data: dict, name: str) -> dict | None:
    key, _, index = name.partition("[")
    raw = data.get(key)
    if raw is None:
        return None
    return raw if isinstance(raw, dict) else raw[int(index.rstrip("]"))]
