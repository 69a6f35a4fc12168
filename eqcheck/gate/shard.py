"""--shard K/N (a deterministic partition of the selected cases) and `eqcheck merge` (shard reports -> one report).

Partition rule: the selected case ids are sorted (plain string order) and dealt round-robin: the case at
sorted position i belongs to shard (i mod N) + 1. The shards are disjoint, cover every case, differ in size
by at most one, and do not depend on the order of the paths on the command line. Every shard must be run
with the same paths, -k, --dtype and seed (merge checks what the reports record). Each shard report records
`settings.shard = {index, count, total, positions}`, `positions` being each case's place in the unsharded
run, so the merged report lists cases in exactly the order a single run would.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Sequence

import click

from eqcheck.errors import EqcheckError
from eqcheck.report import document as doc

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = _SHARD.match(text)
    if not match:
        raise click.BadParameter(f"'{text}' is not K/N (e.g. 2/4)", param_hint="'--shard'")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise click.BadParameter(f"'{text}': K must be between 1 and N (N ≥ 1)", param_hint="'--shard'")
    return index, count


def assign(case_ids: Sequence[str], count: int) -> list[int]:
    """The 1-based shard of each case id (same order as given)."""
    order = sorted(range(len(case_ids)), key=lambda i: case_ids[i])
    shard = [0] * len(case_ids)
    for rank, i in enumerate(order):
        shard[i] = rank % count + 1
    return shard


def select(cases: list, shard: tuple[int, int] | None) -> tuple[list, dict[str, Any] | None]:
    """This shard's cases (in run order) and the `settings.shard` record."""
    if shard is None:
        return cases, None
    index, count = shard
    owners = assign([c.id for c in cases], count)
    positions = [i for i, owner in enumerate(owners) if owner == index]
    return [cases[i] for i in positions], {"index": index, "count": count, "total": len(cases), "positions": positions}


class MergeError(EqcheckError):
    """Shard reports that cannot be merged into one report."""


# Environment keys that may differ between CI runners without making the numbers incomparable.
_SOFT_ENVIRONMENT = ("platform", "devices")


def merge(documents: list[dict], names: list[str], warn: Callable[[str], None] = lambda message: None) -> dict:
    """One report from shard reports (or any reports of disjoint cases run with the same seed and versions).

    Refused: different seeds, framework versions, targets or report settings; a case id in two reports;
    shards of different N; a shard given twice. Warned: a missing shard, platform or device differences.
    The summary is recomputed; wall_time_s is the longest shard's (shards run side by side).
    """
    if not documents:
        raise MergeError("nothing to merge", field="REPORTS")
    first, first_name = documents[0], names[0]

    def refuse(name: str, what: str, a: Any, b: Any) -> None:
        raise MergeError(f"{what} differs from {first_name}'s ({b!r} here, {a!r} there): the reports were not produced "
                         f"by shards of one run and cannot be merged", file=name, field=what)

    strip = lambda s: {k: v for k, v in (s or {}).items() if k != "shard"}
    shards: dict[int, str] = {}
    count = None
    seen: dict[str, str] = {}
    entries = []
    for document, name in zip(documents, names):
        if document.get("seed") != first.get("seed"):
            refuse(name, "seed", first.get("seed"), document.get("seed"))
        env, env0 = document.get("environment", {}), first.get("environment", {})
        for key in sorted(set(env) | set(env0)):
            if env.get(key) != env0.get(key):
                if key in _SOFT_ENVIRONMENT:
                    warn(f"{name}: environment.{key} differs from {first_name}'s ({env.get(key)!r} vs {env0.get(key)!r})")
                else:
                    refuse(name, f"environment.{key}", env0.get(key), env.get(key))
        if strip(document.get("settings")) != strip(first.get("settings")):
            refuse(name, "settings", strip(first.get("settings")), strip(document.get("settings")))
        shard = (document.get("settings") or {}).get("shard")
        if shard:
            if count is None:
                count = shard["count"]
            elif shard["count"] != count:
                raise MergeError(f"shard {shard['index']}/{shard['count']} cannot be merged with shards of {count}", file=name,
                                 field="settings.shard")
            if shard["index"] in shards:
                raise MergeError(f"shard {shard['index']}/{count} is also {shards[shard['index']]}", file=name, field="settings.shard")
            shards[shard["index"]] = name
        for j, case in enumerate(document["cases"]):
            if case["id"] in seen:
                raise MergeError(f"case {case['id']} is also in {seen[case['id']]}", file=name, field="cases")
            seen[case["id"]] = name
            position = shard["positions"][j] if shard and j < len(shard.get("positions", [])) else None
            entries.append((position if position is not None else float("inf"), len(entries), case))
    if count is not None:
        missing = [i for i in range(1, count + 1) if i not in shards]
        if missing:
            warn(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{i}/{count}' for i in missing)} not given: "
                 "the merged report is partial (complete: false)")
    cases = [case for _, _, case in sorted(entries, key=lambda e: (e[0], e[1]))]
    summary = doc.summarize(cases)
    summary["wall_time_s"] = max(float(d.get("summary", {}).get("wall_time_s", 0.0)) for d in documents)
    merged = {
        **{k: v for k, v in first.items() if k not in ("cases", "summary")},
        "schema_version": doc.SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        "complete": all(d.get("complete", True) for d in documents) and not (count is not None and len(shards) < count),
        "settings": strip(first.get("settings")),
        "summary": summary,
        "cases": cases,
    }
    goldens = [d["golden"] for d in documents if d.get("golden")]
    if goldens:
        from eqcheck.gate import golden

        merged["golden"] = {**goldens[0], **golden.summarize(cases)}
    merged["merged_from"] = list(names)
    return merged
