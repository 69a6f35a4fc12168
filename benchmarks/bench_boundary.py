"""What --boundary costs: `eqcheck run PATHS` with and without --boundary, side by side in one run.

--boundary adds, per spec (its first sweep point, once per dtype), argument-value, shape, layout, domain and stale
variants; a stale variant runs its case twice (the decoy first), a refused variant asks the other side too, and the
run uses a worker process (-j 1) unless told otherwise. The in-process row (-j 0) separates the worker's share.
Prints the wall-clock ratio (process start and framework imports included) and the ratio of summed case durations.

Usage: .venv/bin/python benchmarks/bench_boundary.py [repeats] [paths...]   (default: 3 rounds over 30 specs of configs/nn)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from _timing import ENV, PYTHON, ROOT, alternate, table

ENV["PYTHONPATH"] = str(ROOT)  # this checkout's eqcheck, whichever venv runs it


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    paths = sys.argv[2:] or [str(p.relative_to(ROOT)) for p in sorted((ROOT / "configs" / "nn").glob("*.yaml"))[:30]]
    out = Path(tempfile.mkdtemp(prefix="bench_boundary_"))
    run = [PYTHON, "-m", "eqcheck", "run", "-q", *paths]
    commands = {
        "eqcheck run": [*run, "--json", str(out / "plain.json")],
        "eqcheck run --boundary": [*run, "--boundary", "--json", str(out / "boundary.json")],
        "eqcheck run --boundary -j 0": [*run, "--boundary", "-j", "0", "--json", str(out / "inprocess.json")],
    }
    times = alternate(commands, repeats)
    medians = table(times, "eqcheck run")
    ratio = lambda name: medians[name] / medians["eqcheck run"]
    records = {name: json.loads((out / f"{name}.json").read_text())["cases"] for name in ("plain", "boundary")}
    for name, cases in records.items():
        total = sum(c["duration_s"] for c in cases)
        print(f"{name}: {len(cases)} cases, {total:.2f}s summed case time (last round), {total / len(cases) * 1e3:.1f} ms per case")
    print(f"cases: --boundary / plain = {len(records['boundary']) / len(records['plain']):.2f}x")
    print(f"wall clock, process included: --boundary / plain = {ratio('eqcheck run --boundary'):.2f}x, "
          f"in process {ratio('eqcheck run --boundary -j 0'):.2f}x (median of {repeats})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
