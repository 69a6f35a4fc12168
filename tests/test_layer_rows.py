"""Layer rows of model specs (execution/layers.py, execution/replay.py) on recorded arrays: what gets compared."""

from __future__ import annotations

import numpy as np

from eqcheck.dtypes import Tolerance
from eqcheck.execution import replay
from eqcheck.execution.layers import LayerPair, _row
from eqcheck.verdict import attribution

PAIR = LayerPair("vit.encoder.layer.0.intermediate", "blocks.0.mlp.fc1", "ViTIntermediate", "Dense", "weights")
TOLERANCE = Tolerance(rtol=1.3e-6, atol=1e-5)


def test_paired_layers_whose_outputs_differ_in_shape_are_not_comparable_and_never_broadcast():
    # (2,17,96) against (2,17,32) used to crash the case in attribution; (2,17,96) against (1,17,96) broadcast silently
    for ref, cand in (((2, 17, 96), (2, 17, 32)), ((2, 17, 96), (1, 17, 96))):
        row = _row(PAIR, 0, [np.ones(ref, np.float32)], [[np.ones(cand, np.float32)]], TOLERANCE)
        assert row["passed"] is None and row["note"] == f"not comparable (shapes {list(ref)} vs {list(cand)})"
        local = replay.judge([np.ones(ref)], [np.ones(cand)], TOLERANCE, ("torch", "mindspore"), "float32", None)
        assert local == {"note": f"not comparable (shapes {list(ref)} vs {list(cand)})"}
    assert attribution.max_abs(np.zeros((2, 17, 96)), np.zeros((1, 17, 96))) == float("inf")


def test_a_tuple_output_with_none_compares_its_first_tensor_and_a_flatten_is_only_a_layout():
    # HF's attention returns (output, None, None); a port returns its output alone
    out = np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 4, 8)
    row = _row(PAIR, 0, [out, None, None], [[out + 1]], TOLERANCE)
    assert row["passed"] is False and abs(row["max_abs"] - 1) < 1e-6 and "3 vs 1 tensors" in row["note"]
    row = _row(PAIR, 0, [out, None, None], [[out.reshape(2, 32)]], TOLERANCE)
    assert row["passed"] is True and "reference layout" in row["note"]


def test_deep_module_paths_are_cut_from_the_left_and_the_first_divergences_are_one_sentence_each():
    from eqcheck.report.console import layers_headline, short_name, short_path

    path = "regnet.encoder.stages.1.layers.0.layer.1.convolution"
    assert short_path(path) == "…stages.1.layers.0.layer.1.convolution" and len(short_path(path)) <= 40
    assert short_path("layers.0.attention") == "layers.0.attention"
    assert short_name(f"{path} / stages.1.blocks.0.f.b #2") == "…stages.1.layers.0.layer.1.convolution / stages.1.blocks.0.f.b #2"
    rows = [{"name": "conv / f.b", "type": "Conv2d", "passed": False, "max_abs": 0.5, "local": {"passed": False, "max_abs": 0.25}}]
    case = {"id": "m[float32]", "layers": {"forward": {"status": "compared", "first_divergent": "conv / f.b", "rows": rows},
                                           "backward": {"status": "compared", "first_divergent": None, "rows": []}}}
    assert str(layers_headline(case)) == ("m[float32]: Forward, the first layer to deviate alone is conv / f.b (Conv2d), "
                                          "max abs 2.50e-01. Backward, no layer deviates.")
