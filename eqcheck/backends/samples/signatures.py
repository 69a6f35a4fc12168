"""MindSpore's own parameter names of an op (inspect), for --explore's same-name rule (docs/explore.md).

Entries are `MSVERSION/DOTTED` (`2.6.0/mindspore.ops.sum`): the torch-keyed cache holds them per MindSpore version.
A record: `call` (the function's or construct's parameter names, keyword-only included), `init` (a class's
constructor's), each None where inspect cannot read it. No value maps: only names."""

from __future__ import annotations

import inspect
from typing import Any

_SKIP = ("self", "cls")


def load() -> dict[str, Any]:
    import mindspore  # noqa: F401 - the child imports it once

    return {}


def index(catalog: dict[str, Any]) -> dict[str, Any]:
    return {"names": [], "aliases": {}}


def _names(function: Any) -> list[str] | None:
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    return [p.name for p in params if p.name not in _SKIP and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def build(catalog: dict[str, Any], name: str, seed: int) -> tuple[dict[str, Any], dict]:
    from eqcheck.backends.resolve import resolve_dotted

    dotted = name.split("/", 1)[-1]
    try:
        target = resolve_dotted(dotted)
    except (LookupError, ImportError) as exc:
        return {"entry": name, "missing": True, "note": str(exc)[:200]}, {}
    if isinstance(target, type):
        return {"entry": name, "init": _names(target.__init__), "call": _names(getattr(target, "construct", None))}, {}
    return {"entry": name, "init": None, "call": _names(target)}, {}
