"""`eqcheck watch`: an edited one-spec re-run on the warm worker vs a cold `eqcheck run` of the same spec, side by side;
then where the time of one warm re-run goes.

Each round runs the cold command once, then saves an edit of the watched spec (the GRUCell spec, 4 cases with
gradients; the edit toggles its batch sweep) and times from just before the save to the watch's status line. The
profile drives the same warm pool in this process (eqcheck/execution/watch.py) and splits one re-run into its steps.

Usage: .venv/bin/python benchmarks/bench_watch.py [rounds]   (target: warm re-run <= 0.3 s wall from the save)
"""

from __future__ import annotations

import io
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _timing import EQCHECK, ENV, ROOT, verdict, wall

TARGET_S = 0.3
SPEC = ROOT / "configs" / "nn" / "GRUCell.yaml"
EDITS = ("batch: [1, 64]", "batch: [1, 8]")
STATUS = "re-ran 1 spec"


def _wait_for(lines: queue.Queue, text: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        if text in line:
            return line


def side_by_side(rounds: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "GRUCell.yaml"
        original = SPEC.read_text()
        spec.write_text(original)
        watch = subprocess.Popen([EQCHECK, "watch", str(spec)], cwd=ROOT, env=ENV, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in watch.stdout], daemon=True).start()
        try:
            _wait_for(lines, STATUS)
            cold, warm, reported = [], [], []
            for round_ in range(rounds + 1):  # round 0 warms up both
                elapsed_cold = wall([EQCHECK, "run", str(spec)])
                time.sleep(0.2)  # let the machine settle: the watch is idle between saves
                text = original.replace(EDITS[0], EDITS[1]) if round_ % 2 == 0 else original
                started = time.perf_counter()
                spec.write_text(text)
                line = _wait_for(lines, STATUS)
                elapsed_warm = time.perf_counter() - started
                if round_:
                    cold.append(elapsed_cold)
                    warm.append(elapsed_warm)
                    reported.append(line.strip())
        finally:
            watch.terminate()
            watch.wait(30)
    print(f"{'command':<52} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in (("eqcheck run configs/nn/GRUCell.yaml (cold)", cold), ("eqcheck watch: save -> status line (warm)", warm)):
        print(f"{name:<52} {statistics.median(values):9.3f} {min(values):7.3f} {max(values):7.3f}")
    print(f"last status line: {reported[-1]}")
    return statistics.median(cold), statistics.median(warm)


def profile(rounds: int) -> None:
    """One warm re-run, step by step, in this process (the watch's parent side) over a warm worker."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("GLOG_v", "3")
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases import expand, load_specs
    from eqcheck.cases.draws import DEFAULT_SEED
    from eqcheck.execution.workers import WorkerPoolExecutor, order_results
    from eqcheck.report import console as view
    from eqcheck.report import document as doc

    pool = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=DEFAULT_SEED, jobs=1, keep_warm=True)
    pool.launch()
    steps: dict[str, list[float]] = {}
    try:
        for round_ in range(rounds + 1):
            marks = [("", time.perf_counter())]
            cases = [case for spec in load_specs([str(SPEC)]) for case in expand(spec)]
            marks.append(("load + expand the spec (parent)", time.perf_counter()))
            pool.start(cases)
            marks.append(("plan to the worker, fresh runner + resolve (round trip)", time.perf_counter()))
            results = order_results(list(pool.run(cases)), cases)
            marks.append(("run the cases (worker) + send results", time.perf_counter()))
            document = doc.build_document(results, environment=pool.environment(), seed=DEFAULT_SEED, settings={},
                                          wall_time_s=0.0, complete=True)
            marks.append(("build the report document (parent)", time.perf_counter()))
            console = view.Console(file=io.StringIO(), width=200)
            view.render_document(console, document)
            marks.append(("render the table (parent)", time.perf_counter()))
            if round_:  # round 0: the worker's first calls of GRUCell (cold kernels), as a watch's first run
                for (name, at), (_, before) in zip(marks[1:], marks):
                    steps.setdefault(name, []).append(at - before)
                steps.setdefault("  of which inside the runner (sum of duration_s)", []).append(sum(r.duration_s for r in results))
    finally:
        pool.close()
    print("\none warm re-run of configs/nn/GRUCell.yaml (4 cases, gradients), medians:")
    total = 0.0
    for name, values in steps.items():
        value = statistics.median(values)
        total += value if not name.startswith(" ") else 0.0
        print(f"  {name:<58} {value * 1e3:7.1f} ms")
    print(f"  {'total (without the file poll, <= 50 ms, and the terminal)':<58} {total * 1e3:7.1f} ms")


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cold, warm = side_by_side(rounds)
    print(f"info  warm / cold: {warm / cold:.3f}x")
    ok = verdict("warm re-run, save -> status line", warm, TARGET_S, unit=" s")
    profile(rounds)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
