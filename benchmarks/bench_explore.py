"""--explore over the catalog: wall time with --jobs 1 and --jobs 2 side by side, samples per pair, findings by class.

    python benchmarks/bench_explore.py [PATHS...] [--repeats N]     (default: configs, 1 timed round)
    python benchmarks/bench_explore.py --stats REPORT.json [PATHS...]   (only the counts, from an explored report)
    python benchmarks/bench_explore.py --old /path/to/older/checkout [--repeats N]   (before/after, side by side)

`eqcheck list --explore` builds the sample cache first (untimed), so the timed rounds measure running, not
building. Prints the ratio jobs2/jobs1 (target <= 0.6 on the 2-core machine), explored cases and torch samples
per pair (median, how many pairs have fewer than 10), and the cases by class and status with example ids.
With --old, each tree runs its own code over its own configs/ (`--jobs 2`), alternating rounds: the wall times,
the explored cases each ran, and the time per case, so a larger catalog is not mistaken for a slower one."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from _timing import EQCHECK, PYTHON, ROOT, alternate, table, verdict


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


RUN = "import sys; from eqcheck.cli import main; sys.argv = ['eqcheck'] + sys.argv[1:]; main()"


def before_after(old: str, repeats: int) -> int:
    """The explored catalog of an older checkout and of this one, alternating rounds."""
    out = Path(tempfile.mkdtemp(prefix="bench-explore-trees-"))
    trees = {"old tree": Path(old).resolve(), "this tree": ROOT}
    commands = {}
    for name, tree in trees.items():  # PYTHONPATH picks the tree's package over the venv's editable install
        report = out / f"{name.split()[0]}.json"
        base = ["env", f"PYTHONPATH={tree}", PYTHON, "-P", "-c", RUN]  # -P: the cwd (this tree) is not put first
        subprocess.run([*base, "list", str(tree / "configs"), "--explore"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)  # each tree's sample cache, untimed
        commands[name] = [*base, "run", str(tree / "configs"), "--explore", "--grad", "-q", "--jobs", "2",
                          "--json", str(report)]
    medians = table(alternate(commands, repeats=repeats, warmup=0), baseline="old tree")
    per_case = {}
    for name in trees:
        document = json.loads((out / f"{name.split()[0]}.json").read_text())
        statuses = Counter(case["status"] for case in document["cases"])
        per_case[name] = medians[name] / len(document["cases"])
        print(f"{name}: {len(document['cases'])} cases ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}), "
              f"{1000 * per_case[name]:.1f} ms per case")
    print(f"time per case, this tree / old tree: {per_case['this tree'] / per_case['old tree']:.2f}x; "
          f"reports kept in {out}")
    return 0


def main(argv: list[str]) -> int:
    if "--old" in argv:
        return before_after(argv[argv.index("--old") + 1],
                            int(argv[argv.index("--repeats") + 1]) if "--repeats" in argv else 1)
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
