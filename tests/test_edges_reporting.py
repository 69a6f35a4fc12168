"""--edges in what a user reads: the variants a spec skips (and why) in every report, and a repro script that
shows a NaN/Inf-pattern difference that max_abs (finite elements only) cannot."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import read_json

SOFTMAX = """
name: softmax_skips
params: {batch: 4}
inputs:
  - name: x
    shape: [batch, 8]
torch: {op: torch.nn.Softmax, init: {dim: -1}}
mindspore: {op: mindspore.nn.Softmax, init: {axis: -1}}
edges:
  skip:
    zero_batch: "softmax over no rows is not interesting"
    kink: "no kinks in softmax"
    single: "one-element softmax is 1 by definition"
"""


def test_skipped_variants_and_their_reasons_are_in_every_report(cli, write_spec, tmp_path):
    spec = write_spec(SOFTMAX)
    result = cli("run", "-j", "0", spec, "--edges", "-k", "not (nan or inf or masked)", "--json", tmp_path / "r.json",
                 "--markdown", tmp_path / "r.md")
    assert result.exit_code == 0, result.text
    plain, variant = read_json(tmp_path / "r.json")["cases"]
    assert plain["id"] == "softmax_skips[float32]" and variant["id"] == "softmax_skips[float32,edge=int]"
    assert plain["edges_skipped"] == {"kink": "no kinks in softmax", "single": "one-element softmax is 1 by definition",
                                      "zero_batch": "softmax over no rows is not interesting"}
    assert "edges_skipped" not in variant
    console = " ".join(result.text.split())  # rich may wrap the line
    assert "softmax_skips: skipped edge=zero_batch (1 case): softmax over no rows is not interesting" in console
    assert "softmax_skips: skipped edge=single (1 case): one-element softmax is 1 by definition" in console
    markdown = (tmp_path / "r.md").read_text()
    assert "| `softmax_skips` | kink | 1 | no kinks in softmax |" in markdown
    # Without --edges nothing is skipped, so nothing is said.
    cli("run", "-j", "0", spec, "--json", tmp_path / "plain.json")
    assert "edges_skipped" not in read_json(tmp_path / "plain.json")["cases"][0]


def test_a_skip_naming_a_variant_the_case_does_not_have_is_not_reported(cli, write_spec, tmp_path):
    relu = """
    name: relu_skips
    inputs: [{name: x, shape: [4, 8]}]
    torch: {op: torch.nn.ReLU}
    mindspore: {op: mindspore.nn.ReLU}
    edges: {skip: {zero_batch: "no batch anyway", masked: "no reduction anyway", nan: "known"}}
    """
    cli("run", "-j", "0", write_spec(relu), "--edges", "-k", "not edge", "--json", tmp_path / "r.json")
    (plain,) = read_json(tmp_path / "r.json")["cases"]
    assert plain["edges_skipped"] == {"nan": "known"}


def test_repro_of_a_nan_edge_case_prints_the_nonfinite_mismatch(cli, tmp_path):
    case_id = "nn.Softmax[dim=-1,float32,edge=nan]"  # torch propagates the NaN through the row, MindSpore does not
    result = cli("repro", case_id, "-o", tmp_path / "bug")
    assert result.exit_code == 0, result.text
    env = {**os.environ, "GLOG_v": "3", "PYTHONPATH": ""}
    run = subprocess.run([sys.executable, "-I", str(tmp_path / "bug" / "repro.py")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("out: ")]
    assert "max_abs=" in line and "; nonfinite mismatch: " in line, run.stdout
    assert "torch NaN, mindspore finite at " in line, line
