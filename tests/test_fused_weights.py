"""One parameter to many: a fused parameter (mindcv's qkv Dense) is several canonical weights (HF's query, key,
value), each a `chunk` of it, written once for every block with a `*` pattern; gradients come back split."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json
from eqcheck.spec.layout import Chunk

pytestmark = pytest.mark.frameworks
ALLOW = ("--allow-module", "tests.planted_ports")


def test_a_chunk_places_its_block_in_zeros_and_slices_it_back():
    block = np.arange(6.0).reshape(2, 3)
    step = Chunk(axis=0, index=1, of=3)
    whole = step.apply(block)
    assert whole.shape == (6, 3) and not whole[:2].any() and not whole[4:].any()
    np.testing.assert_array_equal(step.invert(whole), block)
    assert step.apply_shape((2, 3)) == (6, 3)


def spec(order=("0", "1", "2"), keys=("query", "key", "value"), kinds=("weight", "bias")) -> str:
    lines = "".join(
        f"  layer.*.{key}.{kind}: {{mindspore: {{name: blocks.*.qkv.{kind}, transform: [{{chunk: {{axis: 0, index: {i}, of: 3}}}}]}}}}\n"
        for kind in kinds for key, i in zip(keys, order))
    return ("name: model.fused\nkind: model\ngrad: true\ninputs:\n  - {name: x, shape: [3, 4]}\n"
            "torch: {model: tests.planted_ports:TorchProjections}\nmindspore: {model: tests.planted_ports:FusedProjections}\n"
            "weights:\n" + lines)


def test_separate_projections_against_a_fused_one_pass_with_one_pattern_per_block_kind(cli, write_spec, tmp_path):
    report = tmp_path / "fused.json"
    result = cli("run", write_spec(spec()), *ALLOW, "--json", report)
    assert result.exit_code == 0, result.text
    (case,) = read_json(report)["cases"]
    grads = {o["name"]: o for o in case["outputs"] if o["name"].startswith("grad:")}
    assert grads["grad:layer.1.key.weight"]["shape"] == [4, 4] and grads["grad:layer.1.key.weight"]["passed"]
    assert len(case["weights"]) == 12  # 2 blocks x 3 projections x (weight, bias)


def test_blocks_in_the_wrong_order_fail_and_a_doubled_block_is_refused(cli, write_spec, tmp_path):
    report = tmp_path / "swapped.json"
    result = cli("run", write_spec(spec(order=("0", "2", "1"))), *ALLOW, "--json", report)  # key and value swapped
    assert result.exit_code == 1 and read_json(report)["cases"][0]["status"] == "fail"
    result = cli("run", write_spec(spec(order=("0", "1", "1")), "doubled.yaml"), *ALLOW)  # value lands on key's block
    assert result.exit_code == 2 and "Traceback" not in result.text
    paragraph = " ".join(result.text.split())
    assert "field 'weights'" in paragraph and "split into blocks [0, 1, 1]" in paragraph and "each of its 3 blocks" in paragraph


def test_a_pattern_needs_the_same_captures_on_every_side(cli, write_spec):
    text = spec().replace("blocks.*.qkv.weight, transform: [{chunk: {axis: 0, index: 0", "blocks.0.qkv.weight, transform: [{chunk: {axis: 0, index: 0")
    result = cli("validate", write_spec(text), *ALLOW)
    assert result.exit_code == 2 and "has 0 '*' and 'layer.*.query.weight' 1" in " ".join(result.text.split())


def test_the_reverse_a_fused_torch_parameter_against_separate_mindspore_ones(cli, write_spec, tmp_path):
    lines = "".join(
        f"  blocks.*.qkv.{key}.{kind}:\n    torch: {{name: blocks.*.qkv.{kind}, transform: [{{chunk: {{axis: 0, index: {i}, of: 3}}}}]}}\n"
        f"    mindspore: layer.*.{key}.{kind}\n"
        for kind in ("weight", "bias") for i, key in enumerate(("query", "key", "value")))
    text = ("name: model.fused_torch\nkind: model\ngrad: true\ninputs:\n  - {name: x, shape: [3, 4]}\n"
            "torch: {model: tests.planted_ports:TorchFused}\nmindspore: {model: tests.planted_ports:SeparateProjections}\n"
            "weights:\n" + lines)
    report = tmp_path / "reverse.json"
    result = cli("run", write_spec(text), *ALLOW, "--json", report)
    assert result.exit_code == 0, result.text
    (case,) = read_json(report)["cases"]
    grads = {o["name"]: o for o in case["outputs"] if o["name"].startswith("grad:")}
    assert grads["grad:blocks.1.qkv.value.bias"]["shape"] == [4] and grads["grad:blocks.1.qkv.value.bias"]["passed"]
