"""`eqcheck run configs/ --jobs 2` vs `--jobs 1` (and in-process, --jobs 0, for reference), side by side.

Usage: .venv/bin/python benchmarks/bench_jobs.py [repeats] [paths...]   (target: --jobs 2 <= 0.6x --jobs 1)
"""

from __future__ import annotations

import sys

from _timing import EQCHECK, alternate, table, verdict

TARGET = 0.6


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    paths = sys.argv[2:] or ["configs"]
    label = " ".join(paths)
    commands = {f"eqcheck run -q {label} --jobs {j}": [EQCHECK, "run", "-q", *paths, "--jobs", str(j)] for j in (1, 2, 0)}
    times = alternate(commands, repeats)
    medians = table(times, f"eqcheck run -q {label} --jobs 1")
    ratio = medians[f"eqcheck run -q {label} --jobs 2"] / medians[f"eqcheck run -q {label} --jobs 1"]
    return 0 if verdict("--jobs 2 / --jobs 1", ratio, TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
