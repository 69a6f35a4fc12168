"""Per-case overhead of `--executor ray` and of the split-sides path (`--export-side` + `--against`) vs local workers.

Each mode runs twice as many cases in a big run as in a small one, alternating with the others, so that
    per-case cost = (T_big - T_small) / (N_big - N_small)      fixed cost = T_small - per-case cost x N_small
separates what a mode pays once (imports, starting actors or a Ray instance) from what it pays per case.

Modes, all on this machine, all with the same two processes' worth of parallelism where it applies:
- local --jobs 2          the baseline: two worker processes
- in-process (--jobs 0)   for reference
- ray (new instance)      --executor ray --address local --jobs 2: starts a Ray instance per run, two actors
- ray (running cluster)   --executor ray --address auto --jobs 2, against a head started once here (`ray start --head`)
- split sides             `--targets torch --export-side DIR` then `--targets mindspore --against DIR`, in-process each

Usage: python benchmarks/bench_scaleout.py [repeats]   (prints a table; no pass/fail target: it measures)
(~10 min with 3 repeats on a 2-core machine)
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import ENV, EQCHECK, PYTHON, ROOT, alternate

SMALL = ["configs/ops"]  # 6 cases
BIG = ["configs", "--dtype", "float32,float64,bfloat16"]  # 177 cases: the whole catalog in three dtypes


def count(paths: list[str]) -> int:
    out = subprocess.run([EQCHECK, "list", *paths], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    return len(out.stdout.split())


def modes(paths: list[str], folder: str) -> dict[str, list[str]]:
    run = [EQCHECK, "run", "-q", *paths]
    split = (shlex.join([*run, "--targets", "torch", "--export-side", folder]) + " && "
             + shlex.join([*run, "--targets", "mindspore", "--against", folder]))
    return {
        "local --jobs 2": [*run, "--jobs", "2"],
        "in-process": run,
        "ray (new instance)": [*run, "--executor", "ray", "--address", "local", "--jobs", "2"],
        "ray (running cluster)": [*run, "--executor", "ray", "--address", "auto", "--jobs", "2"],
        "split sides": ["bash", "-c", split],
    }


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    ray_cli = str(Path(PYTHON).parent / "ray")
    n_small, n_big = count(SMALL), count(BIG)
    print(f"cases: small {n_small} ({' '.join(SMALL)}), big {n_big} ({' '.join(BIG)}); {repeats} timed rounds each, "
          f"{os.cpu_count()} CPUs")
    subprocess.run([ray_cli, "start", "--head", "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                   cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            small, big = modes(SMALL, f"{tmp}/small"), modes(BIG, f"{tmp}/big")
            commands = {f"{name} | small": small[name] for name in small}
            commands.update({f"{name} | big": big[name] for name in big})
            times = alternate(commands, repeats)
    finally:
        subprocess.run([ray_cli, "stop", "--force"], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = {}
    for name in small:
        t_small = statistics.median(times[f"{name} | small"])
        t_big = statistics.median(times[f"{name} | big"])
        per_case = (t_big - t_small) / (n_big - n_small)
        rows[name] = (t_small, t_big, per_case, t_small - per_case * n_small)
    base = rows["local --jobs 2"]
    print(f"{'mode':<24} {'small s':>8} {'big s':>8} {'per case ms':>12} {'x local':>8} {'fixed s':>8} {'x local':>8}")
    for name, (t_small, t_big, per_case, fixed) in rows.items():
        print(f"{name:<24} {t_small:8.2f} {t_big:8.2f} {per_case * 1000:12.1f} {per_case / base[2]:8.2f} "
              f"{fixed:8.2f} {fixed / base[3]:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
