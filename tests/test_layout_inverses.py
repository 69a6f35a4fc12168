"""Layout inverses with non-involutive steps: a transpose [2, 0, 1] or a reorder [1, 2, 0] is not its own inverse.

A self-inverse step ([1, 0], [0, 2, 1, 3]) passes whether `invert` undoes the step or repeats it; these do not.
The spec-level test routes parameter gradients through such chains, where only the inverse decides the verdict.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json
from eqcheck.spec.layout import ReorderChunks, Reshape, Transpose, apply_all, invert_all

CANONICAL = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)


def test_transpose_201_moves_axes_as_numpy_does_and_inverts_back():
    step = Transpose((2, 0, 1))
    moved = step.apply(CANONICAL)
    assert moved.shape == (4, 2, 3)
    np.testing.assert_array_equal(moved, CANONICAL.transpose(2, 0, 1))
    restored = step.invert(moved)
    assert restored.shape == (2, 3, 4)
    np.testing.assert_array_equal(restored, CANONICAL)
    # the inverse is transpose [1, 2, 0], not [2, 0, 1] again
    np.testing.assert_array_equal(step.invert(CANONICAL), CANONICAL.transpose(1, 2, 0))


def test_transpose_inverse_shape_is_the_canonical_shape():
    assert Transpose((2, 0, 1)).apply_shape((2, 3, 4)) == (4, 2, 3)
    assert Transpose((2, 0, 1)).invert_shape((4, 2, 3)) == (2, 3, 4)


def test_reorder_120_moves_blocks_and_inverts_back():
    blocks = np.repeat(np.arange(3), 2)  # a a b b c c
    step = ReorderChunks(axis=0, order=(1, 2, 0))
    moved = step.apply(blocks)
    assert moved.tolist() == [1, 1, 2, 2, 0, 0]
    np.testing.assert_array_equal(step.invert(moved), blocks)
    # the inverse is order [2, 0, 1], not [1, 2, 0] again
    assert step.invert(blocks).tolist() == [2, 2, 0, 0, 1, 1]


def test_reorder_inverts_along_a_later_axis():
    array = np.arange(4 * 6).reshape(4, 6)
    step = ReorderChunks(axis=1, order=(1, 2, 0))
    np.testing.assert_array_equal(step.apply(array), np.concatenate([array[:, 2:4], array[:, 4:6], array[:, 0:2]], axis=1))
    np.testing.assert_array_equal(step.invert(step.apply(array)), array)


def test_reorder_refuses_an_axis_that_does_not_split_evenly():
    with pytest.raises(ValueError, match="does not split into 3 equal blocks"):
        ReorderChunks(axis=0, order=(1, 2, 0)).apply(np.zeros(4))


def test_a_chain_inverts_in_reverse_order():
    chain = (Reshape((2, 3, 4), (4, 6)), Transpose((2, 0, 1)), ReorderChunks(axis=0, order=(1, 0, 3, 2)), Transpose((1, 2, 0)))
    source = np.arange(24.0).reshape(4, 6)
    moved = apply_all(chain, source)
    expected = source.reshape(2, 3, 4).transpose(2, 0, 1)[[1, 0, 3, 2]].transpose(1, 2, 0)
    np.testing.assert_array_equal(moved, expected)
    np.testing.assert_array_equal(invert_all(chain, moved), source)


def test_an_unbound_reshape_cannot_be_inverted():
    with pytest.raises(ValueError, match="^reshape cannot be inverted before it is bound to a canonical shape$"):
        Reshape((4, 6)).invert(np.zeros((4, 6)))


# Chains that move values around but compose to the identity: MindSpore's Dense gets exactly torch's weight
# and bias, so the forward agrees whatever `invert` does. The parameter gradients come back through the
# inverse chain: a wrong inverse of the [2, 0, 1] (or [1, 2, 0]) step leaves them permuted, and only the
# grad:weight (grad:bias) row can see it. (A chain of two mutually inverse steps would not do: repeating each
# step in reverse order undoes it too.)
ROUND_TRIP_SPEC = """
name: layout.non_involutive_round_trip
params: {n_in: 4, n_out: 6}
grad: true
inputs:
  - {name: x, shape: [5, n_in]}
torch:
  op: torch.nn.Linear
  init: {in_features: $n_in, out_features: $n_out}
mindspore:
  op: mindspore.nn.Dense
  init: {in_channels: $n_in, out_channels: $n_out}
weights:
  weight:
    torch: weight
    mindspore:
      name: weight
      transform: [{reshape: [2, 3, 4]}, {transpose: [2, 0, 1]}, {transpose: [1, 0, 2]}, {transpose: [0, 2, 1]},
                  {reshape: [6, 4]}]
  bias:
    torch: bias
    mindspore:
      name: bias
      transform: [{reorder_chunks: {axis: 0, order: [1, 2, 0]}}, {reorder_chunks: {axis: 0, order: [0, 2, 1]}},
                  {reorder_chunks: {axis: 0, order: [1, 0, 2]}}]
"""


def test_round_trip_chains_compose_to_the_identity():
    weight = np.arange(24.0).reshape(6, 4)
    weight_chain = (Reshape((2, 3, 4), (6, 4)), Transpose((2, 0, 1)), Transpose((1, 0, 2)), Transpose((0, 2, 1)),
                    Reshape((6, 4), (2, 3, 4)))
    np.testing.assert_array_equal(apply_all(weight_chain, weight), weight)
    bias = np.arange(6.0)
    bias_chain = (ReorderChunks(0, (1, 2, 0)), ReorderChunks(0, (0, 2, 1)), ReorderChunks(0, (1, 0, 2)))
    np.testing.assert_array_equal(apply_all(bias_chain, bias), bias)


@pytest.mark.frameworks
def test_parameter_gradients_come_back_through_non_involutive_inverses(cli, write_spec, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", write_spec(ROUND_TRIP_SPEC), "--json", report)
    rows = {o["name"]: o for o in read_json(report)["cases"][0]["outputs"]}
    assert {"out", "grad:x", "grad:weight", "grad:bias"} <= set(rows), result.text
    assert rows["out"]["passed"] and rows["grad:x"]["passed"], result.text
    assert rows["grad:weight"]["passed"], "the transpose [2, 0, 1] inverse permuted the weight gradient"
    assert rows["grad:bias"]["passed"], "the reorder [1, 2, 0] inverse permuted the bias gradient"
    assert result.exit_code == 0, result.text
