"""Time and memory of eqcheck.verdict.compare against a bare ``np.max(np.abs(a - b))``.

Targets (issue): compare() takes <= 3.0x the bare max-abs-diff time and <= 256 MiB extra peak
memory on two 2**27-element float32 arrays.

    .venv/bin/python benchmarks/bench_metrics.py [--size-log2 27] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eqcheck.verdict.compare import CHUNK_SIZE, compare
from eqcheck.dtypes import DEFAULT_TOLERANCES

TIME_RATIO_TARGET = 3.0
PEAK_MIB_TARGET = 256.0
MIB = 2**20


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def extra_peak_mib(fn) -> float:
    """Peak bytes allocated while fn runs, above what was allocated before (numpy reports to tracemalloc)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - before) / MIB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-log2", type=int, default=27, help="arrays hold 2**N float32 elements (default 27)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    n = 2**args.size_log2
    rng = np.random.default_rng(args.seed)
    a = rng.standard_normal(n, dtype=np.float32)
    # candidate = reference plus float32-rounding-sized relative noise, as two frameworks give
    b = a * (np.float32(1.0) + np.float32(2e-7) * rng.standard_normal(n, dtype=np.float32))
    tol = DEFAULT_TOLERANCES["float32"]

    def baseline():
        return np.max(np.abs(a - b))

    def ours():
        return compare(a, b, tol)

    # warm both once (first-touch page faults, lazy imports), and show the verdict
    ref_max = float(baseline())
    dev = ours()
    assert dev.max_abs >= ref_max, (dev.max_abs, ref_max)  # float64 diff never rounds below float32's

    # interleave so a busy machine hurts both sides alike
    t_base = t_ours = float("inf")
    for _ in range(args.repeat):
        t_base = min(t_base, best_time(baseline, 1))
        t_ours = min(t_ours, best_time(ours, 1))
    m_base = extra_peak_mib(baseline)
    m_ours = extra_peak_mib(ours)

    ratio = t_ours / t_base
    time_ok = ratio <= TIME_RATIO_TARGET
    mem_ok = m_ours <= PEAK_MIB_TARGET

    print(f"arrays: 2 x 2**{args.size_log2} float32 ({n * 4 / MIB:.0f} MiB each), best of {args.repeat}, "
          f"chunk {CHUNK_SIZE} elements")
    print(f"verdict: passed={dev.passed} max_abs={dev.max_abs:.3g} max_rel={dev.max_rel:.3g} "
          f"cosine={dev.cosine!r} mismatched={dev.mismatched}")
    print()
    print(f"{'':28} {'time (s)':>10} {'extra peak (MiB)':>18}")
    print(f"{'np.max(np.abs(a - b))':28} {t_base:10.3f} {m_base:18.1f}")
    print(f"{'compare(a, b, float32 tol)':28} {t_ours:10.3f} {m_ours:18.1f}")
    print()
    print(f"time ratio: {ratio:.2f}x (target <= {TIME_RATIO_TARGET:.1f}x)  {'PASS' if time_ok else 'FAIL'}")
    print(f"extra peak: {m_ours:.1f} MiB (target <= {PEAK_MIB_TARGET:.0f} MiB)  {'PASS' if mem_ok else 'FAIL'}")
    return 0 if time_ok and mem_ok else 1


if __name__ == "__main__":
    sys.exit(main())
