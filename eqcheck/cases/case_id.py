"""Case ids, formatted and read back here only: `NAME[key=value,...,DTYPE,VARIANT...]`.

NAME is the spec's name; then the sweep point in declared order (a list or tuple value as `(a,b)`), the dtype (the
one bare part), then the variant parts: `sample=K` or `error_input=K` (--explore), `edge=V` (--edges) or
`boundary=V` (--boundary). Pages and commands that need a part of an id ask this module, never split it themselves.
"""

from __future__ import annotations

from typing import Any

VARIANT_KEYS = ("sample", "error_input", "edge", "boundary")  # parts naming a variant, not a sweep value or the dtype


def format_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(format_value(v) for v in value) + ")"
    return str(value)


def format_id(name: str, point, dtype: str, variants: tuple[tuple[str, Any], ...] = ()) -> str:
    """The id of a case: `point` and `variants` as (key, value) pairs, variants in VARIANT_KEYS order."""
    parts = [f"{key}={format_value(value)}" for key, value in point] + [dtype]
    parts += [f"{key}={value}" for key, value in variants]
    return f"{name}[{','.join(parts)}]"


def spec_name(case_id: str) -> str:
    return case_id.split("[", 1)[0]


def _split(inner: str) -> list[str]:
    """Comma-separated parts at the top level: a tuple value `(2,3)` stays one part."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    return parts + [inner[start:]] if inner else parts


def parts(case_id: str) -> dict[str, str]:
    """The key=value parts of an id in order; the bare dtype under `dtype`."""
    name, bracket, rest = case_id.partition("[")
    out = {}
    for part in _split(rest[:-1] if bracket and rest.endswith("]") else ""):
        key, eq, value = part.partition("=")
        out[key if eq else "dtype"] = value if eq else key
    return out
