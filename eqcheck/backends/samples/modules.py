"""ModuleInfo entries of torch's module_db: constructor and forward arguments, eval and train, at float32."""

from __future__ import annotations

import inspect
from typing import Any

import torch

from eqcheck.backends.samples.encoding import encode

BUILD_DTYPE = torch.float32


def load() -> dict[str, Any]:
    from torch.testing._internal.common_modules import module_db

    return {f"torch.nn.{info.module_cls.__name__}": info for info in module_db}


def index(catalog: dict[str, Any]) -> dict[str, Any]:
    return {"names": sorted(catalog), "aliases": {}}


def _names(function) -> list[str] | None:
    try:
        params = list(inspect.signature(function).parameters.values())[1:]  # self
    except (TypeError, ValueError):
        return None
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _samples(info, training: bool, arrays: dict, prefix: str) -> list[dict]:
    out = []
    for k, item in enumerate(info.module_inputs_func(info, device="cpu", dtype=BUILD_DTYPE, requires_grad=False,
                                                     training=training)):
        if item.forward_input is None:
            continue
        tag = f"{prefix}{k}_"
        init, forward = item.constructor_input, item.forward_input
        out.append({
            "init": {"args": [encode(a, arrays, tag) for a in init.args],
                     "kwargs": {key: encode(v, arrays, tag) for key, v in init.kwargs.items()}},
            "call": {"args": [encode(a, arrays, tag) for a in forward.args],
                     "kwargs": {key: encode(v, arrays, tag) for key, v in forward.kwargs.items()}},
        })
    return out


def build(catalog: dict[str, Any], name: str, seed: int) -> tuple[dict[str, Any], dict]:
    info = catalog.get(name)
    if info is None:
        return {"entry": name, "missing": True, "samples": [], "samples_train": [], "errors": []}, {}
    arrays: dict = {}
    record: dict[str, Any] = {"entry": name, "signature": _names(info.module_cls.forward),
                              "init_signature": _names(info.module_cls.__init__), "errors": []}
    for key, training, prefix in (("samples", False, "s"), ("samples_train", True, "t")):
        torch.manual_seed(seed)
        try:
            record[key] = _samples(info, training, arrays, prefix)
        except Exception as exc:  # noqa: BLE001 - torch's own generator failing is recorded, not fatal
            record[key] = []
            record[f"note_{key}"] = f"module_inputs_func failed: {type(exc).__name__}: {str(exc)[:200]}"
    return record, arrays
