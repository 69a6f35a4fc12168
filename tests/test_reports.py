"""The JSON report: deterministic for a seed, atomically written, re-rendered by `show`."""

from __future__ import annotations

import json
import os

import pytest

from conftest import read_json, without_timings
from eqcheck.report.document import write_atomic

pytestmark = pytest.mark.frameworks

REQUIRED_TOP = {"schema_version", "eqcheck_version", "created", "environment", "seed", "summary", "cases"}
REQUIRED_OUTPUT = {"name", "shape", "dtypes", "max_abs", "mean_abs", "max_rel", "mean_rel", "tolerance", "passed"}


@pytest.fixture(scope="module")
def two_runs(cli, tmp_path_factory):
    folder = tmp_path_factory.mktemp("determinism")
    args = ("run", "configs/nn/GRUCell.yaml", "configs/nn/LSTM.yaml", "configs/nn/Embedding.yaml", "--seed", "7")
    first, second = folder / "a.json", folder / "b.json"
    for path in (first, second):
        result = cli(*args, "--json", path)
        assert result.exit_code == 0, result.text
    return read_json(first), read_json(second), first


def test_same_seed_gives_identical_reports_apart_from_timings(two_runs):
    first, second, _ = two_runs
    assert without_timings(first) == without_timings(second)
    assert first["seed"] == 7


def test_another_seed_draws_other_data(cli, tmp_path, two_runs):
    first, _, _ = two_runs
    path = tmp_path / "c.json"
    assert cli("run", "configs/nn/GRUCell.yaml", "--seed", "8", "--json", path).exit_code == 0
    gru = lambda doc: [o["max_abs"] for c in doc["cases"] if c["id"].startswith("nn.GRUCell") for o in c["outputs"]]
    assert gru(read_json(path)) != gru(first)


def test_report_holds_what_the_issue_requires(two_runs):
    report, _, _ = two_runs
    assert REQUIRED_TOP <= set(report)
    assert {"python", "numpy", "platform", "versions", "devices"} <= set(report["environment"])
    assert {"torch", "mindspore"} <= set(report["environment"]["versions"])
    assert {"total", "passed", "failed", "errors", "expected_differences"} <= set(report["summary"])
    for case in report["cases"]:
        assert {"id", "spec", "status", "sides", "outputs"} <= set(case)
        assert set(case["sides"]) == {"torch", "mindspore"}
        for out in case["outputs"]:
            assert REQUIRED_OUTPUT <= set(out)


def test_integer_inputs_use_each_sides_dtype(two_runs):
    report, _, _ = two_runs
    case = next(c for c in report["cases"] if c["id"].startswith("nn.Embedding"))
    assert case["sides"]["torch"]["inputs"][0]["dtype"] == "int64"
    assert case["sides"]["mindspore"]["inputs"][0]["dtype"] == "int32"


def test_show_renders_a_saved_report(cli, two_runs):
    _, _, path = two_runs
    result = cli("show", path)
    assert result.exit_code == 0, result.text
    assert "nn.LSTM[num_layers=2,bias=False,float32]" in result.text
    assert "c_n" in result.text and "passed" in result.text


def test_quiet_prints_only_the_summary_when_everything_passes(cli):
    result = cli("run", "configs/nn/Softmax.yaml", "--quiet")
    assert result.exit_code == 0
    assert result.text.strip().splitlines()[-1].startswith("3 passed, 0 failed")
    assert "nn.Softmax[dim=0" not in result.text


def test_quiet_counts_declared_differences_in_the_summary(cli, tmp_path):
    result = cli("run", "configs/defaults/std.yaml", "configs/nn/Softmax.yaml", "--quiet", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.text
    assert "divides by N-1" not in result.text and "ops.std.defaults[" not in result.text  # no row, no reason
    lines = result.text.strip().splitlines()
    assert len(lines) == 1 and " expected differences" in lines[0] and not lines[0].startswith("0 passed"), lines
    declared = [c for c in json.loads((tmp_path / "r.json").read_text())["cases"] if c["status"] == "expected_difference"]
    assert declared and all(c["expected_difference"]["reason"] for c in declared)  # the report keeps everything
    shown = cli("show", tmp_path / "r.json")  # without -q the table shows them again
    assert "divides by N-1" in shown.text


def test_atomic_write_leaves_the_old_report_when_serialisation_fails(tmp_path):
    path = tmp_path / "r.json"
    write_atomic(path, {"schema_version": 1, "ok": True})
    with pytest.raises(ValueError):
        write_atomic(path, {"schema_version": 1, "bad": float("nan")})  # allow_nan=False refuses
    assert json.loads(path.read_text()) == {"schema_version": 1, "ok": True}
    assert os.listdir(tmp_path) == ["r.json"]  # no temp file left behind


def test_a_report_holds_one_case_per_line_and_reads_back_whole(two_runs):
    document, _, path = two_runs
    lines = path.read_text().splitlines()
    case_lines = [line for line in lines if line.startswith('    {"id": ')]
    assert len(case_lines) == len(document["cases"]) > 1  # a case per line: diffs between runs name cases
    assert [json.loads(line.rstrip(","))["id"] for line in case_lines] == [c["id"] for c in document["cases"]]
    assert json.loads(path.read_text()) == document and lines[1].startswith('  "schema_version": ')


def test_a_non_finite_argument_is_recorded_in_a_valid_report(cli, write_spec, tmp_path):
    # The report is strict JSON (no Infinity): a spec's `.inf` argument is written as the string "inf".
    spec = write_spec("""
        name: clamp.inf
        inputs: [{name: input, shape: [8]}]
        torch: {op: torch.clamp, call: {min: -1.0, max: .inf}}
        mindspore: {op: mindspore.ops.clamp, call: {min: -1.0, max: .inf}}
    """)
    report = tmp_path / "inf.json"
    result = cli("run", spec, "--json", report)
    assert result.exit_code == 0, result.text
    assert read_json(report)["cases"][0]["sides"]["torch"]["call"] == {"min": -1.0, "max": "inf"}
