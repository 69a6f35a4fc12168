"""Shared helpers for the benchmark scripts: side-by-side wall-clock timing of commands, alternating runs."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ../shared/reference beside the checkout (a worktree under /work/wt finds the one beside the main checkout)
SHARED = next((p for p in (ROOT.parent / "shared" / "reference", ROOT.parent.parent / "shared" / "reference") if p.is_dir()),
              ROOT.parent / "shared" / "reference")
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
EQCHECK = str(Path(PYTHON).parent / "eqcheck")
ENV = dict(os.environ, GLOG_v="3")


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return elapsed


def alternate(commands: dict[str, list[str]], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run each command in turn, `repeats` rounds (after `warmup` untimed rounds), so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(warmup + repeats):
        for name, command in commands.items():
            elapsed = wall(command)
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def table(times: dict[str, list[float]], baseline: str) -> dict[str, float]:
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians[baseline]
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'max s':>7} {'ratio':>7}")
    for name, values in times.items():
        print(f"{name:<44} {medians[name]:9.3f} {min(values):7.3f} {max(values):7.3f} {medians[name] / base:7.2f}x")
    return medians


def verdict(label: str, value: float, target: float, unit: str = "x") -> bool:
    ok = value <= target
    print(f"{'PASS' if ok else 'FAIL'}  {label}: {value:.3f}{unit} (target <= {target}{unit})")
    return ok
