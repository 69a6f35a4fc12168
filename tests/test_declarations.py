"""A declaration is a fingerprint of what was measured (issue 29): a covered case matches only when every failing row
is a declared row with the declared symptom within its bound; anything else fails with a message naming what changed.

The spec is the leaky_relu pair of test_expected_difference.py: torch's slope 0.01 against MindSpore's fixed alpha 0.2
on x in [-2, 2], so the slope=0.01 case's output differs by 0.19 * |x| <= 0.38 where x < 0, and with --grad its input
gradient by 0.19 x the cotangent (the whole case is one row each: out, grad:x).
"""

from __future__ import annotations

import pytest

from conftest import read_json
from test_expected_difference import DIFFERENT, SAME, SPEC

from eqcheck.spec.model import ExpectedDifference, RowPrint
from eqcheck.verdict import declarations as d

pytestmark = pytest.mark.frameworks
OUT = "expected_difference: {reason: alpha is fixed, when: {slope: 0.01}, rows: {out: {symptom: value, max_abs: %s}}}\n"


def run(cli, write_spec, tmp_path, declared: str, *options: str):
    report = tmp_path / "r.json"
    result = cli("run", write_spec(SPEC + declared), "--json", report, *options)
    return result, {c["id"]: c for c in read_json(report)["cases"]}


def test_a_case_that_fails_exactly_as_declared_is_the_expected_difference(cli, write_spec, tmp_path):
    result, cases = run(cli, write_spec, tmp_path, OUT % 0.2)  # measured 0.19 * 1.99..: under 0.2 x margin 2
    assert cases[DIFFERENT]["status"] == "expected_difference", result.text
    assert cases[SAME]["status"] == "pass" and result.exit_code == 0, result.text


def test_a_row_the_declaration_does_not_name_fails_and_says_which(cli, write_spec, tmp_path):
    # a second bug: with --grad the input gradient differs too, and the declaration names only `out`
    result, cases = run(cli, write_spec, tmp_path, OUT % 0.2, "--grad")
    case = cases[DIFFERENT]
    assert case["status"] == "fail" and result.exit_code == 1, result.text
    assert "): grad:x: value max_abs 0.301 is not a declared row (declared: out)" in case["message"], case["message"]
    assert case["expected_difference"]["declaration"] == "expected_difference"  # the report names the declaration


def test_a_deviation_beyond_the_declared_bound_fails_and_says_by_how_much(cli, write_spec, tmp_path):
    result, cases = run(cli, write_spec, tmp_path, OUT % 0.05)
    message = cases[DIFFERENT]["message"]
    assert cases[DIFFERENT]["status"] == "fail" and result.exit_code == 1, result.text
    assert "out: max_abs 0.323" in message and "exceeds the declared bound 0.1 (measured 0.05 x margin 2)" in message, message


def test_a_declared_refusal_that_returns_values_fails_and_one_that_passes_is_stale(cli, write_spec, tmp_path):
    result, cases = run(cli, write_spec, tmp_path, "expected_difference: {reason: MindSpore refuses it, symptom: refusal}\n")
    assert cases[DIFFERENT]["status"] == "fail", result.text
    assert "declared a refusal, but both sides now return values (failing rows: out: value" in cases[DIFFERENT]["message"]
    assert cases[SAME]["status"] == "unexpected_pass" and result.exit_code == 1, result.text


@pytest.mark.parametrize("declared,field,says", [
    ("rows: {out: {symptom: value}}", "rows.out.max_abs", "states its measured max |diff|"),
    ("rows: {out: {symptom: nonfinite, max_abs: 1}}", "rows.out.max_abs", "compared as a symptom"),
    ("rows: {out: wrong}", "rows.out.symptom", "unknown row symptom 'wrong'"),
    ("rows: {out: refusal}", "rows.out.symptom", "whole-case `symptom:`"),
    ("rows: {'grad x': value}", "rows.grad x", "not a row name"),
    ("rows: {out: {symptom: value, max_abs: 1, margin: 0.5}}", "rows.out.margin", "at least 1"),
    ("symptom: value", "symptom", "goes under `rows:`"),
    ("symptom: refusal, rows: {out: zeros}", "rows", "not both"),
    ("symptom: refusal, signal: SIGFPE", "signal", "only a `symptom: crash`"),
    ("symptom: crash, signal: fpe", "signal", "not a signal name"),
], ids=["no-size", "size-of-symptom", "symptom", "case-symptom-on-row", "row-name", "margin", "row-symptom-on-case",
        "both", "signal-without-crash", "signal-name"])
def test_a_malformed_fingerprint_is_exit_2_naming_the_field(cli, write_spec, declared, field, says):
    result = cli("validate", write_spec(SPEC + f"expected_difference: {{reason: alpha is fixed, {declared}}}\n"))
    assert result.exit_code == 2 and f"expected_difference.{field}" in result.text and says in result.text, result.text
    assert "Traceback" not in result.text


# ---- the matcher alone: the symptoms it tells apart -------------------------------------------------------------

def declared(*rows: RowPrint, **kw) -> ExpectedDifference:
    return ExpectedDifference("r", rows=rows, field="expected_difference[0]", **kw)


def test_the_matcher_tells_symptoms_apart_and_compares_uninitialised_memory_as_a_symptom():
    garbage = declared(RowPrint("out", ("uninitialised",)))
    assert d.mismatch(garbage, [d.Measured("out", "value", 3.7e19)], None) is None  # whatever the garbage reads as
    assert d.mismatch(garbage, [d.Measured("out", "shape")], None) == "out: shape, declared uninitialised"
    nan = declared(RowPrint("grad:x", ("nonfinite",)))
    assert d.mismatch(nan, [d.Measured("grad:x", "value", 1.0)], None) == "grad:x: value max_abs 1, declared nonfinite"
    crash = ExpectedDifference("r", symptom="crash", signal="SIGFPE")
    assert d.mismatch(crash, [], d.Failure("crash", "killed", "SIGFPE")) is None
    assert "measured a crash (SIGSEGV)" in d.mismatch(crash, [], d.Failure("crash", "killed", "SIGSEGV"))
    rows = declared(RowPrint("out", ("value",), 1.0))
    assert "the case now ends in a refusal: RuntimeError" in d.mismatch(rows, [], d.Failure("refusal", "RuntimeError"))


def test_measure_reads_the_symptom_of_a_row_from_its_arrays():
    import numpy as np

    from eqcheck.dtypes import Tolerance
    from eqcheck.verdict.compare import compare
    from eqcheck.verdict.results import OutputResult

    tol = Tolerance(1e-5, 1e-5)
    ref = np.array([1.0, -2.0, 3.0])
    for cand, symptom in ((np.zeros(3), "zeros"), (np.array([1.0, np.nan, 3.0]), "nonfinite"), (np.ones(2), "shape"),
                          (np.array([1.0, -2.5, 3.0]), "value")):
        row = OutputResult("out", [3], {}, compare(ref, cand, tol))
        assert d.measure(row, ref, cand).symptom == symptom, (cand, d.measure(row, ref, cand))


def test_a_variant_refused_by_a_side_without_the_kernel_is_unsupported_with_its_real_message(cli, tmp_path):
    """MindSpore has no Einsum CPU kernel: its refusal of einsum's one@1 variant (a size-1 dim torch broadcasts), worded
    with a stray byte that used to surface as 'UnicodeDecodeError: utf-8 codec ...', says nothing about the variant."""
    report = tmp_path / "r.json"
    cli("run", "configs/linalg/einsum.yaml", "--boundary", "-k", "one@1", "-j", "0", "--json", report)
    case = read_json(report)["cases"][0]
    assert case["status"] == "unsupported" and case["failure_kind"] == "missing_kernel", case
    assert "Unsupported op [Einsum] on CPU" in case["message"] and "the same label in equation" in case["message"], case["message"]
    assert "codec" not in case["message"]


def test_an_upgrade_diff_reads_neither_an_intermittent_flip_nor_the_size_of_garbage_as_a_change():
    from eqcheck.gate.diff import diff_documents

    def case(id_, status, max_abs, **declared):
        expected = {"reason": "r", "declaration": "expected_difference[0]", **declared} if status != "pass" else None
        return {"id": id_, "status": status, "expected_difference": expected, **({"covered_intermittent": True}
                if status == "pass" and declared.get("intermittent") else {}),
                "outputs": [{"name": "out", "passed": status == "pass", "max_abs": max_abs, "tolerance": {"atol": 1e-5}}]}

    old = {"cases": [case("flip", "expected_difference", 1.0, intermittent=True),
                     case("histc", "expected_difference", 4.0, uninitialised=["out"]),
                     case("adam", "expected_difference", 7e-8)]}
    new = {"cases": [case("flip", "pass", 0.0, intermittent=True),
                     case("histc", "expected_difference", 3.7e19, uninitialised=["out"]),
                     case("adam", "expected_difference", 1e-2)]}  # a real change under a declaration is still one
    changes = diff_documents(old, new)["changes"]
    assert [(c["id"], c["what"], c["kind"]) for c in changes] == [("adam", "max_abs", "regression")], changes
