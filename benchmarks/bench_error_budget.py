"""What the default error budget costs: `eqcheck run SPECS --grad` with this tree's code against an older tree's
(before the budget), side by side in one run, alternating rounds.

Two situations:
* pass: every case passes its tolerance table (or its declared difference): the budget runs nothing extra;
* fail: every case is forced to fail for real -- a planted bug scales every float output MindSpore returns by
  (1 + 1e-3) and adds 1e-3, in float32 and float64 runs alike (CaseRunner.flatten patched in-process) -- so
  this tree re-runs each case in float64 once per side and diagnoses every failing row; the older tree does
  neither. Cases with integer outputs only, or a declared difference, are counted as they end.

    python benchmarks/bench_error_budget.py --old /work/main [--repeats 3] [SPECS ...]

Default SPECS: the older tree's configs/ folders (the same files for both trees, so the comparison is the code).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from _timing import PYTHON, ROOT, alternate, table

PLANT = """
import numpy as np
from eqcheck.execution.runner import CaseRunner
_flatten = CaseRunner.flatten
def flatten(self, backend, value, label, path="out"):
    items = _flatten(self, backend, value, label, path)
    if backend.framework != "mindspore":
        return items
    return [(p, (a * (1 + 1e-3) + 1e-3).astype(a.dtype) if np.issubdtype(a.dtype, np.floating) else a) for p, a in items]
CaseRunner.flatten = flatten
"""
RUN = "import sys; from eqcheck.cli import main; sys.argv = ['eqcheck'] + sys.argv[1:]; main()"


def command(tree: Path, plant: bool, specs: list[str], report: str) -> list[str]:
    code = (PLANT if plant else "") + RUN
    return ["env", f"PYTHONPATH={tree}", PYTHON, "-c", code, "run", *specs, "--grad", "-q", "--json", report]


def statuses(report: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in json.loads(Path(report).read_text())["cases"]:
        counts[case["status"]] = counts.get(case["status"], 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout of eqcheck before the error budget")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("specs", nargs="*")
    args = parser.parse_args()
    old = args.old.resolve()
    specs = args.specs or [str(p) for p in sorted((old / "configs").iterdir()) if p.is_dir()]
    folder = tempfile.mkdtemp(prefix="eqcheck-bench-budget-")
    reports = {}
    commands = {}
    for mode in ("pass", "fail"):
        for name, tree in (("old", old), ("new", ROOT)):
            key = f"{mode}: {name}"
            reports[key] = os.path.join(folder, f"{mode}-{name}.json")
            commands[key] = command(tree, mode == "fail", specs, reports[key])
    times = alternate(commands, args.repeats)
    for mode in ("pass", "fail"):
        print(f"\n{mode}: every case {'passing' if mode == 'pass' else 'forced to fail'} ({' '.join(specs)})")
        table({k: v for k, v in times.items() if k.startswith(mode)}, f"{mode}: old")
        for key in (f"{mode}: old", f"{mode}: new"):
            print(f"  {key} statuses: {statuses(reports[key])}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
