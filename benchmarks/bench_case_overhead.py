"""Per-case overhead: 200 cheap cases (tanh on 16x16, both frameworks) through eqcheck vs the same ops in a plain loop.

Two measurements, both reported:
- in one process (frameworks already imported and warm): eqcheck's executor + report document vs a direct loop that
  draws the same inputs, calls torch.tanh and mindspore.ops.tanh and takes max |diff|; also through one worker (--jobs 1);
- end to end, as subprocesses: (`eqcheck run` on 200 cases - on 1 case) / 199 vs (the loop script for 200 - for 1) / 199.

Usage: .venv/bin/python benchmarks/bench_case_overhead.py [repeats]   (target: <= 2 ms extra per case)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import EQCHECK, PYTHON, ROOT, alternate, verdict

TARGET_MS = 2.0
N = 200
SPEC = """name: ops.tanh.bench
sweep:
  i: [{points}]
inputs:
  - name: x
    shape: [16, 16]
torch: {{op: torch.tanh}}
mindspore: {{op: mindspore.ops.tanh}}
"""
LOOP = '''import os, sys
os.environ.setdefault("GLOG_v", "3")
import numpy as np, torch, mindspore as ms
n = int(sys.argv[1])
for i in range(n):
    x = np.random.default_rng([0, i]).standard_normal((16, 16)).astype(np.float32)
    a = torch.tanh(torch.from_numpy(x)).numpy()
    b = ms.ops.tanh(ms.Tensor(x)).asnumpy()
    d = float(np.max(np.abs(a.astype(np.float64) - b)))
'''


def write_spec(folder: Path, n: int) -> Path:
    path = folder / f"tanh{n}.yaml"
    path.write_text(SPEC.format(points=", ".join(str(i) for i in range(n))))
    return path


def direct_loop(n: int) -> float:
    import mindspore as ms
    import numpy as np
    import torch

    started = time.perf_counter()
    for i in range(n):
        x = np.random.default_rng([0, i]).standard_normal((16, 16)).astype(np.float32)
        a = torch.tanh(torch.from_numpy(x)).numpy()
        b = ms.ops.tanh(ms.Tensor(x)).asnumpy()
        float(np.max(np.abs(a.astype(np.float64) - b)))
    return time.perf_counter() - started


def in_process(spec: Path, repeats: int) -> tuple[float, float, float]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("GLOG_v", "3")
    from eqcheck.cases.sweep import expand
    from eqcheck.execution.executor import InProcessExecutor
    from eqcheck.report import document as doc
    from eqcheck.execution.runner import CaseRunner
    from eqcheck.cases import load_specs
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.workers import WorkerPoolExecutor

    targets = parse_targets("torch,mindspore", "cpu")
    cases = [c for s in load_specs([str(spec)]) for c in expand(s)]
    executor = InProcessExecutor(CaseRunner(targets, seed=0))
    executor.start(cases)
    list(executor.run(cases[:5]))  # warm both frameworks' kernels
    direct_loop(5)
    eq, direct = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        results = list(executor.run(cases))
        doc.build_document(results, environment=executor.environment(), seed=0, settings={}, wall_time_s=0.0, complete=True)
        eq.append(time.perf_counter() - started)
        direct.append(direct_loop(N))
    pool = WorkerPoolExecutor(targets, seed=0, jobs=1)
    pool.start(cases)
    started = time.perf_counter()
    list(pool.run(cases))
    worker = time.perf_counter() - started
    return statistics.median(eq), statistics.median(direct), worker


def main() -> int:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        spec_n, spec_1 = write_spec(folder, N), write_spec(folder, 1)
        loop = folder / "loop.py"
        loop.write_text(LOOP)

        eq, direct, worker = in_process(spec_n, repeats)
        extra = (eq - direct) / N * 1000
        print(f"in one process, {N} cases: eqcheck {eq:.3f} s, direct loop {direct:.3f} s, one worker (--jobs 1) {worker:.3f} s")
        print(f"  per case: eqcheck {eq / N * 1000:.2f} ms, direct {direct / N * 1000:.2f} ms, worker {worker / N * 1000:.2f} ms")
        ok = verdict("in-process extra per case", extra, TARGET_MS, " ms")
        verdict("worker (--jobs 1) extra per case", (worker - direct) / N * 1000, TARGET_MS, " ms")

        times = alternate({
            "eqcheck 200": [EQCHECK, "run", "-q", str(spec_n)], "eqcheck 1": [EQCHECK, "run", "-q", str(spec_1)],
            "loop 200": [PYTHON, str(loop), str(N)], "loop 1": [PYTHON, str(loop), "1"],
        }, max(3, repeats))
        med = {k: statistics.median(v) for k, v in times.items()}
        per_eq = (med["eqcheck 200"] - med["eqcheck 1"]) / (N - 1) * 1000
        per_loop = (med["loop 200"] - med["loop 1"]) / (N - 1) * 1000
        print("end to end (subprocess medians): " + ", ".join(f"{k} {v:.3f} s" for k, v in med.items()))
        print(f"  per case: eqcheck {per_eq:.2f} ms, direct {per_loop:.2f} ms")
        ok &= verdict("end-to-end extra per case", per_eq - per_loop, TARGET_MS, " ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
