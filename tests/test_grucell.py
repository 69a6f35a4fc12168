"""GRUCell, the pair eqcheck started from: it passes, and planted mapping bugs are caught."""

from __future__ import annotations

import pytest

from conftest import read_json

pytestmark = pytest.mark.frameworks

# input_size == hidden_size makes weight_ih and weight_hh the same shape, so swapping them
# loads without complaint and only the numbers can tell.
SQUARE = {"input_size: 16": "input_size: 32"}


def test_grucell_passes_for_every_bias_and_batch(cli, tmp_path):
    report = tmp_path / "gru.json"
    result = cli("run", "configs/nn/GRUCell.yaml", "--json", report)
    assert result.exit_code == 0, result.text
    document = read_json(report)
    assert document["summary"]["total"] == 4
    assert document["summary"]["passed"] == 4
    assert {c["id"] for c in document["cases"]} == {
        "nn.GRUCell[bias=True,batch=1,float32]",
        "nn.GRUCell[bias=True,batch=64,float32]",
        "nn.GRUCell[bias=False,batch=1,float32]",
        "nn.GRUCell[bias=False,batch=64,float32]",
    }
    for case in document["cases"]:
        (out,) = [o for o in case["outputs"] if o["kind"] == "output"]
        assert out["max_abs"] < 1e-5
        assert {o["name"] for o in case["outputs"] if o["kind"] == "grad"} >= {"grad:input", "grad:hidden", "grad:weight_ih"}
        assert case["sides"]["mindspore"]["init"]["has_bias"] == case["sides"]["torch"]["init"]["bias"]
        assert [i["name"] for i in case["sides"]["mindspore"]["inputs"]] == ["x", "hx"]


def test_swapped_weight_map_fails_and_names_the_output(cli, copy_config, tmp_path):
    spec = copy_config("nn/GRUCell.yaml", SQUARE)
    spec.write_text(spec.read_text() + """
weights:
  weight_ih: {torch: weight_ih, mindspore: weight_hh}
  weight_hh: {torch: weight_hh, mindspore: weight_ih}
""")
    report = tmp_path / "swapped.json"
    result = cli("run", spec, "--json", report)
    assert result.exit_code == 1, result.text
    assert "FAIL" in result.text
    document = read_json(report)
    assert document["summary"]["failed"] == 4
    failing = document["cases"][0]["outputs"][0]
    assert failing["name"] == "out" and failing["kind"] == "output" and failing["passed"] is False
    assert failing["max_abs"] > 1e-2


def test_correct_square_grucell_still_passes(cli, copy_config):
    # Guards the test above: the square sizes alone must not be what fails.
    result = cli("run", copy_config("nn/GRUCell.yaml", SQUARE), "-k", "batch=64")
    assert result.exit_code == 0, result.text


def test_bias_on_one_side_only_is_caught_before_running(cli, copy_config):
    spec = copy_config("nn/GRUCell.yaml", {"has_bias: $bias": "has_bias: false"})
    result = cli("run", spec, "-k", "bias=True and batch=1")
    assert result.exit_code == 2, result.text
    assert "torch has 'bias_ih' (parameter [96], absent on mindspore)" in result.text
    assert "random init" in result.text
    assert "Traceback" not in result.text


def test_bias_on_one_side_only_fails_when_torch_bias_is_declared_unshared(cli, copy_config, tmp_path):
    spec = copy_config("nn/GRUCell.yaml", {"has_bias: $bias": "has_bias: false"})
    spec.write_text(spec.read_text() + """
unmapped:
  torch: {bias_ih: planted bug, bias_hh: planted bug}
""")
    result = cli("run", spec, "-k", "bias=True and batch=64", "--json", tmp_path / "r.json")
    assert result.exit_code == 1, result.text
    assert read_json(tmp_path / "r.json")["cases"][0]["status"] == "fail"
