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


class AttributeRead:
    """A property named as an op (torch.Tensor.T, mindspore.Tensor.shape): calling it with a tensor reads the attribute.
    It reports its owner's module, so the allowlist judges it like the class it belongs to."""

    def __init__(self, owner: type, name: str):
        self.owner, self.name = owner, name
        self.__module__ = owner.__module__
        self.__objclass__ = owner

    def __call__(self, tensor):
        return getattr(tensor, self.name)

    def __repr__(self) -> str:
        return f"<attribute {self.owner.__name__}.{self.name}>"


def resolve_dotted(path: str) -> Any:
    if ":" in path:
        return resolve_factory(path)
    parts = path.split(".")
    obj = parent = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        parent = obj
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
        if isinstance(parent, type) and hasattr(obj, "__get__"):  # a property or C attribute of a class
            return AttributeRead(parent, parts[-1])
        raise LookupError(f"'{path}' is a {type(obj).__name__}, not a callable")
    return obj
