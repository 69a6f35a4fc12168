"""Backends: one module per framework or execution mode, loaded lazily by target name; `targets` turns
--targets/--device into the two targets a run compares.

Adding a framework (JAX, ONNX Runtime) or a mode (MindSpore graph, torch.compile) is a new module
and one line in TARGETS; nothing else changes. This file imports no framework.

The lowest layer: may import only the package root's `errors`, `dtypes`, `_lazy`. Backends build and run ops from
resolved arguments and know nothing of specs, cases, verdicts or reports.
"""

from __future__ import annotations

import importlib

# target name -> (spec section it reads, "module:Class")
TARGETS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "eqcheck.backends.torch_eager:TorchEagerBackend"),
    "mindspore": ("mindspore", "eqcheck.backends.mindspore_pynative:MindSporePyNativeBackend"),
    "mindspore-graph": ("mindspore", "eqcheck.backends.mindspore_graph:MindSporeGraphBackend"),
    "torch-compile": ("torch", "eqcheck.backends.torch_compile:TorchCompileBackend"),
}

# Spec sections a spec may have; each names the framework whose callables it holds.
FRAMEWORKS: tuple[str, ...] = tuple(dict.fromkeys(section for section, _ in TARGETS.values()))


def framework_of(target: str) -> str:
    return TARGETS[target][0]


def backend_class(target: str):
    module_name, class_name = TARGETS[target][1].split(":")
    return getattr(importlib.import_module(module_name), class_name)
