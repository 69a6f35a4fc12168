"""A gate that cannot be fooled (issue 29): a second, different bug planted on the MindSpore side of a declared spec
fails, with a message naming what changed against the declaration; before fingerprints all of these stayed
`expected_difference` with exit 0. The three bugs the issue planted, and a declared refusal that no longer happens
(the larger deviation of a declared row is planted in tests/test_declarations.py)."""

from __future__ import annotations

import pytest

from conftest import read_json

pytestmark = pytest.mark.frameworks


def run(cli, spec, tmp_path, *options: str) -> tuple[object, dict[str, dict]]:
    report = tmp_path / "r.json"
    result = cli("run", spec, "--json", report, "-j", "0", *options)
    return result, {c["id"]: c for c in read_json(report)["cases"]}


PLANTED = [
    # F.selu declares its gradient for x < 0; ops.selu replaced by ops.elu: the forward is off by 0.70
    ("activations/F.selu.yaml", {"op: mindspore.ops.selu": "op: mindspore.ops.elu"}, "F.selu[float32]",
     "out: value max_abs 0.7"),
    # KLDivLoss.target_grad declares the target gradient; MindSpore's reduction sum -> mean: the loss is off by 4.76
    ("losses/KLDivLoss_target_grad.yaml", {"  op: mindspore.nn.KLDivLoss\n  init: {reduction: sum}":
                                           "  op: mindspore.nn.KLDivLoss\n  init: {reduction: mean}"},
     "nn.KLDivLoss.target_grad[float32]", "out: value max_abs 4.76"),
    # ops.nextafter declares broadcasting and the gradient at ties; MindSpore's arguments swapped
    ("math/nextafter.yaml", {"  op: mindspore.ops.nextafter\n  args: [input, other]":
                             "  op: mindspore.ops.nextafter\n  args: [other, input]"}, "ops.nextafter[float32]",
     "out: value max_abs"),
]


@pytest.mark.parametrize("config,plant,case_id,says", PLANTED, ids=["selu-elu", "kldiv-sum-mean", "nextafter-swapped"])
def test_a_second_bug_under_a_declaration_fails_naming_what_changed(cli, copy_config, tmp_path, config, plant, case_id, says):
    result, cases = run(cli, copy_config(config, plant), tmp_path, "--grad")
    case = cases[case_id]
    assert case["status"] == "fail" and result.exit_code == 1, result.text
    assert "does not match its declaration" in case["message"] and says in case["message"], case["message"]


def test_a_declared_refusal_that_no_longer_happens_fails_naming_what_it_returns(cli, copy_config, tmp_path):
    """KLDivLoss.target_grad declares MindSpore refusing batchmean on a 0-d input (torch's sample 5); with batchmean
    mapped to sum, MindSpore computes a value, and the case says the declared refusal became failing rows."""
    spec = copy_config("losses/KLDivLoss_target_grad.yaml", {"  arguments: {reduction: reduction}\n":
                                                             "  arguments: {reduction: {values: {batchmean: sum, sum: sum, mean: mean, none: none}}}\n"})
    result, cases = run(cli, spec, tmp_path, "--explore", "-k", "sample=5]")
    (case,) = cases.values()
    assert case["status"] == "fail" and result.exit_code == 1, result.text
    assert "declared a refusal, but both sides now return values (failing rows: out: nonfinite" in case["message"], case["message"]
