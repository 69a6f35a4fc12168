"""Dotted path -> object, importing only as deep as needed (torch.nn.functional.gelu, mindspore.Tensor.std)."""

from __future__ import annotations

import importlib
from typing import Any


def resolve_dotted(path: str) -> Any:
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
            continue
        except AttributeError:
            pass
        try:  # a submodule not imported by its parent package
            obj = importlib.import_module(".".join(parts[: i + 1]))
        except ImportError:
            raise LookupError(f"'{'.'.join(parts[:i])}' has no attribute '{part}'") from None
    if not callable(obj):
        raise LookupError(f"'{path}' is a {type(obj).__name__}, not a callable")
    return obj
