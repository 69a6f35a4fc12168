"""float64 attribution: the rule on hand-made arrays, and real cases where MindSpore is the outlier / both are noise."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import CONFIGS, read_json
from eqcheck.verdict.attribution import PRECISION_OUTLIER_RATIO, NOISE_K, _times, attribute, max_abs


def _attr(a, b, ref, a64, b64, passed=False):
    dev = float(np.max(np.abs(a - b)))
    return attribute(dev, passed, 0, {"torch": a, "mindspore": b}, "torch", ref, {"torch": a64, "mindspore": b64}, "float32")


def test_same_function_with_noise_on_both_sides_is_within_noise():
    ref = np.linspace(-1, 1, 100)
    a, b = ref + 1e-6, ref - 1e-6  # both sides off by their own rounding, in opposite directions
    rec = _attr(a, b, ref, ref, ref)
    assert rec["within_noise"] and rec["verdict"] == "pass (within float32 noise)"
    assert rec["noise_ratio"] == NOISE_K  # the triangle-inequality worst case sits exactly on K = 2


def test_a_different_function_is_not_noise_and_the_outlier_is_named():
    ref = np.linspace(-1, 1, 100)
    a = ref + 1e-7
    b = ref * 1.001  # a wrong constant: its own float64 run is just as wrong
    rec = _attr(a, b, ref, ref, ref * 1.001)
    assert not rec["within_noise"]
    assert rec["own_error_rejected"]["mindspore"]  # its float64 run is no closer to the reference than its float32
    assert rec["outlier"] == "mindspore" and "mindspore is" in rec["statement"] and "further" in rec["statement"]


def test_a_side_without_float64_gets_no_noise_allowance():
    ref = np.linspace(-1, 1, 100)
    a, b = ref + 1e-7, ref + 1e-4
    rec = _attr(a, b, ref, ref, None)
    assert not rec["within_noise"] and rec["outlier"] == "mindspore"
    assert rec["ratio"] > 100



# guards added from mutation testing (docs/mutation.md)


def test_max_abs_skips_elements_non_finite_on_either_side_and_warns_about_nothing(recwarn):
    a = np.array([np.inf, 1.0, np.nan, -np.inf, 2.0], np.float32)
    b = np.array([1.0, 1.5, 3.0, -np.inf, 2.0], np.float32)
    assert max_abs(a, b) == 0.5
    assert max_abs(np.array([np.nan, np.inf]), np.array([np.nan, np.inf])) == 0.0  # nothing finite: 0, no error
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("ratio,text", [(2.5, "2.5x"), (9.96, "10.0x"), (10.0, "10x"), (10.6, "11x"), (250.0, "250x")])
def test_ratios_are_written_with_one_decimal_below_ten(ratio, text):
    assert _times(ratio) == text


def test_a_side_without_a_float64_run_does_not_hide_the_other_sides_own_error():
    ref = np.linspace(-1, 1, 100)
    a, b = ref + 1e-6, ref - 1e-6
    rec = attribute(2e-6, False, 0, {"torch": a, "mindspore": b}, "mindspore", ref, {"torch": None, "mindspore": ref}, "float32")
    assert set(rec["own_error"]) == {"mindspore"} and rec["own_error"]["mindspore"] == pytest.approx(1e-6)
    assert rec["within_noise"]  # 2e-6 <= K x mindspore's own 1e-6: torch brings no allowance, and needs none


def test_a_float64_run_no_closer_to_the_reference_than_its_float32_run_is_rejected():
    ref = np.arange(-8, 8) / 8.0  # dyadic: every difference below is exact
    a = ref + 2.0**-22
    b64 = ref + 2.0**-21  # a different function: its float64 run is off by 2**-21 ...
    b = ref + 2.0**-20  # ... and its float32 run by 2**-21 more (its own rounding error)
    rec = attribute(2.0**-20, False, 0, {"torch": a, "mindspore": b}, "torch", ref, {"torch": ref, "mindspore": b64}, "float32")
    assert rec["own_error_rejected"] == {"mindspore": {"own_error": 2.0**-21, "float64_vs_reference": 2.0**-21}}
    assert set(rec["own_error"]) == {"torch"}


def test_a_different_function_with_its_own_rounding_error_gets_no_noise_allowance():
    ref = np.linspace(-1, 1, 100)
    b64 = ref * 1.001
    b = b64 + 1e-7  # a real float32 rounding error on top of a wrong constant
    rec = attribute(float(np.max(np.abs(ref - b))), False, 0, {"torch": ref, "mindspore": b}, "torch", ref,
                    {"torch": ref, "mindspore": b64}, "float32")
    assert "mindspore" in rec["own_error_rejected"] and "mindspore" not in rec["own_error"]
    assert not rec["within_noise"]


def _record(a, b, ref, a64, b64, dtype="float32"):
    return attribute(float(np.max(np.abs(a - b))), False, 0, {"torch": a, "mindspore": b}, "torch", ref,
                     {"torch": a64, "mindspore": b64}, dtype)


def test_the_record_has_exactly_the_report_schemas_keys():
    ref = np.linspace(-1, 1, 16)
    rec = _record(ref + 2e-7, ref - 2e-7, ref, ref, ref)
    assert set(rec) == {"reference", "distance", "own_error", "own_error_rejected", "own_error_from_standin", "noise", "k", "budget",
                        "noise_ratio", "ratio", "outlier", "within_noise", "statement", "verdict"}
    assert rec["reference"] == "torch float64" and rec["k"] == NOISE_K
    assert rec["distance"] == {"torch": pytest.approx(2e-7), "mindspore": pytest.approx(2e-7)}
    assert rec["noise"] == pytest.approx(2e-7) and rec["noise_ratio"] == pytest.approx(2.0)
    assert rec["budget"] == pytest.approx(4e-7)


def test_a_side_without_float64_is_at_most_a_precision_outlier_never_more():
    ref = np.arange(-8, 8) / 8.0
    own = 2.0**-21
    on_budget = _record(ref + own + NOISE_K * own, ref + own, ref, None, ref)  # |A - B| is exactly K x the measured own error
    assert on_budget["own_error"] == {"mindspore": own} and on_budget["within_noise"] and on_budget["budget"] == NOISE_K * own
    assert "precision_note" not in on_budget
    # MindSpore without float64, up to 10x torch's own error apart: "the same function, at most ~11x less precise",
    # passed with a note
    outlier = _record(ref + own, ref + own + 2 * NOISE_K * own, ref, ref, None)
    assert outlier["within_noise"] and outlier["own_error_implied"]["mindspore"]["bound"] == PRECISION_OUTLIER_RATIO * own
    assert outlier["precision_note"].startswith("precision outlier at most: mindspore has no float64 run")
    beyond = _record(ref + own, ref + own + 12 * own, ref, ref, None)  # 12x: more than a precision outlier can be
    assert not beyond["within_noise"] and "verdict" not in beyond


def test_with_no_float64_run_at_all_there_is_no_noise_and_no_verdict():
    ref = np.linspace(-1, 1, 16)
    rec = _record(ref + 1e-7, ref - 1e-7, ref, None, None)
    assert rec["noise"] is None and rec["noise_ratio"] is None and not rec["within_noise"] and "verdict" not in rec


@pytest.mark.parametrize("dtype,eps", [("float32", 2.0**-23), ("float16", 2.0**-10)])
def test_an_exactly_rounded_side_is_measured_against_half_an_ulp_of_the_largest_reference_value(dtype, eps):
    ref = np.array([0.5, -4.0, 2.0])
    rec = _record(ref.copy(), ref + 0.1, ref, ref, ref, dtype)
    assert rec["ratio"] == pytest.approx(0.1 / (0.5 * eps * 4.0)) and rec["outlier"] == "mindspore"


def test_an_all_zero_reference_gives_an_infinite_ratio_for_any_distance():
    zeros = np.zeros(4)
    rec = _record(zeros.copy(), zeros + 1e-3, zeros, zeros, zeros)
    assert rec["ratio"] == "inf" and rec["outlier"] == "mindspore"


def test_two_exact_sides_on_a_non_finite_reference_are_equally_far():
    nan = np.full(3, np.nan)
    rec = _record(nan.copy(), nan.copy(), nan, nan, nan)
    assert rec["ratio"] == 1.0 and rec["outlier"] is None
    assert rec["statement"] == "torch and mindspore are about equally far from the float64 reference (1.0x)"


@pytest.mark.parametrize("factor,outlier", [(1.5, None), (2.0, "torch"), (3.0, "torch")])
def test_the_farther_side_is_named_from_twice_the_distance(factor, outlier):
    ref = np.arange(-8, 8) / 8.0
    rec = _record(ref + factor * 2.0**-10, ref + 2.0**-10, ref, ref, ref)  # torch is the farther side
    assert rec["outlier"] == outlier and rec["ratio"] == factor
    if outlier:
        assert rec["statement"] == f"torch is {factor:.1f}x further from the float64 reference than mindspore"

GRU_N01 = {
    "name: nn.GRUCell\n": "name: nn.GRUCell.n01\n",
    "# weight_ih, weight_hh": "weights:\n"
    "  weight_ih: {torch: weight_ih, mindspore: weight_ih, init: {normal: {mean: 0.0, std: 1.0}}}\n"
    "  weight_hh: {torch: weight_hh, mindspore: weight_hh, init: {normal: {mean: 0.0, std: 1.0}}}\n"
    "  bias_ih: {torch: bias_ih, mindspore: bias_ih, init: {normal: {mean: 0.0, std: 1.0}}}\n"
    "  bias_hh: {torch: bias_hh, mindspore: bias_hh, init: {normal: {mean: 0.0, std: 1.0}}}\n"
    "# weight_ih, weight_hh",
}


def test_grucell_with_unit_normal_weights_names_mindspore_as_the_outlier(cli, copy_config, tmp_path):
    spec = copy_config("nn/GRUCell.yaml", GRU_N01)
    report = tmp_path / "r.json"
    result = cli("run", spec, "-k", "bias=True and batch=64", "--reference", "float64", "--json", report)
    # MindSpore's GRUCell refuses float64; its stand-in (backends/standins) measures the drift as its own rounding
    assert result.exit_code == 0, result.text
    case = read_json(report)["cases"][0]
    row = case["outputs"][0]
    attribution = row["attribution"]
    assert attribution["outlier"] == "mindspore" and attribution["ratio"] > 10
    assert attribution["within_noise"] and "mindspore" in attribution["own_error_from_standin"]
    assert row["precision_note"].startswith("precision outlier: mindspore is")
    assert case["reference"]["float64_runs"]["torch"] == "ok" and "mindspore stand-in" in case["reference"]["float64_runs"]


def test_a_too_tight_tolerance_on_a_long_sum_passes_on_its_error_budget_by_default(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: noisy.sum
        inputs:
          - {name: x, shape: [64, 4096]}
        torch:
          op: torch.sum
          call: {dim: -1}
        mindspore:
          op: mindspore.ops.sum
          call: {dim: -1}
        tolerance: {float32: {rtol: 0.0, atol: 0.0}}
    """)
    plain = cli("run", spec, "--no-error-budget")
    assert plain.exit_code == 1, plain.text  # exact equality cannot hold for two float32 summation orders
    report = tmp_path / "r.json"
    result = cli("run", spec, "--json", report)
    assert result.exit_code == 0, result.text
    document = read_json(report)
    out = document["cases"][0]["outputs"][0]
    assert out["attribution"]["within_noise"] and out["passed"]
    assert (out["verdict"], out["tolerance_verdict"], out["budget_verdict"]) == ("pass (within float32 noise)", "fail", "pass")
    assert "within float32 noise" in result.text
    assert document["cases"][0]["reference"]["float64_runs"] == {"torch": "ok", "mindspore": "ok"}


def test_a_passing_case_runs_nothing_in_float64(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "nn/Linear.yaml", "--json", report)
    assert result.exit_code == 0, result.text
    for case in read_json(report)["cases"]:
        assert "reference" not in case  # no float64 run: a passing case costs nothing more
        assert {o["budget_verdict"] for o in case["outputs"]} == {"not needed"}


def test_a_wrong_function_fails_its_budget_too(cli, write_spec, tmp_path):
    """std with N-1 vs N: a real difference is never noise, whatever the float64 runs say."""
    spec = write_spec("""
        name: wrong.mean
        inputs:
          - {name: x, shape: [8, 64]}
        torch:
          op: torch.std
          call: {dim: -1, correction: 1}
        mindspore:
          op: mindspore.ops.std
          call: {axis: -1, ddof: 0}
    """)
    report = tmp_path / "r.json"
    result = cli("run", spec, "--json", report)
    assert result.exit_code == 1, result.text
    out = read_json(report)["cases"][0]["outputs"][0]
    assert (out["tolerance_verdict"], out["budget_verdict"], out["verdict"]) == ("fail", "fail", "fail")


def test_float16_rows_within_noise_name_float16(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "nn/Linear.yaml", "-k", "bias=True and batch=32", "--dtype", "float16", "--json", report)
    assert result.exit_code == 0, result.text
    out = read_json(report)["cases"][0]["outputs"][0]
    assert out["verdict"] == "pass (within float16 noise)" and out["tolerance_verdict"] == "fail"
    assert "within float16 noise" in result.text and "float32 noise" not in result.text


def test_a_side_without_float64_is_never_credited_with_its_distance_to_the_other_sides_float64():
    ref = np.linspace(-1, 1, 100)
    a, b = ref + 1e-7, ref - 1.2e-6  # |a - b| = 1.3e-6: within K x b's distance to torch float64, beyond 11 x torch's own
    rec = _attr(a, b, ref, ref, None)
    assert rec["own_error"] == {"torch": pytest.approx(1e-7)} and rec["budget"] == pytest.approx(2e-7)
    assert not rec["within_noise"]


def test_conv2d_weight_gradient_passes_on_its_rounding_without_a_tuned_tolerance(cli, tmp_path):
    """512-term weight-gradient sums: the shipped spec has no grad_tolerance; MindSpore refuses float64 for Conv2d,
    so its rounding is the structural bound gamma_n * sum|t| (verdict/rounding.py), torch's is measured."""
    case = "-k", "padding=1 and stride=1 and bias=False"
    strict = cli("run", CONFIGS / "nn/Conv2d.yaml", *case, "--no-error-budget")
    assert strict.exit_code == 1, strict.text
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "nn/Conv2d.yaml", *case, "--json", report)
    assert result.exit_code == 0, result.text
    record = read_json(report)["cases"][0]
    row = next(o for o in record["outputs"] if o["name"] == "grad:weight")
    assert row["verdict"] == "pass (within float32 noise)" and row["kind"] == "grad"
    assert list(row["attribution"]["own_error"]) == ["torch", "mindspore"]
    assert list(row["attribution"]["own_error_from_structure"]) == ["mindspore"]  # refused float64: bounded instead
    assert row["attribution"]["bound_ratio"] < 0.1
    assert "float64" in record["reference"]["float64_runs"]["mindspore"]


def test_a_long_mindspore_cumsum_passes_on_its_budget_and_carries_a_precision_note(cli, tmp_path):
    """8192-term running sums: MindSpore's CPU cumsum is ~30-50x further from float64 than torch's. The note shows
    whatever the verdict, in every report; --strict-precision makes it a failure."""
    spec = CONFIGS / "accumulation/cumsum.yaml"
    report, md, page = tmp_path / "r.json", tmp_path / "s.md", tmp_path / "p.html"
    result = cli("run", spec, "--json", report, "--markdown", md, "--html", page)
    assert result.exit_code == 0, result.text
    out = read_json(report)["cases"][0]["outputs"][0]
    assert out["verdict"] == "pass (within float32 noise)" and out["tolerance_verdict"] == "fail"
    note = out["precision_note"]
    assert note.startswith("precision outlier: mindspore is") and note.endswith("further from float64 than torch")
    assert out["attribution"]["ratio"] >= 10
    for text in (result.text, md.read_text(), page.read_text()):
        assert "precision outlier: mindspore is" in text
    strict = cli("run", spec, "--strict-precision", "--json", report)
    assert strict.exit_code == 1, strict.text
    out = read_json(report)["cases"][0]["outputs"][0]
    assert out["verdict"] == "fail (precision outlier)" and not out["passed"]
    assert "fail (precision outlier)" in strict.text


def test_strict_precision_judges_passing_cases_too_and_passes_an_even_pair(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", CONFIGS / "nn/Linear.yaml", "-k", "batch=32 and bias=True", "--strict-precision", "--json", report)
    assert result.exit_code == 0, result.text
    case = read_json(report)["cases"][0]
    assert case["reference"]["float64_runs"] == {"torch": "ok", "mindspore": "ok"}  # ran although nothing failed
    assert all("precision_note" not in o for o in case["outputs"])


def test_a_precision_note_needs_the_same_function_computed_less_precisely():
    ref = np.linspace(-1, 1, 100)
    noisy = _attr(ref + 1e-7, ref + 4e-6, ref, ref, None)  # 40x further, still float32-accurate: a note
    assert noisy["precision_note"] == "precision outlier: mindspore is 40x further from float64 than torch"
    wrong = _attr(ref + 1e-8, ref * 1.001, ref, ref, ref * 1.001)  # its own float64 run is off too: another function
    assert wrong["outlier"] == "mindspore" and "precision_note" not in wrong
    lost = _attr(ref + 1e-8, ref + 1e-2, ref, ref, None)  # no float64 run, but half the digits gone: not precision
    assert "precision_note" not in lost


def test_a_bug_only_in_one_sides_float32_path_is_not_its_own_noise():
    """B's float32 kernel is off by 1e-3 while its float64 kernel is right: |B32 - B64| is no rounding error."""
    ref = np.linspace(-1, 1, 100)
    rec = _attr(ref + 1e-7, ref + 1e-3, ref, ref, ref)
    assert "mindspore" in rec["own_error_rejected"] and not rec["within_noise"]


def test_the_reference_sides_own_float32_error_passes_with_a_note_when_the_other_side_matches_float64():
    """LayerNorm over one feature: the gradient is exactly 0; torch float32 gives 3e-5, MindSpore 6e-14."""
    ref = np.zeros(40)
    torch32 = np.where(np.arange(40) % 6 == 0, 3.05e-5, 0.0)
    rec = _attr(torch32, ref + 5.7e-14, ref, ref, ref)
    assert rec["within_noise"] and rec["verdict"] == "pass (torch's own float32 error: mindspore matches float64)"
    assert rec["precision_note"].startswith("precision outlier: torch is")


def test_a_port_bug_is_never_passed_off_as_the_reference_sides_error():
    ref = np.linspace(-1, 1, 100)
    # torch off by its float32 rounding, MindSpore off by a constant 1e-4 (a wrong bias): MindSpore is the outlier
    rec = _attr(ref + 1e-7, ref + 1e-4, ref, ref, ref + 1e-4)
    assert not rec["within_noise"] and rec["outlier"] == "mindspore"
    # torch's float32 error swamped by a MindSpore bug of its own size: torch is not ten times further
    rec = _attr(ref + 3e-4 * np.sign(ref), ref - 1e-4 * np.sign(ref), ref, ref * 0, ref - 1e-4 * np.sign(ref))
    assert not rec["within_noise"]


def test_a_reference_side_off_by_more_than_rounding_is_not_excused():
    """A recorded torch output tampered by 0.01 (values up to pi) is no float32 error: the row still fails."""
    ref = np.linspace(-3, 3, 64)
    rec = _attr(ref + 0.01, ref + 1e-8, ref, ref, ref)
    assert not rec["within_noise"] and rec["outlier"] == "torch"
