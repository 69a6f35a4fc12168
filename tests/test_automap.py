"""The automatic weight map's module pass (eqcheck/cases/automap.py), on parameter records as real models have them.

The shapes and names are Hugging Face ResNet's and mindcv's for one downsampling block: HF declares the shortcut
before the block's layers and runs it after them; mindcv declares and runs its down_sample last. Pairing each kind
of parameter by declaration order alone crosses modules (the shortcut's BatchNorm bias lands on the block's first
BatchNorm); pairing modules in execution order keeps every module's parameters together.
"""

from __future__ import annotations

import numpy as np
import pytest

from eqcheck.backends.base import ParamInfo
from eqcheck.cases import automap
from eqcheck.errors import SpecError
from eqcheck.spec.model import OpSpec, SideSpec


def params(shapes: dict[str, tuple]) -> dict[str, ParamInfo]:
    return {n: ParamInfo(n, s, "float32", True, np.zeros(s, np.float32)) for n, s in shapes.items()}


def bn(prefix: str, width: int, names=("weight", "bias", "running_mean", "running_var")) -> dict[str, tuple]:
    return {f"{prefix}.{n}": (width,) for n in names}


HF = {"shortcut.convolution.weight": (8, 4, 1, 1), **bn("shortcut.normalization", 8),
      "layer.0.convolution.weight": (8, 4, 3, 3), **bn("layer.0.normalization", 8),
      "layer.1.convolution.weight": (8, 8, 3, 3), **bn("layer.1.normalization", 8)}
MS = {"conv1.weight": (8, 4, 3, 3), **bn("bn1", 8, ("gamma", "beta", "moving_mean", "moving_variance")),
      "conv2.weight": (8, 8, 3, 3), **bn("bn2", 8, ("gamma", "beta", "moving_mean", "moving_variance")),
      "down_sample.0.weight": (8, 4, 1, 1), **bn("down_sample.1", 8, ("gamma", "beta", "moving_mean", "moving_variance"))}
RUN_ORDER = {"torch": ["layer.0.convolution", "layer.0.normalization", "layer.1.convolution", "layer.1.normalization",
                       "shortcut.convolution", "shortcut.normalization"],
             "mindspore": ["conv1", "bn1", "conv2", "bn2", "down_sample.0", "down_sample.1"]}


def spec() -> OpSpec:
    sides = {fw: SideSpec(fw, f"pkg.{fw}:build", {}, {}) for fw in ("torch", "mindspore")}
    return OpSpec(name="m", path="m.yaml", summary="", source=None, params={}, sweep={}, dtypes=("float32",), mode="eval",
                  inputs=(), sides=sides, weights=(), unmapped={}, outputs=(), tolerance={}, expected_differences=(), kind="model")


def pairs(order) -> dict[str, str]:
    proposal = automap.propose(spec(), {"torch": params(HF), "mindspore": params(MS)}, "m[float32]", order)
    return {p.entry.sides["torch"].name: p.entry.sides["mindspore"].name for p in proposal.proposals}


def test_modules_pair_in_execution_order_with_their_parameters_together():
    found = pairs(RUN_ORDER)
    assert found["shortcut.normalization.bias"] == "down_sample.1.beta"
    assert found["shortcut.convolution.weight"] == "down_sample.0.weight"
    assert found["layer.0.normalization.running_var"] == "bn1.moving_variance"
    for torch_name, ms_name in found.items():  # one module on each side, never split
        module = torch_name.rsplit(".", 1)[0]
        assert len({m.rsplit(".", 1)[0] for t, m in found.items() if t.rsplit(".", 1)[0] == module}) == 1, torch_name


def test_without_an_execution_order_the_alignment_still_keeps_modules_whole():
    # The probe call failed (or a recorded side): modules are aligned in declaration order; the block's layers
    # align as one run, the shortcut is left out of it and pairs afterwards as a whole module, not per kind.
    found = pairs(None)
    assert found["shortcut.normalization.bias"] == "down_sample.1.beta"
    assert found["layer.0.normalization.bias"] == "bn1.beta"


def test_a_refusal_keeps_its_partial_proposal():
    ms = dict(MS)
    del ms["down_sample.1.beta"]
    with pytest.raises(SpecError) as caught:
        automap.propose(spec(), {"torch": params(HF), "mindspore": params(ms)}, "m[float32]", RUN_ORDER)
    assert caught.value.unpaired["torch"] == ["shortcut.normalization.bias"]
    assert len(caught.value.partial.proposals) == len(HF) - 1
