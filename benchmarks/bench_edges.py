"""What --edges costs: `eqcheck run configs --grad` with and without --edges, side by side in one run.

--edges adds up to 7 variants per case (int, nan, inf, kink, masked, single, zero_batch), calls every side twice
(--repeat 2) and runs in a worker process (-j 1) that restarts after each errored case; its failing rows also get
float64 re-runs (the error budget). Two more rows separate those costs.
Prints the wall-clock ratio (process start and framework imports included) and the ratio of the summed case
durations in the reports (cases only).

Usage: .venv/bin/python benchmarks/bench_edges.py [repeats] [paths...]   (default: 3 rounds over configs/)
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
    paths = sys.argv[2:] or ["configs"]
    out = Path(tempfile.mkdtemp(prefix="bench_edges_"))
    run = [PYTHON, "-m", "eqcheck", "run", "-q", "--grad", *paths]
    commands = {
        "eqcheck run --grad": [*run, "--json", str(out / "plain.json")],
        "eqcheck run --grad --edges": [*run, "--edges", "--json", str(out / "edges.json")],
        "eqcheck run --grad --repeat 2": [*run, "--repeat", "2", "--json", str(out / "repeat.json")],
        # Where the time goes: in this process (no worker, no restart after a crashed case) and without float64 re-runs
        # of failing rows; the default error budget re-runs a MindSpore kernel that crashes this process, hence both.
        "... --edges -j 0 --no-error-budget": [*run, "--edges", "-j", "0", "--no-error-budget", "--json", str(out / "bare.json")],
        "... --no-error-budget (plain)": [*run, "--no-error-budget", "--json", str(out / "plain_bare.json")],
    }
    times = alternate(commands, repeats)
    medians = table(times, "eqcheck run --grad")
    cases = {name: json.loads((out / f"{name}.json").read_text())["cases"] for name in ("plain", "edges", "repeat")}
    seconds = {name: sum(c["duration_s"] for c in records) for name, records in cases.items()}
    count = {name: len(records) for name, records in cases.items()}
    print(f"cases: plain {count['plain']}, --edges {count['edges']} ({count['edges'] / count['plain']:.2f}x)")
    print(f"case time (sum of duration_s, last round): plain {seconds['plain']:.2f}s, --repeat 2 {seconds['repeat']:.2f}s "
          f"({seconds['repeat'] / seconds['plain']:.2f}x), --edges {seconds['edges']:.2f}s ({seconds['edges'] / seconds['plain']:.2f}x)")
    print(f"wall clock, process included: --edges / plain = {medians['eqcheck run --grad --edges'] / medians['eqcheck run --grad']:.2f}x "
          f"(median of {repeats})")
    print(f"in process, no error budget: --edges / plain = "
          f"{medians['... --edges -j 0 --no-error-budget'] / medians['... --no-error-budget (plain)']:.2f}x")
    print(f"per case: plain {seconds['plain'] / count['plain'] * 1e3:.1f} ms, --edges {seconds['edges'] / count['edges'] * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
