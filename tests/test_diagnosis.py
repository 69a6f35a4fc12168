"""A diagnosis line for every failing row: each hint caught on a planted bug (real frameworks where the bug is a
spec or port bug; hand-made arrays otherwise), "no pattern found" when nothing matches, and the line in every report."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import read_json
from eqcheck.verdict import diagnosis
from eqcheck.verdict.diagnosis import NO_PATTERN, Context, diagnose

LABELS = ("torch", "mindspore")


def _ctx(name="out", **kw):
    return Context(name, labels=LABELS, **kw)


def _rows(report):
    return {(c["id"], o["name"]): o for c in read_json(report)["cases"] for o in c["outputs"]}


def _diagnoses(cli, tmp_path, *args):
    report = tmp_path / "r.json"
    result = cli("run", *args, "--json", report)
    assert result.exit_code == 1, result.text
    rows = {name: o for (_, name), o in _rows(report).items()}
    assert all(o.get("diagnosis") for o in rows.values() if not o["passed"]), "every failing row has a diagnosis"
    assert all("diagnosis" not in o for o in rows.values() if o["passed"]), "passing rows have none"
    return rows, result.text


# ---- planted spec/port bugs, real frameworks -----------------------------------------------------


def test_a_leakyrelu_slope_mapped_wrongly_shows_differences_only_on_negative_inputs(cli, copy_config, tmp_path):
    spec = copy_config("nn/LeakyReLU.yaml", {"init: {alpha: $negative_slope}": "init: {alpha: 0.2}"})
    rows, text = _diagnoses(cli, tmp_path, spec, "-k", "negative_slope=0.01", "--grad")
    for name in ("out", "grad:input"):
        line = rows[name]["diagnosis"]
        assert line.startswith("differences only where input < 0") and "mindspore = 20 x torch" in line, line
    assert "diagnosis: differences only where input < 0" in text


def test_std_with_the_wrong_ddof_is_a_constant_ratio_naming_n_minus_one(cli, copy_config, tmp_path):
    spec = copy_config("ops/std.yaml", {"ddof: $correction": "ddof: 0"})
    rows, _ = _diagnoses(cli, tmp_path, spec, "-k", "correction=1 and dim=1")
    line = rows["out"]["diagnosis"]  # torch divides by 19, MindSpore by 20, under a square root
    assert line.startswith("constant ratio: mindspore = 0.974679 x torch") and "sqrt(19/20), N = 20" in line, line


def test_a_loss_reduced_by_sum_instead_of_mean_is_a_ratio_of_n(cli, copy_config, tmp_path):
    spec = copy_config("nn/SmoothL1Loss.yaml", {
        "mindspore.nn.SmoothL1Loss\n  init: {reduction: $reduction": "mindspore.nn.SmoothL1Loss\n  init: {reduction: sum"})
    rows, _ = _diagnoses(cli, tmp_path, spec, "-k", "reduction=mean and beta=1.0", "--grad")
    for name in ("out", "grad:input", "grad:target"):  # 8 x 10 elements
        assert "80: a sum vs a mean over 80 elements?" in rows[name]["diagnosis"], rows[name]["diagnosis"]


def test_arguments_passed_in_the_wrong_order_show_a_sign_flip(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: planted.sub_order
        inputs:
          - {name: a, shape: [8, 16]}
          - {name: b, shape: [8, 16]}
        torch:
          op: torch.sub
        mindspore:
          op: mindspore.ops.sub
          args: [b, a]
    """)
    rows, _ = _diagnoses(cli, tmp_path, spec)
    assert rows["out"]["diagnosis"] == "sign flip: mindspore = -torch (magnitudes match)"


def test_blocks_concatenated_in_another_order_are_named_with_the_order(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: planted.cat_order
        inputs:
          - {name: a, shape: [4, 8]}
          - {name: b, shape: [4, 8]}
          - {name: c, shape: [4, 8]}
        torch:
          op: torch.cat
          args: [[a, b, c]]
        mindspore:
          op: mindspore.ops.cat
          args: [[b, a, c]]
    """)
    rows, _ = _diagnoses(cli, tmp_path, spec)
    assert rows["out"]["diagnosis"].startswith("matches after reordering 3 blocks along axis 0: mindspore holds torch's blocks in order [1, 0, 2]")


def test_a_wrong_permutation_is_a_transposed_layout(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: planted.permute
        inputs:
          - {name: x, shape: [4, 8, 8]}
        torch:
          op: torch.permute
          call: {dims: [0, 2, 1]}
        mindspore:
          op: mindspore.ops.permute
          call: {axis: [0, 1, 2]}
    """)
    rows, _ = _diagnoses(cli, tmp_path, spec)
    assert rows["out"]["diagnosis"] == "matches after swapping axes 1 and 2 (a transposed layout)"


def test_argsort_indices_that_differ_only_among_ties(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: planted.argsort_ties
        inputs:
          - {name: x, shape: [8, 32], distribution: {integers: {low: 0, high: 4}}}
        torch:
          op: torch.argsort
          call: {dim: -1}
        mindspore:
          op: mindspore.ops.argsort
          call: {axis: -1}
    """)
    rows, _ = _diagnoses(cli, tmp_path, spec)
    assert "all among tied values of input x along axis 1 (tie order)" in rows["out"]["diagnosis"]


def test_an_op_mapped_to_something_constant_shows_one_side_all_zeros(cli, write_spec, tmp_path):
    """Seen for real (issue 10): MindSpore's CPU float16 LSTM gradients come back all zeros in a fresh process
    (after other MindSpore work in the same process they are non-zero garbage instead, so the test plants it)."""
    spec = write_spec("""
        name: planted.zeros
        inputs:
          - {name: x, shape: [6, 8]}
        torch:
          op: torch.relu
        mindspore:
          op: mindspore.ops.zeros_like
    """)
    rows, _ = _diagnoses(cli, tmp_path, spec, "--grad")
    assert rows["out"]["diagnosis"] == "mindspore's out is all zeros while torch's varies"
    assert rows["grad:x"]["diagnosis"] == "mindspore's grad:x is all zeros while torch's varies"


def test_gru_gates_reordered_by_a_wrong_weight_map_has_no_array_pattern(cli, copy_config, tmp_path):
    """A wrong reorder_chunks feeds MindSpore other weights: no output is a permutation of torch's, and the
    honest answer is "no pattern found" (the float64 runs still fail the budget)."""
    wrong = "{mindspore: {name: %s, transform: [{reorder_chunks: {axis: 0, order: [1, 0, 2]}}]}}"
    weights = "weights:\n" + "".join(f"  {w}: {wrong % w}\n" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
    spec = copy_config("nn/GRUCell.yaml", {"\ninputs:\n": "\n" + weights + "inputs:\n"})
    rows, _ = _diagnoses(cli, tmp_path, spec, "-k", "bias=True and batch=1")
    assert rows["out"]["diagnosis"] == NO_PATTERN and rows["out"]["budget_verdict"] == "fail"


# ---- hints on arrays --------------------------------------------------------------------------------


def test_nan_or_inf_on_one_side_only():
    ref = np.linspace(-1, 1, 12).reshape(3, 4)
    cand = ref.copy()
    cand[1, 2], cand[2, 0] = np.nan, np.inf
    # eqcheck/verdict/nonfinite.py's hint comes first (without inputs it cannot say propagated or produced)
    assert diagnose(ref, cand, _ctx()) == "NaN/Inf: mindspore is NaN/+Inf where torch is finite at 2 of 12 elements (first at (1, 2))"
    assert diagnosis.nonfinite_one_side(ref, cand, _ctx()) == "mindspore has 1 NaN and 1 Inf where the other side is finite (first at (1, 2))"
    # the same as data, for pages that must not parse the line (report/findings.py)
    found = diagnosis.diagnosis_of(ref, cand, _ctx())
    assert (found.kind, found.side) == ("nonfinite_where_finite", "mindspore")
    inputs = {"x": ref}  # finite inputs: the op produced the NaN/Inf
    produced = diagnosis.diagnosis_of(ref, cand, Context("out", labels=("torch", "mindspore"), inputs=inputs))
    assert (produced.kind, produced.side) == ("nonfinite_produced", "mindspore")
    assert diagnosis.diagnosis_of(ref, ref * -1, _ctx()).kind == "sign_flip"


def test_a_constant_offset():
    ref = np.linspace(-3, 3, 50)
    assert diagnose(ref, ref + 0.5, _ctx()) == "constant offset: mindspore = torch + 0.5"


def test_one_side_constant_but_not_zero():
    ref = np.linspace(-3, 3, 50)
    assert diagnose(ref, np.full_like(ref, 2.5), _ctx("grad:bias")) == "mindspore's grad:bias is constant (2.5) while torch's varies"


def test_a_partial_sign_flip():
    ref = np.linspace(1, 2, 10)
    cand = ref.copy()
    cand[:3] *= -1
    assert diagnose(ref, cand, _ctx()) == "sign flip at 3 of 10 elements (magnitudes match)"


def test_gate_blocks_of_a_weight_gradient_in_another_order():
    ref = np.random.default_rng(0).normal(size=(4 * 8, 5))  # LSTM-like: 4 gate blocks of 8 rows
    i, f, g, o = np.split(ref, 4)
    assert "4 blocks along axis 0" in diagnose(ref, np.concatenate([i, g, f, o]), _ctx("grad:weight_ih"))


@pytest.mark.parametrize("ratio, named", [
    (64.0, "64: a sum vs a mean over 64 elements?"),
    (1 / 64, "1/64: a mean vs a sum over 64 elements?"),
    (64 / 63, "64/63, N = 64: an N vs N-1 divisor"),
    (math.sqrt(63 / 64), "sqrt(63/64), N = 64: an N-1 vs N divisor (ddof, unbiased) under a square root"),
    (3.7, None),
])
def test_ratios_are_named_when_they_have_a_known_origin(ratio, named):
    ref = np.linspace(0.5, 2, 40)
    line = diagnose(ref, ref * ratio, _ctx())
    assert line.startswith("constant ratio: mindspore = ")
    assert (named in line) if named else ("(" not in line)


def test_unrelated_arrays_have_no_pattern():
    rng = np.random.default_rng(1)
    assert diagnose(rng.normal(size=50), rng.normal(size=50), _ctx()) == NO_PATTERN


def test_a_hint_that_raises_is_skipped_and_new_hints_plug_in(monkeypatch):
    def broken(ref, cand, ctx):
        raise ValueError("odd data")

    def always(ref, cand, ctx):
        return f"seen {ctx.name}"

    monkeypatch.setattr(diagnosis, "HINTS", list(diagnosis.HINTS))
    diagnosis.register(broken, before=diagnosis.HINTS[0])
    diagnosis.register(always)
    rng = np.random.default_rng(2)
    assert diagnose(rng.normal(size=5), rng.normal(size=5), _ctx("out")) == "seen out"


# ---- the line in every report ------------------------------------------------------------------------


def test_the_diagnosis_reaches_table_markdown_junit_and_html(cli, copy_config, tmp_path):
    spec = copy_config("nn/LeakyReLU.yaml", {"init: {alpha: $negative_slope}": "init: {alpha: 0.2}"})
    md, junit, page = tmp_path / "s.md", tmp_path / "j.xml", tmp_path / "p.html"
    result = cli("run", spec, "-k", "negative_slope=0.01", "--markdown", md, "--junit", junit, "--html", page)
    assert result.exit_code == 1
    wanted = "differences only where input &lt; 0"
    assert "diagnosis: differences only where input < 0" in result.text
    assert f"diagnosis: {wanted}" in md.read_text()
    failure = ET.parse(junit).getroot().find(".//failure")
    assert "diagnosis: differences only where input < 0" in failure.text
    assert f"diagnosis: {wanted}" in page.read_text()


def test_a_nearly_symmetric_gradient_one_element_off_is_not_called_a_transposed_layout():
    # Issue 31: a depthwise-conv weight gradient with 1 failing element of 8,640 read "matches after swapping axes 2 and 3"
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(960, 1, 3, 3))
    ref = kernel + kernel.transpose(0, 1, 3, 2)  # symmetric 3x3 windows: a swap changes almost nothing
    cand = ref.copy()
    cand[5, 0, 1, 2] += 1e-4
    assert "swapping axes" not in diagnose(ref, cand, _ctx("grad:weight", kind="grad"))
    swapped = np.swapaxes(rng.normal(size=(4, 3, 3)), 1, 2)  # a real transposed layout is still found
    assert "swapping axes 1 and 2" in diagnose(np.swapaxes(swapped, 1, 2), swapped, _ctx())
