"""`eqcheck run` on the GRUCell spec vs the hand-written floors in ../shared/reference, side by side.

- floor_grucell.py:      one GRUCell check (one case) — the issue's stated floor;
- floor_grucell_grid.py: the spec's whole grid (bias x batch = 4 cases) — the fair floor for the 4-case spec.

Usage: .venv/bin/python benchmarks/bench_run_vs_floor.py [repeats]   (target: <= 1.15x)
"""

from __future__ import annotations

import sys

from _timing import EQCHECK, PYTHON, SHARED, alternate, table, verdict

TARGET = 1.15


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    commands = {
        "eqcheck run -q configs/nn/GRUCell.yaml": [EQCHECK, "run", "-q", "configs/nn/GRUCell.yaml"],
        "eqcheck run -q ... --jobs 1 (worker)": [EQCHECK, "run", "-q", "configs/nn/GRUCell.yaml", "--jobs", "1"],
        "floor_grucell.py (1 case)": [PYTHON, str(SHARED / "floor_grucell.py")],
        "floor_grucell_grid.py (4 cases, fair)": [PYTHON, str(SHARED / "floor_grucell_grid.py")],
    }
    times = alternate(commands, repeats)
    medians = table(times, "floor_grucell_grid.py (4 cases, fair)")
    run = medians["eqcheck run -q configs/nn/GRUCell.yaml"]
    ok = verdict("eqcheck run / floor_grucell.py (1-case floor)", run / medians["floor_grucell.py (1 case)"], TARGET)
    ok &= verdict("eqcheck run / floor_grucell_grid.py (fair 4-case floor)", run / medians["floor_grucell_grid.py (4 cases, fair)"], TARGET)
    print(f"info  --jobs 1 / floor_grucell_grid.py: {medians['eqcheck run -q ... --jobs 1 (worker)'] / medians['floor_grucell_grid.py (4 cases, fair)']:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
