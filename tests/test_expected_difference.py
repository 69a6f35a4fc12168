"""Declared differences are data, and strict: a declared difference that passes is `unexpected_pass` and exit 1
(like a strict xfail), and with one framework on both sides a torch/MindSpore difference does not apply.

The spec below is torch's leaky_relu with a swept slope against MindSpore's with a fixed alpha of 0.2: the
slope=0.2 case is the same function, the slope=0.01 case really differs.
"""

from __future__ import annotations

import pytest

from conftest import read_json

pytestmark = pytest.mark.frameworks

SPEC = """
name: planted.leaky_relu_slope
sweep: {slope: [0.2, 0.01]}
inputs:
  - {name: x, shape: [4, 8], distribution: {uniform: {low: -2, high: 2}}}
torch:
  op: torch.nn.functional.leaky_relu
  call: {negative_slope: $slope}
mindspore:
  op: mindspore.ops.leaky_relu
  call: {alpha: 0.2}
"""
SAME = "planted.leaky_relu_slope[slope=0.2,float32]"
DIFFERENT = "planted.leaky_relu_slope[slope=0.01,float32]"
ROWS = "rows: {out: {symptom: value, max_abs: 0.4}}"  # measured: 0.19 * |x| < 0.38 (tests/test_declarations.py)


def run(cli, write_spec, tmp_path, expected_difference: str, *targets: str):
    report = tmp_path / "r.json"
    args = ["run", write_spec(SPEC + expected_difference), "--json", report]
    if targets:
        args += ["--targets", ",".join(targets)]
    result = cli(*args)
    cases = {c["id"]: c for c in read_json(report)["cases"]}
    return result, cases


def test_a_declared_difference_that_differs_is_reported_and_leaves_the_exit_code_alone(cli, write_spec, tmp_path):
    result, cases = run(cli, write_spec, tmp_path,
                        "expected_difference: {reason: alpha is fixed, link: 'https://example.org/x', when: {slope: 0.01}, "
                        + ROWS + "}\n")
    assert cases[DIFFERENT]["status"] == "expected_difference", result.text
    assert cases[DIFFERENT]["expected_difference"] == {"reason": "alpha is fixed", "link": "https://example.org/x",
                                                       "declaration": "expected_difference"}
    assert cases[SAME]["status"] == "pass" and cases[SAME]["expected_difference"] is None
    assert result.exit_code == 0, result.text
    for case in cases.values():  # the rest of the record: an eval-mode case names no mode; a real duration
        assert "mode" not in case and 0 < case["duration_s"] < 60


def test_a_declared_difference_that_passes_is_an_unexpected_pass_and_fails_the_run(cli, write_spec, tmp_path):
    result, cases = run(cli, write_spec, tmp_path, "expected_difference: {reason: alpha is fixed, " + ROWS + "}\n")
    assert cases[DIFFERENT]["status"] == "expected_difference", result.text
    assert cases[SAME]["status"] == "unexpected_pass", result.text
    assert "every output passed: update the spec" in cases[SAME]["message"]
    assert result.exit_code == 1, result.text
    assert "UNEXPECTED PASS" in result.text


def test_an_intermittent_difference_that_does_not_show_this_run_is_a_plain_pass(cli, write_spec, tmp_path):
    result, cases = run(cli, write_spec, tmp_path, "expected_difference: {reason: alpha is fixed, intermittent: {shown: 2, runs: 5}, "
                        + ROWS + "}\n")
    assert cases[DIFFERENT]["status"] == "expected_difference", result.text
    assert cases[SAME]["status"] == "pass" and cases[SAME]["expected_difference"] is None, result.text
    assert result.exit_code == 0, result.text


def test_an_intermittent_crash_declared_for_its_variant_is_the_expected_difference(cli, write_spec, tmp_path, monkeypatch):
    declared = ("edge_differences:\n  - {edge: large, reason: the kernel dies now and then, intermittent: {shown: 1, runs: 8}, "
                "symptom: crash, signal: SIGSEGV}\n")
    spec, report, case = write_spec(SPEC + declared), tmp_path / "r.json", "planted.leaky_relu_slope[slope=0.2,float32,boundary=large]"
    monkeypatch.setenv("EQCHECK_TEST_FAULT", "segv:" + case.split("[")[1])  # a real SIGSEGV in the worker
    result = cli("run", spec, "--boundary", "-k", "slope=0.2 and large", "-j", "1", "--json", report)
    crashed = {c["id"]: c for c in read_json(report)["cases"]}[case]
    assert crashed["status"] == "expected_difference" and "SIGSEGV" in crashed["message"], result.text
    assert result.exit_code == 0, result.text
    monkeypatch.delenv("EQCHECK_TEST_FAULT")  # a run where it does not crash: a pass, not an unexpected one
    result = cli("run", spec, "--boundary", "-k", "slope=0.2 and large", "-j", "1", "--json", report)
    assert {c["id"]: c for c in read_json(report)["cases"]}[case]["status"] == "pass", result.text
    assert result.exit_code == 0, result.text


def test_a_declaration_outside_configs_defaults_names_its_rows(cli, write_spec, tmp_path):
    result = cli("validate", write_spec(SPEC + "expected_difference: {reason: alpha is fixed}\n"))
    assert result.exit_code == 2 and "expected_difference" in result.text and "names what was measured" in result.text, result.text
    (tmp_path / "defaults").mkdir()
    shown = tmp_path / "defaults" / "slope.yaml"  # a spec that exists to show a default that differs covers the whole case
    shown.write_text(SPEC + "expected_difference: {reason: alpha is fixed}\n")
    assert cli("validate", shown).exit_code == 0


@pytest.mark.parametrize("intermittent,says", [
    ("sometimes", "{shown: K, runs: N}"),
    ("{shown: 3, runs: 3}", "not intermittent"),  # shown in every run: a plain declaration that can go stale
    ("{shown: 0, runs: 3}", "not intermittent"),
    ("{shown: 1}", "intermittent.runs"),
], ids=["text", "every-run", "no-run", "no-count"])
def test_an_intermittent_declaration_says_how_often_it_was_measured(cli, write_spec, intermittent, says):
    result = cli("validate", write_spec(SPEC + f"expected_difference: {{reason: alpha is fixed, intermittent: {intermittent}, {ROWS}}}\n"))
    assert result.exit_code == 2 and "expected_difference.intermittent" in result.text and says in result.text, result.text


@pytest.mark.parametrize("targets,compiler", [
    (("mindspore", "mindspore-graph"), None),
    (("torch", "torch-compile"), "aot_eager"),
], ids=["mindspore-graph", "torch-compile"])
def test_with_one_framework_on_both_sides_a_declared_difference_does_not_apply(cli, write_spec, tmp_path, monkeypatch,
                                                                               targets, compiler):
    if compiler:
        monkeypatch.setenv("EQCHECK_TORCH_COMPILE_BACKEND", compiler)
    # every case declared as a torch/MindSpore difference; both sides here run one framework's section
    result, cases = run(cli, write_spec, tmp_path, "expected_difference: {reason: alpha is fixed, " + ROWS + "}\n", *targets)
    assert {c["status"] for c in cases.values()} == {"pass"}, result.text
    assert all(c["expected_difference"] is None for c in cases.values())
    assert result.exit_code == 0, result.text
