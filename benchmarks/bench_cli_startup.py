"""`eqcheck --help`, `list` and `validate` (no framework import on these paths) vs `python -c pass`.

Usage: .venv/bin/python benchmarks/bench_cli_startup.py [repeats]   (target: <= 1.5x)
"""

from __future__ import annotations

import sys

from _timing import EQCHECK, PYTHON, alternate, table, verdict

TARGET = 1.5


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    commands = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "eqcheck --help": [EQCHECK, "--help"],
        "eqcheck list configs": [EQCHECK, "list", "configs"],
        "eqcheck validate configs": [EQCHECK, "validate", "configs"],
    }
    times = alternate(commands, repeats, warmup=2)
    medians = table(times, "python -c pass")
    ok = True
    for name in list(commands)[1:]:
        ok &= verdict(f"{name} / python -c pass", medians[name] / medians["python -c pass"], TARGET)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
