"""The cost of isolation by default: `eqcheck run configs -q` (cases in a worker process, the parent importing no
framework) against the in-process `--jobs 0`, side by side.

Usage: .venv/bin/python benchmarks/bench_isolation.py [repeats] [paths...]   (target: isolated <= 1.05x in-process)
"""

from __future__ import annotations

import sys

from _timing import EQCHECK, alternate, table, verdict

TARGET = 1.05


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    paths = sys.argv[2:] or ["configs"]
    label = " ".join(paths)
    isolated, in_process = f"eqcheck run -q {label}", f"eqcheck run -q {label} -j 0"
    times = alternate({isolated: [EQCHECK, "run", "-q", *paths], in_process: [EQCHECK, "run", "-q", *paths, "-j", "0"]}, repeats)
    medians = table(times, in_process)
    return 0 if verdict("isolated (default) / in-process (-j 0)", medians[isolated] / medians[in_process], TARGET) else 1


if __name__ == "__main__":
    sys.exit(main())
