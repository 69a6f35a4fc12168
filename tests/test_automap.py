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


# HF RegNet and mindcv for two blocks of one stage: HF runs a block's main branch, then its stride-2 shortcut; mindcv
# the shortcut first. The shortcut's BatchNorm and the main branch's last one hold the same shape and produce the
# same shape, so a run of equal signatures can end on either before continuing into the next block.
def regnet(names: dict[str, str]) -> tuple[dict, list, dict]:
    conv = lambda i, o, k=1: (o, i, k, k)
    shapes, order, out = {}, [], {}
    for block, (size, convs) in enumerate(((2, ["a", "b", "c", "sc"]), (2, ["a", "b", "c"]))):
        for kind in names["order"] if block == 0 else convs:
            inside = {"a": (conv(16, 32), 4), "b": (conv(32, 8, 3), 2), "c": (conv(32, 32), 2), "sc": (conv(16, 32), 2)}
            if block == 1:
                inside["a"] = (conv(32, 32), 2)
            weight, side = inside[kind]
            conv_path, bn_path = (f"{block}.{names[kind][0]}", f"{block}.{names[kind][1]}")
            shapes[conv_path + ".weight"] = weight
            shapes.update(bn(bn_path, 32, names["bn"]))
            order += [conv_path, bn_path]
            out[conv_path] = out[bn_path] = [[1, 32, side, side]]
    return shapes, order, out


HF_REGNET = {"a": ("layer.0.convolution", "layer.0.normalization"), "b": ("layer.1.convolution", "layer.1.normalization"),
             "c": ("layer.2.convolution", "layer.2.normalization"), "sc": ("shortcut.convolution", "shortcut.normalization"),
             "order": ["a", "b", "c", "sc"], "bn": ("weight", "bias", "running_mean", "running_var")}
MS_REGNET = {"a": ("f.a", "f.a_bn"), "b": ("f.b", "f.b_bn"), "c": ("f.c", "f.c_bn"), "sc": ("proj", "bn"),
             "order": ["sc", "a", "b", "c"], "bn": ("gamma", "beta", "moving_mean", "moving_variance")}


def test_a_shortcut_run_after_the_main_branch_keeps_its_batchnorm():
    (hf, hf_order, hf_out), (ms, ms_order, ms_out) = regnet(HF_REGNET), regnet(MS_REGNET)
    proposal = automap.propose(spec(), {"torch": params(hf), "mindspore": params(ms)}, "m[float32]",
                               {"torch": hf_order, "mindspore": ms_order}, {"torch": hf_out, "mindspore": ms_out})
    found = {p.entry.sides["torch"].name: p.entry.sides["mindspore"].name for p in proposal.proposals}
    assert found["0.shortcut.normalization.bias"] == "0.bn.beta"
    assert found["0.layer.2.normalization.bias"] == "0.f.c_bn.beta"
    assert found["0.shortcut.convolution.weight"] == "0.proj.weight"  # the output shapes tell it from f.a
    assert found["0.layer.0.convolution.weight"] == "0.f.a.weight"
    assert proposal.ambiguous == ()


def test_look_alike_modules_no_probe_ordered_are_refused_with_the_candidates_named():
    # Llama's gate and up projections: same shapes in one parent; without a probe call nothing tells them apart
    hf = {"mlp.gate_proj.weight": (8, 4), "mlp.up_proj.weight": (8, 4), "mlp.down_proj.weight": (4, 8)}
    ms = {"ffn.w1.weight": (8, 4), "ffn.w3.weight": (8, 4), "ffn.w2.weight": (4, 8)}
    proposal = automap.propose(spec(), {"torch": params(hf), "mindspore": params(ms)}, "m[float32]")
    assert proposal.ambiguous == ({"torch": ("mlp.gate_proj", "mlp.up_proj"), "mindspore": ("ffn.w1", "ffn.w3")},)
    message = str(automap.ambiguity(spec(), "m[float32]", proposal, {}))
    assert "torch mlp.gate_proj, mlp.up_proj or mindspore ffn.w1, ffn.w3" in message
    ordered = automap.propose(spec(), {"torch": params(hf), "mindspore": params(ms)}, "m[float32]",
                              {"torch": ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"], "mindspore": ["ffn.w1", "ffn.w3", "ffn.w2"]})
    assert ordered.ambiguous == ()  # the probe's order inside the parent resolves them


def test_unmapped_patterns_cover_every_block():
    from dataclasses import replace

    hf = {**HF, "layer.0.scale": (8,), "layer.1.scale": (8,)}
    patterned = replace(spec(), unmapped={"torch": {"layer.*.scale": "layer scale folded into the next conv by the port"}})
    proposal = automap.propose(patterned, {"torch": params(hf), "mindspore": params(MS)}, "m[float32]", RUN_ORDER)
    assert set(proposal.skipped["torch"]) == {"layer.0.scale", "layer.1.scale"}
    with pytest.raises(SpecError):  # without the pattern both stay unpaired
        automap.propose(spec(), {"torch": params(hf), "mindspore": params(MS)}, "m[float32]", RUN_ORDER)
