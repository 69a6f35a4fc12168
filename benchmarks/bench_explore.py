"""--explore over the catalog: wall time with --jobs 1 and --jobs 2 side by side, samples per pair, findings by class.

    python benchmarks/bench_explore.py [PATHS...] [--repeats N]     (default: configs, 1 timed round)
    python benchmarks/bench_explore.py --stats REPORT.json [PATHS...]   (only the counts, from an explored report)

`eqcheck list --explore` builds the sample cache first (untimed), so the timed rounds measure running, not
building. Prints the ratio jobs2/jobs1 (target <= 0.6 on the 2-core machine), explored cases and torch samples
per pair (median, how many pairs have fewer than 10), and the cases by class and status with example ids."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from _timing import EQCHECK, ROOT, alternate, table, verdict


def _kind(case_id: str) -> str:
    return ("error_input" if "error_input=" in case_id else "sample" if "sample=" in case_id
            else "boundary" if "boundary=" in case_id else "plain")


def depth(document: dict, paths: list[str]) -> None:
    """Explored cases per pair (torch op x MindSpore op: specs of one pair pooled), and findings by class."""
    sys.path.insert(0, str(ROOT))
    from eqcheck.cases import load_specs

    pair_of = {spec.path.split("configs/")[-1]: (spec.sides["torch"].op, spec.sides["mindspore"].op)
               for spec in load_specs(paths) if {"torch", "mindspore"} <= set(spec.sides)}
    per_pair: dict[tuple, Counter] = defaultdict(Counter)
    for case in document["cases"]:
        pair = pair_of.get(case["spec"].split("configs/")[-1])
        if pair is not None:
            per_pair[pair][_kind(case["id"])] += 1
    explored = [c["sample"] + c["boundary"] + c["error_input"] for c in per_pair.values()]
    samples = [c["sample"] for c in per_pair.values()]
    print(f"\n{len(per_pair)} pairs. Explored cases per pair (torch samples + boundary variants + error inputs): "
          f"median {statistics.median(explored):g}, fewer than 10: {sum(n < 10 for n in explored)}")
    print(f"torch samples run per pair: median {statistics.median(samples):g}, fewer than 10: "
          f"{sum(n < 10 for n in samples)}, none: {sum(n == 0 for n in samples)}")
    counts = document.get("explore", {})
    runs = [t["run"] for t in counts.values() if t["entry"]]
    print(f"specs with a sample entry: {len(runs)} of {len(counts)} looked up; samples run per such spec: median "
          f"{statistics.median(runs) if runs else 0:g}, fewer than 10: {sum(r < 10 for r in runs)}")
    unmapped: Counter = Counter()
    for t in counts.values():
        for arg, n in t["unmapped"].items():
            unmapped[arg.split("=")[0]] += n
    print("most unmapped arguments:", ", ".join(f"{a} x{n}" for a, n in unmapped.most_common(10)))
    by_status = defaultdict(list)
    for case in document["cases"]:
        by_status[(_kind(case["id"]), case["status"])].append(case["id"])
    print("\ncases by class and status:")
    for (kind, status), ids in sorted(by_status.items()):
        print(f"  {kind:<12} {status:<20} {len(ids):>6}   e.g. {', '.join(ids[:2])}")


def main(argv: list[str]) -> int:
    if "--stats" in argv:  # only the counts, from a report already written
        report = argv[argv.index("--stats") + 1]
        depth(json.loads(Path(report).read_text()), [a for a in argv if a not in ("--stats", report)] or ["configs"])
        return 0
    repeats = int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 1
    paths = [a for i, a in enumerate(argv) if not a.startswith("--") and (i == 0 or argv[i - 1] != "--repeats")] or ["configs"]
    out = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    subprocess.run([EQCHECK, "list", *paths, "--explore"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)  # builds the sample cache
    commands = {f"run --explore --grad --jobs {j}": [EQCHECK, "run", *paths, "--explore", "--grad", "-q", "--jobs", str(j),
                                                      "--json", str(out / f"jobs{j}.json")] for j in (1, 2)}
    medians = table(alternate(commands, repeats=repeats, warmup=0), baseline="run --explore --grad --jobs 1")
    ratio = medians["run --explore --grad --jobs 2"] / medians["run --explore --grad --jobs 1"]
    verdict("--jobs 2 / --jobs 1", ratio, 0.6)
    depth(json.loads((out / "jobs1.json").read_text()), paths)
    print(f"\nreports kept: {out / 'jobs1.json'}, {out / 'jobs2.json'} (`eqcheck findings` reads either)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
