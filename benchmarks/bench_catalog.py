"""The full catalog, `eqcheck run configs/ --grad`, with --jobs 2 vs --jobs 1, side by side; plus per-case overhead.

Per-case overhead: (wall of the full run - wall of a one-case run, i.e. start-up) / cases, next to the mean
time the runner itself spent per case (the report's duration_s); their difference is what scheduling,
workers, reporting and the console add per case.

Usage: .venv/bin/python benchmarks/bench_catalog.py [repeats]   (target: --jobs 2 <= 0.65x --jobs 1)
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
from pathlib import Path

from _timing import EQCHECK, ROOT, alternate, table, verdict, wall

TARGET = 0.65
ONE_CASE = ["configs/math/abs.yaml"]


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        report = str(Path(tmp) / "catalog.json")
        run = lambda jobs, *extra: [EQCHECK, "run", "-q", "--grad", "--jobs", str(jobs), *extra]
        commands = {
            "eqcheck run configs/ --grad --jobs 1": run(1, "configs"),
            "eqcheck run configs/ --grad --jobs 2": run(2, "configs"),
        }
        times = alternate(commands, repeats)
        medians = table(times, "eqcheck run configs/ --grad --jobs 1")
        ratio = medians["eqcheck run configs/ --grad --jobs 2"] / medians["eqcheck run configs/ --grad --jobs 1"]

        wall(run(1, "configs", "--json", report))
        document = json.loads(Path(report).read_text())
        cases = len(document["cases"])
        in_runner = sum(c.get("duration_s") or 0 for c in document["cases"])
        startup = statistics.median(wall(run(1, *ONE_CASE)) for _ in range(repeats))
        full = medians["eqcheck run configs/ --grad --jobs 1"]
        per_case = (full - startup) / cases
        print(f"cases: {cases}; start-up (one-case run): {startup:.2f} s; full run --jobs 1: {full:.2f} s, "
              f"--jobs 2: {medians['eqcheck run configs/ --grad --jobs 2']:.2f} s")
        print(f"per case: {per_case * 1e3:.1f} ms wall, of which {in_runner / cases * 1e3:.1f} ms inside the runner; "
              f"overhead {(per_case - in_runner / cases) * 1e3:.1f} ms/case")
        # CPU seconds (all processes) next to wall: on a machine other jobs load, wall time stops scaling with
        # --jobs long before CPU work does; CPU(--jobs 2) / 2 is the wall time an idle 2-core machine would need.
        for jobs in (1, 2):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed = wall(run(jobs, "configs"))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            print(f"--jobs {jobs}: wall {elapsed:.2f} s, CPU {cpu:.2f} s (all processes)")
    return 0 if verdict("--jobs 2 / --jobs 1 (full catalog, --grad)", ratio, TARGET) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
