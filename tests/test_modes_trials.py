"""Execution modes as targets, and --trials."""

from __future__ import annotations

import os

import pytest

from conftest import read_json
from eqcheck.backends.targets import Target, parse_targets


def test_mindspore_against_its_graph_mode_in_one_process():
    assert parse_targets("mindspore,mindspore-graph", "cpu") == [Target("mindspore", "cpu"), Target("mindspore-graph", "cpu")]


def test_torch_against_mindspore_graph(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", "configs/nn/GRUCell.yaml", "-k", "batch=64", "--targets", "torch,mindspore-graph", "--json", report)
    assert result.exit_code == 0, result.text
    assert read_json(report)["environment"]["targets"] == ["torch", "mindspore-graph"]


def test_pynative_against_graph_is_bitwise_equal_on_linear(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", "configs/nn/Linear.yaml", "--targets", "mindspore,mindspore-graph", "--json", report)
    assert result.exit_code == 0, result.text
    assert all(o["max_abs"] == 0 for c in read_json(report)["cases"] for o in c["outputs"])


def test_torch_compile(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("EQCHECK_TORCH_COMPILE_BACKEND", os.environ.get("EQCHECK_TEST_COMPILER", "aot_eager"))
    report = tmp_path / "r.json"
    result = cli("run", "configs/nn/Linear.yaml", "-k", "batch=32", "--targets", "torch,torch-compile", "--grad", "--json", report)
    assert result.exit_code == 0, result.text
    assert {o["kind"] for c in read_json(report)["cases"] for o in c["outputs"]} == {"output", "grad"}


def test_trials_keep_the_worst_and_the_spread(cli, tmp_path):
    report = tmp_path / "r.json"
    # A forward-only spec: with gradient rows the worst trial is chosen over every row, not just `out`.
    result = cli("run", "configs/nn/Softmax.yaml", "-k", "dim=0", "--trials", "3", "--json", report)
    assert result.exit_code == 0, result.text
    case = read_json(report)["cases"][0]
    trials = case["trials"]
    assert trials["count"] == 3 and len(set(trials["seeds"])) == 3
    spread = trials["max_abs"]["out"]
    assert spread["min"] <= spread["median"] <= spread["max"]
    assert case["outputs"][0]["max_abs"] == spread["max"]  # the record shows the worst trial


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_runs_or_is_unsupported(cli, tmp_path, dtype):
    report = tmp_path / "r.json"
    result = cli("run", "configs/nn/GRUCell.yaml", "configs/nn/Linear.yaml", "-k", "batch=64 or batch=32",
                 "--dtype", dtype, "--grad", "--json", report)
    cases = read_json(report)["cases"]
    # float16 GRUCell exceeds torch.testing's float16 tolerance (see docs/beyond-forward.md, "Low precision"): no error, though
    assert cases and all(c["status"] in ("pass", "fail", "unsupported") for c in cases), result.text
    if dtype == "float16":
        assert any(c["status"] == "pass" for c in cases)
    else:  # MindSpore's CPU build has no bfloat16 kernels: unsupported, with its own message
        assert all(c["status"] == "unsupported" and c["message"].startswith("mindspore") for c in cases), result.text


def test_graph_mode_gradients_reach_tuple_state(cli, tmp_path):
    # mindspore.jit treats tuple arguments as constants unless marked mutable: LSTM's (h0, c0) used to
    # come back with zero gradients from mindspore-graph.
    report = tmp_path / "r.json"
    result = cli("run", "configs/nn/LSTM.yaml", "-k", "num_layers=1 and bias=True", "--targets", "mindspore,mindspore-graph",
                 "--json", report)
    assert result.exit_code == 0, result.text
    rows = {o["name"]: o for o in read_json(report)["cases"][0]["outputs"]}
    assert rows["grad:h0"]["passed"] and rows["grad:c0"]["passed"]
    assert abs(rows["grad:h0"]["worst_values"][0]) > 0


def test_a_declared_difference_shown_by_any_trial_is_confirmed(cli, tmp_path):
    # topk's tie order differs only where the draw holds ties among the top k: with the default seed, trial 0 shows
    # it and trial 1 does not. The declaration is still true, so the case must not become a stale unexpected_pass.
    report = tmp_path / "ties.json"
    result = cli("run", "configs/indexing/topk_ties.yaml", "--trials", "2", "--json", report)
    case = read_json(report)["cases"][0]
    assert sorted(case["trials"]["statuses"]) == ["expected_difference", "unexpected_pass"]
    assert case["status"] == "expected_difference" and result.exit_code == 0, result.text


def test_a_declared_difference_no_trial_shows_is_stale(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: stale.relu
        inputs: [{name: input, shape: [8]}]
        torch: {op: torch.relu}
        mindspore: {op: mindspore.ops.relu}
        expected_difference: {reason: "no longer true", rows: {out: {symptom: value, max_abs: 1}}}
    """)
    report = tmp_path / "stale.json"
    result = cli("run", spec, "--trials", "2", "--json", report)
    assert read_json(report)["cases"][0]["status"] == "unexpected_pass" and result.exit_code == 1
