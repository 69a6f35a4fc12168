"""A dtype or kernel one side lacks is `unsupported`, not a crash, and its failure does not leak into the next case."""

from __future__ import annotations

import pytest

from conftest import read_json

pytestmark = pytest.mark.frameworks


def test_dtype_mindspore_refuses_is_unsupported_with_its_message(cli, tmp_path):
    path = tmp_path / "r.json"
    result = cli("run", "configs/nn/GRUCell.yaml", "-k", "batch=1", "--dtype", "float64", "--json", path)
    assert result.exit_code == 0, result.text  # unsupported is reported, not a failure
    for case in read_json(path)["cases"]:
        assert case["status"] == "unsupported"
        assert "mindspore failed to call" in case["message"] and "float64" in case["message"]
    assert "2 unsupported" in result.text


def test_a_failed_kernel_does_not_poison_the_next_case(cli, tmp_path):
    # MindSpore's bfloat16 SmoothL1Loss/Softmax kernels are missing on CPU; without recovery their error
    # resurfaced in the float64 case that ran next in 2 of 3 CLI runs. The leak is a race inside
    # MindSpore's async pipeline and rarely shows under pytest's timing, so this guards the recovery
    # path rather than reliably reproducing the leak. Nine failures, each followed by a float64 case, twice.
    for attempt in range(2):
        path = tmp_path / f"r{attempt}.json"
        cli("run", "configs/nn/SmoothL1Loss.yaml", "configs/nn/Softmax.yaml", "--dtype", "bfloat16,float64", "--json", path)
        cases = read_json(path)["cases"]
        assert len(cases) == 18
        for case in cases:
            wanted = "unsupported" if case["id"].endswith("bfloat16]") else "pass"
            assert case["status"] == wanted, (case["id"], case["message"])


def test_structure_mismatch_is_a_case_error_showing_both_sides(cli, write_spec, tmp_path):
    spec = write_spec("""
name: mismatch.structure
inputs: [{name: input, shape: [4, 6]}]
torch: {op: torch.std_mean, call: {dim: 1}}
mindspore: {op: mindspore.ops.std, call: {axis: 1}}
""")
    path = tmp_path / "r.json"
    result = cli("run", spec, "--json", path)
    assert result.exit_code == 1, result.text
    case = read_json(path)["cases"][0]
    assert case["status"] == "error"
    assert "torch returned out.0 [4], out.1 [4]; mindspore returned out [4]" in case["message"]
