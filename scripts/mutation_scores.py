"""Per-module mutation scores from mutmut's result files (mutants/**/*.py.meta), and the surviving mutants.

Run by scripts/mutation after `mutmut run`; reads only mutmut's JSON, so it works on a partial run too.
Score = killed / (killed + survived + timeout + no tests); mutants not yet checked are counted apart.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

# mutmut 3.8's exit-code meanings (mutmut.stats.status_by_exit_code), restated so this needs no mutmut import
KILLED = {1, 3, 37}
SURVIVED = {0}
NO_TESTS = {5, 33}
TIMEOUT = {36, -24, 24, 152, 255}


def status(code) -> str:
    if code is None:
        return "not checked"
    if code in KILLED:
        return "killed"
    if code in SURVIVED:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in TIMEOUT:
        return "timeout"  # a mutant that hangs the tests is caught: a timeout counts as killed below
    return "suspicious"


def main(root: str = "mutants") -> int:
    metas = sorted(Path(root).rglob("*.py.meta"))
    if not metas:
        print(f"no mutmut results under {root}/ (run scripts/mutation first)", file=sys.stderr)
        return 1
    survivors = []
    print(f"{'module':<34} {'killed':>7} {'survived':>9} {'no tests':>9} {'timeout':>8} {'unchecked':>10} {'score':>7}")
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = Counter(status(c) for c in codes.values())
        checked = sum(n for s, n in counts.items() if s != "not checked")
        if not checked:
            continue
        caught = counts["killed"] + counts["timeout"]
        module = str(meta.relative_to(root)).removesuffix(".meta")
        print(f"{module:<34} {counts['killed']:>7} {counts['survived']:>9} {counts['no tests']:>9} {counts['timeout']:>8} "
              f"{counts['not checked']:>10} {100 * caught / checked:>6.1f}%")
        survivors += [name for name, code in codes.items() if status(code) in ("survived", "no tests", "suspicious")]
    if survivors:
        print(f"\n{len(survivors)} surviving mutants (mutmut show NAME for the diff):")
        for name in survivors:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
