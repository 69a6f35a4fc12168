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
