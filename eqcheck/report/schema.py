"""The JSON Schema of the report, shipped as package data (eqcheck/report/schema.json); `eqcheck schema` prints it.

Validation needs the optional `jsonschema` package (a test dependency); eqcheck itself never validates at
run time, so a report is never refused for a key a later minor version added.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


def text() -> str:
    return resources.files("eqcheck.report").joinpath("schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load() -> dict:
    return json.loads(text())


def errors(document: dict) -> list[str]:
    """Every schema violation in a report, as 'path: message' lines (needs jsonschema)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load())
    return [f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in sorted(validator.iter_errors(document), key=str)]
