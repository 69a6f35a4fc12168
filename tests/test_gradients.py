"""Gradients (--grad): one seeded cotangent through both sides, input and parameter gradients compared by canonical name."""

from __future__ import annotations

from conftest import read_json

GRU = "configs/nn/GRUCell.yaml"


def test_grucell_gradients_pass_and_carry_canonical_names(cli, tmp_path):
    report = tmp_path / "r.json"
    result = cli("run", GRU, "-k", "bias=True and batch=64", "--grad", "--json", report)
    assert result.exit_code == 0, result.text
    case = read_json(report)["cases"][0]
    grads = {o["name"]: o for o in case["outputs"] if o["kind"] == "grad"}
    assert set(grads) == {"grad:input", "grad:hidden", "grad:weight_ih", "grad:weight_hh", "grad:bias_ih", "grad:bias_hh"}
    assert all(o["passed"] and 0 < o["max_abs"] < 1e-4 for o in grads.values())
    assert case["outputs"][0]["kind"] == "output"
    assert case["gradients"]["status"] == "compared"


def test_planted_gradient_only_bug_is_caught_on_the_right_parameter(cli, write_spec, tmp_path):
    """A superfluous transpose on MindSpore's side, hidden from the forward by a symmetric (constant) weight.

    W and W^T are the same matrix, so both forwards agree; the gradient MindSpore returns is in its own layout,
    and the (wrong) inverse transform transposes it: (g^T x)^T != g^T x. Only the weight gradient can see it.
    """
    spec = write_spec("""
        name: planted.grad_only
        params: {n: 6}
        inputs:
          - {name: x, shape: [4, n]}
        torch:
          op: torch.nn.Linear
          init: {in_features: $n, out_features: $n, bias: false}
        mindspore:
          op: mindspore.nn.Dense
          init: {in_channels: $n, out_channels: $n, has_bias: false}
        weights:
          weight:
            torch: weight
            mindspore: {name: weight, transform: [{transpose: [1, 0]}]}
            init: {constant: {value: 0.5}}
    """)
    report = tmp_path / "r.json"
    result = cli("run", spec, "--grad", "--json", report)
    case = read_json(report)["cases"][0]
    rows = {o["name"]: o for o in case["outputs"]}
    assert rows["out"]["passed"], result.text
    assert rows["grad:x"]["passed"]
    assert not rows["grad:weight"]["passed"], result.text
    assert case["status"] == "fail" and result.exit_code == 1


def test_no_gradient_on_one_side_is_unsupported_not_a_crash(cli, write_spec, tmp_path):
    spec = write_spec("""
        name: planted.nograd
        inputs:
          - {name: x, shape: [5, 4]}
        torch:
          op: torch.argsort
          call: {dim: -1}
        mindspore:
          op: mindspore.ops.argsort
          call: {axis: -1}
    """)
    report = tmp_path / "r.json"
    result = cli("run", spec, "--grad", "--json", report)
    case = read_json(report)["cases"][0]
    assert case["status"] == "pass", result.text  # the forward verdict stands
    assert case["gradients"]["status"] == "unsupported"
    assert any(o["kind"] == "grad" and "unsupported" in o.get("ignored", "") for o in case["outputs"])
