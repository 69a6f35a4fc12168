"""What --edges costs: `eqcheck run configs --grad` with and without --edges, side by side in one run.

--edges adds up to 7 variants per case (int, nan, inf, kink, masked, single, zero_batch) and calls every side twice
(--repeat 2), so the expected cost is roughly (cases with edges / plain cases) x (1 + the repeat share of a case).
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
    print(f"per case: plain {seconds['plain'] / count['plain'] * 1e3:.1f} ms, --edges {seconds['edges'] / count['edges'] * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
