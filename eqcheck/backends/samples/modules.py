"""ModuleInfo entries of torch's module_db: constructor and forward arguments, eval and train, at float32, and the
`module_error_inputs_func` inputs torch refuses (at construction or in forward), like OpInfo's error_inputs."""

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


def _defaults(function) -> dict[str, Any]:
    """Each parameter's default (self left out) as the cache encodes values; one without a default is left out."""
    try:
        params = list(inspect.signature(function).parameters.values())[1:]
    except (TypeError, ValueError):
        return {}
    return {p.name: encode(p.default, {}, "") for p in params if p.default is not p.empty
            and not isinstance(p.default, torch.Tensor)}


def _module_input(item, arrays: dict, tag: str) -> dict:
    init, forward = item.constructor_input, item.forward_input
    return {
        "init": {"args": [encode(a, arrays, tag) for a in init.args],
                 "kwargs": {key: encode(v, arrays, tag) for key, v in init.kwargs.items()}},
        "call": {"args": [encode(a, arrays, tag) for a in forward.args],
                 "kwargs": {key: encode(v, arrays, tag) for key, v in forward.kwargs.items()}},
    }


def _samples(info, training: bool, arrays: dict, prefix: str) -> list[dict]:
    out = []
    for k, item in enumerate(info.module_inputs_func(info, device="cpu", dtype=BUILD_DTYPE, requires_grad=False,
                                                     training=training)):
        if item.forward_input is None:
            continue
        out.append(_module_input(item, arrays, f"{prefix}{k}_"))
    return out


def _refused(info, item, training: bool) -> bool:
    """Whether torch refuses this error input in this mode: torch's own test runs a new module, in training mode."""
    init, forward = item.constructor_input, item.forward_input
    try:
        module = info.module_cls(*init.args, **init.kwargs).train(training)
        module(*forward.args, **forward.kwargs)
    except Exception:  # noqa: BLE001 - the refusal this input is about
        return True
    return False


def _errors(info, training: bool, arrays: dict, prefix: str) -> tuple[list[dict], int]:
    """module_error_inputs_func's inputs and how many torch accepts in this mode (eval: eps=0 in batch norm);
    `error_on` says whether the constructor or the forward call refuses."""
    out, accepted = [], 0
    for k, error in enumerate(info.module_error_inputs_func(info, device="cpu", dtype=BUILD_DTYPE,
                                                            requires_grad=False, training=training)):
        item = error.module_error_input
        if item.forward_input is None:
            continue
        if not training and not _refused(info, item, training):
            accepted += 1
            continue
        out.append({**_module_input(item, arrays, f"{prefix}{k}_"), "error_on": error.error_on.name.lower(),
                    "error_type": getattr(error.error_type, "__name__", str(error.error_type)),
                    "error_regex": str(error.error_regex)})
    return out, accepted


def build(catalog: dict[str, Any], name: str, seed: int) -> tuple[dict[str, Any], dict]:
    info = catalog.get(name)
    if info is None:
        return {"entry": name, "missing": True, "samples": [], "samples_train": [], "errors": []}, {}
    arrays: dict = {}
    record: dict[str, Any] = {"entry": name, "signature": _names(info.module_cls.forward),
                              "init_signature": _names(info.module_cls.__init__),
                              "defaults": _defaults(info.module_cls.forward),
                              "init_defaults": _defaults(info.module_cls.__init__), "errors": []}
    for key, training, prefix in (("samples", False, "s"), ("samples_train", True, "t")):
        torch.manual_seed(seed)
        try:
            record[key] = _samples(info, training, arrays, prefix)
        except Exception as exc:  # noqa: BLE001 - torch's own generator failing is recorded, not fatal
            record[key] = []
            record[f"note_{key}"] = f"module_inputs_func failed: {type(exc).__name__}: {str(exc)[:200]}"
    for key, training, prefix in (("errors", False, "e"), ("errors_train", True, "f")):
        if info.module_error_inputs_func is None:
            break
        torch.manual_seed(seed)
        try:
            record[key], accepted = _errors(info, training, arrays, prefix)
            if accepted:
                record[f"note_{key}"] = f"{accepted} error inputs torch accepts in {'train' if training else 'eval'} mode"
        except Exception as exc:  # noqa: BLE001
            record[key] = []
            record[f"note_{key}"] = f"module_error_inputs_func failed: {type(exc).__name__}: {str(exc)[:200]}"
    return record, arrays
