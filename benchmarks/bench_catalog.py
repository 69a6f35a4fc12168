"""`--jobs 2` vs `--jobs 1` side by side on each catalog: the plain one (`configs/ --grad`), `--edges --grad` and,
where this eqcheck has it, `--explore --grad`; then what keeps each ratio above the ideal 0.5x.

The gap, measured rather than guessed: with two workers on two cores the run cannot beat
    max(worker start-up, loading the specs) + case work / 2 + what the parent does per result and at the end,
where worker start-up is one worker's framework import while the other imports too (`python -c "import torch,
mindspore"` twice at once), loading is `eqcheck list` of the same catalog (parse, expand, select), case work is the sum
of the report's per-case `duration_s`, and the parent's share is the --jobs 1 wall time left over once the first three
are taken out (receiving results, building and writing the report, the table).

Usage: .venv/bin/python benchmarks/bench_catalog.py [repeats] [plain|edges|explored ...]   (target: --jobs 2 <= 0.6x --jobs 1 on the explored
catalog, or on the edges catalog where there is no --explore)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import EQCHECK, ENV, PYTHON, ROOT, alternate, table, verdict, wall

TARGET = 0.6
IMPORT_BOTH = [PYTHON, "-c", "import torch, mindspore"]


def _has_explore() -> bool:
    help_text = subprocess.run([EQCHECK, "run", "--help"], cwd=ROOT, env=ENV, capture_output=True, text=True).stdout
    return "--explore" in help_text


def _import_two_at_once() -> float:
    started = time.perf_counter()
    procs = [subprocess.Popen(IMPORT_BOTH, cwd=ROOT, env=ENV) for _ in range(2)]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - started


def catalog(name: str, flags: list[str], repeats: int, tmp: Path) -> float:
    run = lambda jobs, *extra: [EQCHECK, "run", "-q", "configs", "--grad", *flags, "--jobs", str(jobs), *extra]
    one, two = f"{name}: --jobs 1", f"{name}: --jobs 2"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    medians = table(alternate({one: run(1), two: run(2)}, repeats, warmup=1 if repeats > 1 else 0), one)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ratio = medians[two] / medians[one]
    rounds = repeats + (1 if repeats > 1 else 0)
    cpu = ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / rounds
    # On a machine other jobs load, wall time stops scaling with --jobs long before CPU work does: the load says
    # how far to trust the wall ratio.
    print(f"{name}: CPU of one --jobs 1 and one --jobs 2 run together, all processes: {cpu:.2f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    report = tmp / f"{name}.json"
    wall(run(1, "--json", str(report)))
    document = json.loads(report.read_text())
    cases = len(document["cases"])
    work = sum(c.get("duration_s") or 0 for c in document["cases"])
    start_up = _import_two_at_once()
    load = wall([EQCHECK, "list", "configs", *[f for f in flags if f != "--grad"]])
    parent = max(0.0, medians[one] - max(start_up, load) - work)
    floor = max(start_up, load) + work / 2 + parent
    print(f"{name}: {cases} cases; case work {work:.2f} s (sum of duration_s); worker start-up with two importing "
          f"{start_up:.2f} s; loading the specs {load:.2f} s; the parent's share {parent:.2f} s")
    print(f"{name}: --jobs 2 can at best take {floor:.2f} s = {floor / medians[one]:.2f}x of --jobs 1; measured "
          f"{medians[two]:.2f} s = {ratio:.2f}x")
    return ratio


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    catalogs = [("plain", []), ("edges", ["--edges"])]
    if _has_explore():
        catalogs.append(("explored", ["--explore"]))
    chosen = sys.argv[2:]  # e.g. `explored`: only those catalogs
    catalogs = [(name, flags) for name, flags in catalogs if not chosen or name in chosen]
    with tempfile.TemporaryDirectory() as tmp:
        ratios = {name: catalog(name, flags, repeats, Path(tmp)) for name, flags in catalogs}
    print()
    for name, ratio in ratios.items():
        print(f"info  {name}: --jobs 2 / --jobs 1 = {ratio:.3f}x")
    gated = next((name for name in ("explored", "edges", "plain") if name in ratios))
    return 0 if verdict(f"--jobs 2 / --jobs 1 ({gated} catalog, --grad)", ratios[gated], TARGET) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
