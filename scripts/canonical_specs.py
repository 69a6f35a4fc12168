"""Rewrite spec files in the one spec style (eqcheck/spec/writer.py), comments kept; tests/test_shipped_configs.py
fails on a spec not in it. Each rewrite is checked to load as the same data before it is written.

    python scripts/canonical_specs.py configs            # rewrite every spec under configs/
    python scripts/canonical_specs.py configs --check    # list the specs not in the style; exit 1 if any
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eqcheck.spec import writer
from eqcheck.spec.discovery import discover_spec_files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if a != "--check"] or ["configs"]
    changed = 0
    for path in discover_spec_files(paths):
        text = Path(path).read_text(encoding="utf-8")
        new = writer.rewrite(text)
        if new == text:
            continue
        if yaml.safe_load(new) != yaml.safe_load(text):  # never: the writer keeps the data; refuse rather than write
            print(f"{path}: the rewrite would change the data; left as it is", file=sys.stderr)
            return 2
        changed += 1
        if check:
            print(path)
        else:
            Path(path).write_text(new, encoding="utf-8")
    print(f"{changed} spec files {'not in the spec style' if check else 'rewritten'}", file=sys.stderr)
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
