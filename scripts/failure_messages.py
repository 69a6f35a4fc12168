"""The failure messages of a run, as test data for eqcheck/backends/failure_kinds.py.

Usage: python scripts/failure_messages.py REPORT.json > tests/data/failures/mindspore-VERSION.json
Every case that came out `error` or `unsupported`, with the target, the step, the exception type and its first line.
"""

from __future__ import annotations

import json
import re
import sys

# "mindspore failed to call: RuntimeError: text" or "mindspore has no Roll kernel on cpu (failed to call: RuntimeError: text)"
MESSAGE = re.compile(r"^(?P<target>[\w:-]+) (?:failed to|has no \w+ kernel on \w+ \(failed to) (?P<step>[\w ]+?): "
                     r"(?P<type>\w+): (?P<text>.*?)\)?$")


def main(path: str) -> None:
    document = json.load(open(path, encoding="utf-8"))
    rows = []
    for case in document["cases"]:
        found = MESSAGE.match(case.get("message") or "") if case["status"] in ("error", "unsupported") else None
        if found:
            rows.append({"id": case["id"], **found.groupdict()})
    versions = document["environment"].get("versions", {})
    json.dump({"versions": versions, "command": "eqcheck run configs --grad", "failures": rows}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
