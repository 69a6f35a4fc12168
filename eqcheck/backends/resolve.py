"""Dotted path -> object, importing only as deep as needed (torch.nn.functional.gelu, mindspore.Tensor.std)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


def resolve_factory(path: str) -> Any:
    """A user's model factory, "package.module:attribute"; the current folder is importable, as with `python -m`.

    Only called after the allowlist accepted the module (the operator's --allow-module).
    """
    module_name, _, attribute = path.partition(":")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise LookupError(f"no module named '{exc.name}' (the current folder and PYTHONPATH are searched)") from None
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LookupError(f"'{module_name}' has no attribute '{attribute}'") from None
    if not callable(obj):
        raise LookupError(f"'{path}' is a {type(obj).__name__}, not a class or function")
    return obj


def resolve_dotted(path: str) -> Any:
    if ":" in path:
        return resolve_factory(path)
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
