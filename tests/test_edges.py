"""--edges variants, edge_differences, the NaN/Inf diagnosis, --repeat determinism, and order independence."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import CONFIGS, read_json, without_timings
from eqcheck.execution.checks.determinism import bitwise_difference
from eqcheck.verdict.nonfinite import nonfinite_hint

SOFTMAX = """
name: softmax_edges
params: {{batch: 4}}
inputs:
  - name: x
    shape: [batch, 8]
torch: {{op: torch.nn.Softmax, init: {{dim: -1}}}}
mindspore: {{op: mindspore.nn.Softmax, init: {{axis: -1}}}}
{extra}
"""


def ids(cli, path, *args) -> list[str]:
    result = cli("list", path, "--edges", *args)
    assert result.exit_code == 0, result.text
    return result.text.split()


def test_every_variant_is_listed_without_editing_the_spec(cli, write_spec):
    assert ids(cli, write_spec(SOFTMAX.format(extra=""))) == [
        f"softmax_edges[float32{suffix}]" for suffix in
        ("", ",edge=int", ",edge=nan", ",edge=inf", ",edge=kink", ",edge=masked", ",edge=single", ",edge=zero_batch")]


def test_reductions_come_from_dim_arguments_and_each_axis_gets_its_variant(cli):
    std = ids(cli, CONFIGS / "ops" / "std.yaml", "-k", "correction=0 and dim=1")
    assert "ops.std[correction=0,dim=1,float32,edge=masked]" in std and "ops.std[correction=0,dim=1,float32,edge=single]" in std
    layernorm = ids(cli, CONFIGS / "nn" / "LayerNorm.yaml")  # normalized_shape: the last axes
    assert any(i.endswith("edge=masked]") for i in layernorm)
    gru = ids(cli, CONFIGS / "nn" / "GRUCell.yaml")  # no reduction; a batch param
    assert not any("masked" in i for i in gru) and any(i.endswith("edge=zero_batch]") for i in gru)


def test_a_spec_opts_a_variant_out_and_names_axes_and_kinks(cli, write_spec):
    extra = 'edges: {skip: {zero_batch: "softmax over no rows is not interesting"}, axes: [0, 1], kinks: [0, 6]}'
    listed = ids(cli, write_spec(SOFTMAX.format(extra=extra)))
    assert not any("zero_batch" in i for i in listed)
    assert {"softmax_edges[float32,edge=masked@0]", "softmax_edges[float32,edge=single@1]"} <= set(listed)


@pytest.mark.parametrize("extra, phrases", [
    ("edges: {skip: {zero_batc: r}}", ["edges.skip.zero_batc", "did you mean 'zero_batch'"]),
    ("edges: {skip: {nan: ''}}", ["edges.skip.nan", "give the reason"]),
    ("edges: {batch: btch}", ["edges.batch", "not a param or sweep axis"]),
    ("edges: {input: y}", ["edges.input", "'y' is not an input"]),
    ("edge_differences: [{edge: nann, reason: r}]", ["edge_differences[0].edge", "did you mean 'nan'"]),
    ("edge_differences: [{reason: r}]", ["edge_differences[0].edge", "required"]),
])
def test_bad_edges_section_is_exit_2_naming_the_field(cli, write_spec, extra, phrases):
    result = cli("validate", write_spec(SOFTMAX.format(extra=extra)))
    assert result.exit_code == 2, result.text
    for phrase in phrases:
        assert phrase in result.text


def test_nan_disagreement_is_diagnosed_and_can_be_declared_as_data(cli, write_spec, tmp_path):
    plain = write_spec(SOFTMAX.format(extra=""), "plain.yaml")
    result = cli("run", plain, "--edges", "--grad", "-k", "edge=nan", "--json", tmp_path / "a.json")  # in a worker (-j 1)
    assert result.exit_code == 1, result.text
    (case,) = read_json(tmp_path / "a.json")["cases"]
    assert case["status"] == "fail" and case["edge"]["inputs"]["x"].endswith("special(nan=0.1)")
    assert "torch propagates NaN that mindspore swallows (finite there)" in case["outputs"][0]["diagnosis"]

    declared = write_spec(SOFTMAX.format(extra="edge_differences:\n  - {edge: nan, reason: MindSpore Softmax swallows NaN, link: "
                                              "'https://example.org/softmax', rows: {out: nonfinite}}\n"
                                              "  - {edge: inf, reason: same for Inf, rows: {out: nonfinite}}"), "declared.yaml")
    # (edge=masked is left out: MindSpore's CPU Softmax zeroes every row once one is fully -inf, not always the same way)
    result = cli("run", "-j", "0", declared, "--edges", "-k", "not masked", "--json", tmp_path / "b.json")
    assert result.exit_code == 0, result.text
    statuses = {c["id"]: c["status"] for c in read_json(tmp_path / "b.json")["cases"]}
    assert statuses["softmax_edges[float32,edge=nan]"] == "expected_difference"
    assert statuses["softmax_edges[float32]"] == "pass"  # a declaration for one variant leaves the others alone


def test_a_plain_declaration_does_not_make_passing_variants_stale(cli, copy_config, tmp_path):
    """ops.std.defaults declares the default-correction difference; its NaN variant still differs, its int one too."""
    result = cli("run", "-j", "0", copy_config("defaults/std.yaml"), "--edges", "--json", tmp_path / "r.json")
    cases = read_json(tmp_path / "r.json")["cases"]
    assert not [c["id"] for c in cases if c["status"] == "unexpected_pass"], result.text


def test_nonfinite_hint_names_the_side_and_the_pattern():
    ctx = {"labels": ("torch", "mindspore"), "inputs_nonfinite": True}
    ref, cand = np.array([np.nan, 1.0, np.inf, 2.0]), np.array([0.5, 1.0, np.inf, np.nan])
    hint = nonfinite_hint(ref, cand, ctx)
    assert "torch propagates NaN that mindspore swallows (finite there) at 1 of 4" in hint.text
    assert "mindspore propagates NaN that torch swallows (finite there) at 1 of 4" in hint.text
    assert (hint.kind, hint.side) == ("nonfinite_propagated", "torch")  # the first part's, as data
    produced = nonfinite_hint(np.array([1.0]), np.array([-np.inf]), {**ctx, "inputs_nonfinite": False})
    assert produced.text == "NaN/Inf: mindspore produces -Inf from finite inputs where torch stays finite at 1 of 1 elements (first at (0,))"
    assert (produced.kind, produced.side) == ("nonfinite_produced", "mindspore")
    both = nonfinite_hint(np.array([np.inf]), np.array([-np.inf]), ctx)
    assert "both non-finite but different at 1 elements, e.g. (0,): torch inf vs mindspore -inf" in both.text and both.kind == "nonfinite_both"
    assert nonfinite_hint(np.array([np.nan, np.inf]), np.array([np.nan, np.inf]), ctx) is None
    # A context object carrying the case's inputs (the diagnosis module's) decides propagated vs produced itself.
    from types import SimpleNamespace
    finite_inputs = SimpleNamespace(labels=("torch", "mindspore"), inputs={"x": np.ones(3)})
    assert "torch produces NaN from finite inputs" in nonfinite_hint(np.array([np.nan]), np.array([0.0]), finite_inputs).text


def test_bitwise_difference_counts_elements_whose_bits_differ():
    a = np.array([0.0, np.nan, 1.0, 2.0], dtype=np.float32)
    assert bitwise_difference([("out", a)], [("out", a.copy())]) is None
    b = a.copy()
    b[0], b[3] = -0.0, 2.0000002  # -0.0 == 0.0 numerically, yet a different bit pattern
    assert bitwise_difference([("out", a)], [("out", b)]) == ("out", 2, 4)


RAND = """
name: rand_like
inputs: [{name: x, shape: [4, 8]}]
torch: {op: torch.rand_like}
mindspore: {op: mindspore.ops.rand_like}
"""


def test_a_side_that_disagrees_with_itself_gets_its_own_status(cli, write_spec, tmp_path):
    spec = write_spec(RAND)
    without = cli("run", "-j", "0", spec, "--json", tmp_path / "plain.json")
    assert read_json(tmp_path / "plain.json")["cases"][0]["status"] == "fail", without.text  # looks like a port bug
    result = cli("run", "-j", "0", spec, "--repeat", "3", "--json", tmp_path / "r.json", "--junit", tmp_path / "r.xml",
                 "--markdown", tmp_path / "r.md")
    assert result.exit_code == 1
    document = read_json(tmp_path / "r.json")
    (case,) = document["cases"]
    assert case["status"] == "nondeterministic" and document["summary"]["nondeterministic"] == 1
    assert "torch: 2 identical calls differ at 32 of 32 elements (output out)" in case["message"]
    assert case["determinism"]["sides"]["mindspore"]["identical"] is False
    assert 'type="nondeterministic"' in (tmp_path / "r.xml").read_text()
    assert "1 nondeterministic" in (tmp_path / "r.md").read_text() and "1 nondeterministic" in result.text


def test_deterministic_ops_pass_repeat_with_gradients(cli, tmp_path):
    result = cli("run", "-j", "0", CONFIGS / "nn" / "Linear.yaml", "-k", "batch=1 and bias=True", "--grad", "--repeat", "3",
                 "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.text
    (case,) = read_json(tmp_path / "r.json")["cases"]
    assert case["determinism"] == {"repeat": 3, "sides": {"torch": {"identical": True}, "mindspore": {"identical": True}}}


GELU_MINT = """
name: gelu_mint
inputs: [{name: x, shape: [4, 8]}]
torch: {op: torch.nn.functional.gelu}
mindspore: {op: mindspore.mint.nn.functional.gelu}
"""


def test_a_case_verdict_does_not_depend_on_the_cases_run_before_it(cli, write_spec, tmp_path):
    """In one process: alone, and after a MindSpore kernel failure and every edge variant of other specs."""
    softmax = write_spec(SOFTMAX.format(extra=""), "softmax.yaml")
    before = [write_spec(GELU_MINT, "gelu.yaml"), CONFIGS / "nn" / "LeakyReLU.yaml", CONFIGS / "ops" / "std.yaml"]
    target = "softmax_edges[float32,edge=nan]"
    cli("run", "-j", "0", softmax, "--edges", "--grad", "-k", "edge=nan", "--json", tmp_path / "alone.json")
    cli("run", "-j", "0", *before, softmax, "--edges", "--grad", "--json", tmp_path / "after.json")
    alone = {c["id"]: c for c in read_json(tmp_path / "alone.json")["cases"]}
    after = {c["id"]: c for c in read_json(tmp_path / "after.json")["cases"]}
    assert list(after).index(target) > 20 and after["gelu_mint[float32]"]["status"] in ("unsupported", "error")
    assert without_timings(after[target]) == without_timings(alone[target])


def test_the_exploratory_edge_specs_stay_valid(cli):
    """examples/edges/ holds the small specs docs/edges.md cites for its exploratory findings."""
    from conftest import ROOT

    result = cli("validate", ROOT / "examples" / "edges")
    assert result.exit_code == 0, result.text


GLU = """
name: glu
inputs: [{name: x, shape: [4, 6]}]
torch: {op: torch.nn.functional.glu, call: {dim: -1}}
mindspore: {op: mindspore.ops.glu, call: {axis: -1}}
"""


def test_a_variant_the_reference_refuses_is_unsupported_but_a_candidate_refusal_is_an_error(cli, write_spec, tmp_path):
    cli("run", "-j", "0", write_spec(GLU), "--edges", "-k", "edge=single", "--json", tmp_path / "glu.json")
    (glu,) = read_json(tmp_path / "glu.json")["cases"]
    assert glu["status"] == "unsupported"  # glu halves an axis of size 1: outside the op's domain on torch's side
    assert glu["message"].startswith("the edge variant does not apply: torch failed to call")
    cli("run", "-j", "0", CONFIGS / "nn" / "LSTM.yaml", "--edges", "-k", "num_layers=1 and bias=True and edge=zero_batch",
        "--json", tmp_path / "lstm.json")
    (lstm,) = read_json(tmp_path / "lstm.json")["cases"]
    assert lstm["status"] == "error" and lstm["message"].startswith("mindspore failed to call")
