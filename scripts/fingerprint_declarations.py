#!/usr/bin/env python
"""Convert every declaration in configs/ into a fingerprint measured by a run (issue 29); regenerable:

    eqcheck run configs --explore --grad -j 2 --json r.json
    python scripts/fingerprint_declarations.py r.json [--edges-run e.json ...]

1. `eqcheck findings --fingerprints --retire` on each report: the rows, symptoms and max_abs each declaration
   matched; the declarations that covered cases and matched none are retired (intermittent ones stay).
2. A reason that is the template "MindSpore refuses it, torch returns a value: MSG" becomes the refusal's own words
   as the run measured them (else MSG); the fingerprint's `symptom: refusal` says the rest.
3. A declaration the runs left without a fingerprint whose reason records the one signal that killed the worker
   (an intermittent crash that did not show) gets `symptom: crash` with that signal.
4. A declaration whose reason says the memory is unwritten (uninitialised, stale, garbage), or on a `stale`
   boundary variant, compares its rows as
   `uninitialised`: whatever the garbage reads as, never by its size.
5. Prints the declarations by scope before and after, and those still without a fingerprint.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eqcheck.report import document as doc  # noqa: E402
from eqcheck.report import fingerprints  # noqa: E402
from eqcheck.cases import load_spec  # noqa: E402

TEMPLATE = re.compile(r"^MindSpore refuses it, torch returns a value: (.+)$", re.S)
UNWRITTEN = re.compile(r"uninitiali[sz]ed|unwritten|never wr[io]t|garbage|stale (memory|count|buffer|value)|whatever (the )?memory|"
                       r"reads the wrong elements|memory that happened", re.I)


def scopes(configs: Path) -> Counter:
    counts: Counter = Counter()
    for path in sorted(configs.rglob("*.yaml")):
        try:
            spec = load_spec(path)
        except Exception as exc:  # noqa: BLE001 - a spec the loader refuses is reported, not skipped silently
            counts["unloadable"] += 1
            print(f"  cannot load {path}: {exc}")
            continue
        for e in spec.expected_differences:
            scope = ("defaults/ " if "defaults" in path.parts else "") + ("whole spec" if not e.when and not e.edge
                                                                           else "variant (edge)" if e.edge else "when")
            counts[(scope, "fingerprint" if e.fingerprinted else "whole case")] += 1
    return counts


def show(title: str, counts: Counter) -> None:
    print(title)
    for key in sorted(counts, key=str):
        print(f"  {key}: {counts[key]}")
    print(f"  total: {sum(counts.values())}")


SIGNAL = re.compile(r"\b(SIG[A-Z]+)\b")


EVIDENCE: dict[tuple[str, str], str] = {}  # (spec, declaration) -> the refusal message a run measured


def evidence(cases: list[dict]) -> None:
    """The message of the first refusal each declaration matched, in the runner's words minus 'SIDE failed to call: '."""
    for case in cases:
        failure = (case.get("measured") or {}).get("failure") or {}
        name = (case.get("expected_difference") or {}).get("declaration")
        if case["status"] == "expected_difference" and failure.get("symptom") == "refusal" and failure.get("message"):
            message = re.sub(r"-op\d+\b", "", re.sub(r"^\S+ failed to \w+( \w+)?: ", "", failure["message"]))  # op counters vary
            EVIDENCE.setdefault((str(Path(case["spec"]).resolve()), name), message)


def polish(name: str, item: dict, spec: str = "") -> dict:
    item = dict(item)
    measured = EVIDENCE.get((spec, name))
    signals = set(SIGNAL.findall(item.get("reason", "")))
    if not item.get("rows") and not item.get("symptom") and len(signals) == 1:
        # not exercised by the runs (an intermittent crash that did not show): the signal its reason measured
        item.update(symptom="crash", signal=signals.pop())
    template = TEMPLATE.match(item.get("reason", "").strip())
    if template:  # the refusal's own words: as this run measured them (a fuller message), else as written
        item["reason"] = measured or template.group(1).strip()
    stale = str(item.get("edge", "")).startswith("stale")  # the variant that reads what a decoy call left behind
    if item.get("rows") and (stale or UNWRITTEN.search(item.get("reason", ""))):
        item["rows"] = {row: "uninitialised" for row in item["rows"]}
    return item


@functools.lru_cache(maxsize=None)
def _scoped(spec: str, name: str) -> bool:
    """Whether that declaration has a `when` or an `edge` (a part of the spec, not all of it)."""
    declared = next(e for e in load_spec(spec).expected_differences if e.field == name)
    return bool(declared.when or declared.edge)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="JSON reports of runs over configs/")
    parser.add_argument("--configs", default="configs")
    args = parser.parse_args()
    configs = Path(args.configs).resolve()
    before = scopes(configs)
    show("before:", before)
    cases = [c for report in args.reports for c in doc.read(report)["cases"]]
    # a configs/defaults/ spec shows a default that differs: its declaration for the whole spec stays whole
    keep = {(c["spec"], name) for c in cases if "defaults" in Path(c["spec"]).parts
            for name in [(c.get("expected_difference") or {}).get("declaration") or c.get("covered_by")] if name
            and not _scoped(c["spec"], name)}
    evidence(cases)
    done = fingerprints.apply(cases, root=Path.cwd(), retire=True, keep=keep)  # reports name specs relative to where they ran
    print(f"{done['written']} fingerprints written into {done['files']} files; {len(done['retired'])} retired; "
          f"{len(done['left'])} left (mixed symptoms)")
    for spec, name in done["retired"]:
        print(f"  retired: {spec} {name}")
    for spec, name in done["left"]:
        print(f"  mixed: {spec} {name}")
    for path in sorted(configs.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "expected_difference" in text or "edge_differences" in text:
            new = fingerprints.edit(text, functools.partial(polish, spec=str(path.resolve())))
            if new != text:
                path.write_text(new, encoding="utf-8")
    after = scopes(configs)
    show("after:", after)
    for path in sorted(configs.rglob("*.yaml")):
        spec = load_spec(path)
        for e in spec.expected_differences:
            if not e.fingerprinted and "defaults" not in path.parts:
                print(f"  no fingerprint: {path} {e.field}"
                      + (f" (intermittent {e.intermittent.shown} of {e.intermittent.runs})" if e.intermittent else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
