"""OptimizerInfo entries of torch's optim_db: each optimizer's constructor configurations on the CPU (torch's own
`_get_optim_inputs_including_global_cliquey_kwargs`: `optim_inputs_func` plus the foreach/fused/differentiable
variants torch tests there) and the `optim_error_inputs_func` inputs torch refuses.

A sample is constructor keyword arguments only (`init`; `call` stays empty): the parameters and gradients are the
spec's (docs/optimizers.md). Error inputs about the `params` argument itself (a bare tensor, duplicates, named
groups) cannot be given through a spec's parameters and are left out, counted in `note_errors`.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch

from eqcheck.backends.samples.encoding import encode

BUILD_DTYPE = torch.float32
DEVICE = "cpu"


def load() -> dict[str, Any]:
    from torch.testing._internal.common_optimizers import optim_db

    return {f"optim.{info.optim_cls.__name__}": info for info in optim_db}


def index(catalog: dict[str, Any]) -> dict[str, Any]:
    return {"names": sorted(catalog), "aliases": {}}


def _parameters(cls) -> list[inspect.Parameter]:
    """The constructor's parameters after `params` (keyword-only included: Adam's maximize)."""
    params = list(inspect.signature(cls.__init__).parameters.values())[2:]  # self, params
    return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _configuration(kwargs: dict, arrays: dict, tag: str) -> dict:
    return {"init": {"args": [], "kwargs": {key: encode(v, arrays, tag) for key, v in kwargs.items()}},
            "call": {"args": [], "kwargs": {}}}


def _errors(info, arrays: dict) -> tuple[list[dict], int]:
    """The error inputs a spec can give (keyword arguments over ordinary parameters), and how many it cannot."""
    out, left = [], 0
    for k, error in enumerate(info.optim_error_inputs_func(device=DEVICE, dtype=BUILD_DTYPE)):
        item = error.optimizer_error_input
        if item.params is not None or not issubclass(error.error_type, Exception) or issubclass(error.error_type, Warning):
            left += 1  # about `params` itself, or a warning (torch runs the optimizer): not a refusal of these kwargs
            continue
        out.append({**_configuration(item.kwargs, arrays, f"e{k}_"), "desc": item.desc,
                    "error_on": error.error_on.name.lower(), "error_type": error.error_type.__name__,
                    "error_regex": str(error.error_regex)})
    return out, left


def build(catalog: dict[str, Any], name: str, seed: int) -> tuple[dict[str, Any], dict]:
    from torch.testing._internal.common_optimizers import _get_optim_inputs_including_global_cliquey_kwargs

    info = catalog.get(name)
    if info is None:
        return {"entry": name, "missing": True, "samples": [], "errors": []}, {}
    arrays: dict = {}
    params = _parameters(info.optim_cls)
    record: dict[str, Any] = {
        "entry": name, "signature": [], "defaults": {},
        "init_signature": [p.name for p in params],
        "init_defaults": {p.name: encode(p.default, {}, "") for p in params
                          if p.default is not p.empty and not isinstance(p.default, torch.Tensor)},
        "samples": [], "errors": []}
    torch.manual_seed(seed)
    try:
        for k, item in enumerate(_get_optim_inputs_including_global_cliquey_kwargs(DEVICE, BUILD_DTYPE, info)):
            record["samples"].append({**_configuration(item.kwargs, arrays, f"s{k}_"), "desc": item.desc})
    except Exception as exc:  # noqa: BLE001 - torch's own generator failing is recorded, not fatal
        record["samples"] = []
        record["note_samples"] = f"optim_inputs_func failed: {type(exc).__name__}: {str(exc)[:200]}"
    torch.manual_seed(seed)
    try:
        record["errors"], left = _errors(info, arrays)
        if left:
            record["note_errors"] = f"{left} error inputs about the params argument itself (not a spec's parameters) left out"
    except Exception as exc:  # noqa: BLE001
        record["note_errors"] = f"optim_error_inputs_func failed: {type(exc).__name__}: {str(exc)[:200]}"
    return record, arrays
