"""Limits on the raw YAML document, checked before any field is read: specs may come from untrusted pull requests.

- Size: MAX_BYTES (256 KiB; the largest shipped spec is 13 KB) is refused before the YAML parser sees it.
- Expansion: a YAML alias is one node in the file but every use is a value later steps copy and walk, so an
  8-level tree of aliases under 1 KB expands to billions. The tree is walked once as the aliases expand it and
  refused past MAX_NODES values (20,000; the largest shipped spec has 639).
- Cases: at most MAX_CASES_PER_SPEC sweep points x dtypes per spec (counted from the axis lengths, before any
  point is built), at most MAX_WORK cases x document values (what validate evaluates), and MAX_CASES_PER_RUN per
  run (after edges, boundary and explore variants).
- Control characters: no string may carry C0/C1 control characters other than tab and newline. Spec text
  reaches terminals (an OSC escape rewrites the title), JUnit XML (unparsable) and shell lines.

Imports no framework and no yaml.
"""

from __future__ import annotations

import re
from typing import Any

from eqcheck.errors import SpecError
from eqcheck.spec.fields import join

MAX_BYTES = 256 * 1024
MAX_NODES = 20_000
MAX_CASES_PER_SPEC = 1_024  # sweep points x dtypes; the largest shipped spec has 12
MAX_WORK = 20_000  # cases x document values, what validate evaluates (~0.2 s); the largest shipped spec: 12 x 113 = 1,356
MAX_CASES_PER_RUN = 200_000  # cases after -k, edges, boundary and explore; the whole explored catalog is ~22,000
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_size(text: str, file: str) -> None:
    if len(text) > MAX_BYTES:
        raise SpecError(f"the file has {len(text):,} characters, above the limit of {MAX_BYTES:,} for a spec", file=file)


def check_cases(sweep: dict[str, tuple], dtypes: tuple[str, ...], file: str, values: int = 1) -> None:
    """The sweep's size from its axis lengths, before a point is built (9 axes of 10 values grew validate past 3.7 GB),
    and the work of evaluating every case: cases x the document's `values` (check_tree's count), so that validate
    stays well under a second on any spec (1,000 inputs x 4,096 cases ran for minutes)."""
    count = len(dtypes)
    for axis, axis_values in sweep.items():
        count *= len(axis_values)
        if count > MAX_CASES_PER_SPEC:
            raise SpecError(f"the sweep has at least {count:,} cases (axes x dtypes), above the limit of "
                            f"{MAX_CASES_PER_SPEC:,} per spec; nothing was expanded", file=file, field=f"sweep.{axis}")
    if count * values > MAX_WORK:
        raise SpecError(f"{count:,} cases of a {values:,}-value document are {count * values:,} values to evaluate, above "
                        f"the limit of {MAX_WORK:,}; use fewer sweep values or a smaller spec", file=file, field="sweep")


def check_run(count: int) -> None:
    """A run's case count after every selection and variant, before the first case runs."""
    if count > MAX_CASES_PER_RUN:
        raise SpecError(f"the run has {count:,} cases, above the limit of {MAX_CASES_PER_RUN:,}; select fewer with -k "
                        f"or run the specs in parts (--shard)")


def check_tree(data: Any, file: str) -> int:
    """Walk the parsed document as its aliases expand; refuse past MAX_NODES values or at a control character.
    Returns the number of values."""
    stack: list[tuple[Any, str]] = [(data, "")]
    seen = 0
    while stack:
        node, field = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise SpecError(f"the document expands to more than {MAX_NODES:,} values (each use of a YAML alias counts); "
                            f"nothing was evaluated", file=file, field=field or "<top level>")
        if isinstance(node, dict):
            for key, value in node.items():
                inner = join(field, key if isinstance(key, (str, int)) else str(key))
                stack.append((key, inner))
                stack.append((value, inner))
        elif isinstance(node, list):
            stack.extend((value, join(field, i)) for i, value in enumerate(node))
        elif isinstance(node, str):
            found = CONTROL.search(node)
            if found:
                raise SpecError(f"the text contains the control character {found.group(0)!r}; spec text reaches terminals, "
                                f"XML and shell lines, so only printable characters, tabs and newlines are accepted",
                                file=file, field=field or "<top level>")
    return seen
