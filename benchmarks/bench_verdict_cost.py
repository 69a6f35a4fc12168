"""What the verdict rule costs on the catalog: `eqcheck run configs -j 2` with this tree against an older tree, side
by side in one run, alternating rounds (issue 28's target: at most 1.15x). Each tree runs its own code and its own
configs/ (its specs and declarations are part of what it is).

    python benchmarks/bench_verdict_cost.py --old /path/to/older/checkout [--repeats 2] [-- extra run options]
"""

from __future__ import annotations

import argparse
import os
import sys

from _timing import PYTHON, ROOT, alternate, table, verdict

RUN = "import sys; from eqcheck.cli import main; sys.argv = ['eqcheck'] + sys.argv[1:]; main()"


def command(tree: str, extra: list[str]) -> list[str]:
    # PYTHONPATH picks the tree's package over the venv's editable install; the tree's configs are its catalog.
    return ["env", f"PYTHONPATH={tree}", PYTHON, "-P", "-c", RUN, "run", os.path.join(tree, "configs"), "-j", "2", "-q", *extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", required=True, help="an older checkout (e.g. a git worktree of the previous main)")
    parser.add_argument("--repeats", type=int, default=2)
    args, extra = parser.parse_known_args()
    extra = [e for e in extra if e != "--"]
    times = alternate({"old tree": command(os.path.abspath(args.old), extra), "this tree": command(str(ROOT), extra)},
                      args.repeats, warmup=0)
    medians = table(times, "old tree")
    ok = verdict("this tree / old tree", medians["this tree"] / medians["old tree"], 1.15)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
