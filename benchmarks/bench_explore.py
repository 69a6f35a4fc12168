"""--explore over the catalog: wall time with --jobs 1 and --jobs 2 side by side, samples per pair, findings by class.

    python benchmarks/bench_explore.py [PATHS...] [--repeats N]     (default: configs, 1 timed round after a warm-up)

The sample cache is built by the warm-up round, so the timed rounds measure running, not building. Prints the
ratio jobs2/jobs1 (target <= 0.6 on the 2-core machine), the median samples run per spec with an entry and how
many have fewer than 10, and the explored cases by status with example ids (for the findings page)."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from _timing import EQCHECK, alternate, table, verdict


def main(argv: list[str]) -> int:
    repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 1
    paths = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] != "--repeats")] or ["configs"]
    out = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    commands = {f"run --explore --grad --jobs {j}": [EQCHECK, "run", *paths, "--explore", "--grad", "-q", "--jobs", str(j),
                                                      "--json", str(out / f"jobs{j}.json")] for j in (1, 2)}
    medians = table(alternate(commands, repeats=repeats, warmup=1), baseline="run --explore --grad --jobs 1")
    ratio = medians["run --explore --grad --jobs 2"] / medians["run --explore --grad --jobs 1"]
    verdict("--jobs 2 / --jobs 1", ratio, 0.6)

    document = json.loads((out / "jobs1.json").read_text())
    counts = document.get("explore", {})
    runs = [t["run"] for t in counts.values() if t["entry"]]
    print(f"\nspecs with a sample entry: {len(runs)} of {len(counts)} looked up; samples run per spec: median "
          f"{statistics.median(runs) if runs else 0}, fewer than 10: {sum(r < 10 for r in runs)}")
    unmapped = defaultdict(int)
    for t in counts.values():
        for arg, n in t["unmapped"].items():
            unmapped[arg.split("=")[0]] += n
    print("most unmapped arguments:", ", ".join(f"{a} x{n}" for a, n in sorted(unmapped.items(), key=lambda kv: -kv[1])[:10]))
    by_status = defaultdict(list)
    for case in document["cases"]:
        if "sample" in case:
            kind = "error input" if "error_input=" in case["id"] else "sample"
            by_status[(kind, case["status"])].append(case["id"])
    print("\nexplored cases by class:")
    for (kind, status), ids in sorted(by_status.items()):
        print(f"  {kind:<12} {status:<20} {len(ids):>6}   e.g. {', '.join(ids[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
