"""A strict reader for YAML mappings: every key is known, every value has the right type, every error has a path."""

from __future__ import annotations

import difflib
from typing import Any, Iterable

from eqcheck.errors import SpecError

_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "true or false",
    int: "an integer",
    float: "a number",
}


def type_name(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number"}.get(
        type(value), type(value).__name__
    )


def expected_names(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def check_type(value: Any, types: tuple[type, ...], file: str, field: str) -> Any:
    ok = isinstance(value, types)
    if isinstance(value, bool) and bool not in types:
        ok = False  # YAML 'true' is not an integer here
    if not ok:
        raise SpecError(f"expected {expected_names(types)}, got {type_name(value)}", file=file, field=field)
    return value


def suggest(word: str, choices: Iterable[str]) -> str | None:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class Fields:
    """Reads a mapping; `done()` refuses keys nobody asked for, so typos never pass silently."""

    def __init__(self, data: Any, file: str, path: str, allowed: Iterable[str]):
        self.file = file
        self.path = path
        self.data = check_type(data, (dict,), file, path or "<top level>")
        self.allowed = tuple(allowed)
        for key in self.data:
            if not isinstance(key, str):
                raise SpecError(f"keys must be strings, got {type_name(key)} '{key}'", file=file, field=path or "<top level>")
            if key not in self.allowed:
                raise SpecError(
                    f"unknown key '{key}' (allowed: {', '.join(self.allowed)})",
                    file=file,
                    field=join(path, key),
                    hint=suggest(key, self.allowed),
                )

    def field(self, key: str) -> str:
        return join(self.path, key)

    def has(self, key: str) -> bool:
        return key in self.data

    def required(self, key: str, *types: type) -> Any:
        if key not in self.data:
            raise SpecError("this field is required", file=self.file, field=self.field(key))
        return check_type(self.data[key], types, self.file, self.field(key))

    def optional(self, key: str, default: Any, *types: type) -> Any:
        if key not in self.data:
            return default
        return check_type(self.data[key], types, self.file, self.field(key))

    def error(self, key: str | None, reason: str, hint: str | None = None) -> SpecError:
        return SpecError(reason, file=self.file, field=self.field(key) if key else self.path, hint=hint)
