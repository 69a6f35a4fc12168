"""Spec features real pairs need (issue 11): tensor arguments, literal positional arguments, derived inputs,
a mode per side, an init for an unmapped parameter. Each is shown working, and a planted mistake is caught."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json
from eqcheck.cases.draws import derived
from eqcheck.errors import SpecError
from eqcheck.spec.loader import parse_spec

CROSS_ENTROPY = """
name: nn.CrossEntropyLoss.weighted
grad: true
inputs:
  - {name: input, shape: [16, 5], mindspore: logits}
  - name: target
    shape: [16]
    dtype: int64
    grad: false
    distribution: {integers: {low: 0, high: 5}}
    derive: [{set_every: {k: 4, value: -100}}]
    mindspore: {name: labels, dtype: int32}
torch: {op: torch.nn.CrossEntropyLoss, init: {weight: {tensor: [0.2, 1.0, 0.5, 2.0, 1.5]}, ignore_index: -100}}
mindspore: {op: mindspore.nn.CrossEntropyLoss, init: {weight: {tensor: MS_WEIGHT}, ignore_index: -100}}
unmapped:
  torch: {weight: the class-weight buffer torch builds from the constructor's weight argument}
"""


def _run(cli, write_spec, tmp_path, text: str, *extra: str):
    report = tmp_path / "report.json"
    result = cli("run", write_spec(text), "--json", report, *extra)
    cases = read_json(report)["cases"] if report.exists() else []
    return result, cases


def _rows(case: dict) -> dict[str, dict]:
    return {o["name"]: o for o in case["outputs"]}


@pytest.mark.frameworks
def test_tensor_argument_reaches_both_frameworks_as_a_tensor(cli, write_spec, tmp_path):
    result, [case] = _run(cli, write_spec, tmp_path, CROSS_ENTROPY.replace("MS_WEIGHT", "[0.2, 1.0, 0.5, 2.0, 1.5]"))
    assert result.exit_code == 0, result.text
    assert set(_rows(case)) == {"out", "grad:input"}  # the labels are not differentiated (grad: false)
    assert case["sides"]["torch"]["init"]["weight"] == {"tensor": [0.2, 1.0, 0.5, 2.0, 1.5], "dtype": "float"}


@pytest.mark.frameworks
def test_a_different_class_weight_is_caught(cli, write_spec, tmp_path):
    result, [case] = _run(cli, write_spec, tmp_path, CROSS_ENTROPY.replace("MS_WEIGHT", "[1.0, 1.0, 1.0, 1.0, 1.0]"))
    assert result.exit_code == 1 and case["status"] == "fail", result.text


def test_ignore_index_every_kth_label():
    labels = derived(np.arange(10), "set_every", {"k": 4, "value": -100, "start": 0})
    assert labels.tolist() == [-100, 1, 2, 3, -100, 5, 6, 7, -100, 9]


def test_softmax_and_log_softmax_are_distributions_along_the_axis():
    x = np.random.default_rng(0).normal(size=(3, 7))
    p = derived(x, "softmax", {"axis": 1})
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(derived(x, "log_softmax", {"axis": 1})), p)


def test_keep_away_moves_values_off_the_poles_only_below_the_bound():
    x = np.array([-2.01, -1.5, -0.03, 0.02, 2.99])
    out = derived(x, "keep_away", {"period": 1.0, "offset": 0.0, "margin": 0.1, "below": 0.5})
    assert out.tolist() == pytest.approx([-2.1, -1.5, -0.1, 0.1, 2.99])  # 3 is a pole only of tan-like ops, not below 0.5


def test_sign_makes_plus_minus_one_labels():
    assert derived(np.array([-0.3, 0.0, 2.0]), "sign", {"zero": 1.0}).tolist() == [-1.0, 1.0, 1.0]


def test_round_to_makes_ties():
    x = np.random.default_rng(0).normal(size=200)
    assert len(np.unique(derived(x, "round_to", {"step": 0.5}))) < 20


@pytest.mark.frameworks
def test_log_softmax_inputs_make_nll_loss_comparable(cli, write_spec, tmp_path):
    spec = """
    name: nn.NLLLoss.derived
    grad: true
    inputs:
      - {name: input, shape: [12, 6], derive: [{log_softmax: {axis: 1}}], mindspore: logits}
      - {name: target, shape: [12], dtype: int64, grad: false, distribution: {integers: {low: 0, high: 6}}, mindspore: {name: labels, dtype: int32}}
    torch: {op: torch.nn.functional.nll_loss}
    mindspore: {op: mindspore.ops.nll_loss}
    """
    result, [case] = _run(cli, write_spec, tmp_path, spec)
    assert result.exit_code == 0, result.text
    assert case["status"] == "pass"


LITERAL = """
name: ops.transpose.literal
grad: true
inputs:
  - {name: input, shape: [2, 3, 4]}
torch: {op: torch.permute, args: [input, {value: [1, 0, 2]}]}
mindspore: {op: mindspore.ops.transpose, args: [input, {value: MS_PERM}]}
"""


@pytest.mark.frameworks
def test_literal_positional_argument(cli, write_spec, tmp_path):
    result, [case] = _run(cli, write_spec, tmp_path, LITERAL.replace("MS_PERM", "[1, 0, 2]"))
    assert result.exit_code == 0, result.text
    result, [case] = _run(cli, write_spec, tmp_path, LITERAL.replace("MS_PERM", "[1, 2, 0]"))
    assert result.exit_code != 0 and case["status"] != "pass"


MODES = """
name: nn.BatchNorm1d.modes
inputs:
  - {name: input, shape: [8, 4], mindspore: x}
torch: {op: torch.nn.BatchNorm1d, init: {num_features: 4}, mode: TORCH_MODE}
mindspore: {op: mindspore.nn.BatchNorm1d, init: {num_features: 4}, mode: eval}
weights:
  weight: {mindspore: gamma}
  bias: {mindspore: beta}
  running_mean: {mindspore: moving_mean}
  running_var: {mindspore: moving_variance}
unmapped:
  torch: {num_batches_tracked: a step counter MindSpore does not keep}
"""


@pytest.mark.frameworks
def test_torch_left_in_train_mode_against_mindspore_eval_is_caught(cli, write_spec, tmp_path):
    result, [case] = _run(cli, write_spec, tmp_path, MODES.replace("TORCH_MODE", "eval"))
    assert result.exit_code == 0, result.text
    result, [case] = _run(cli, write_spec, tmp_path, MODES.replace("TORCH_MODE", "train"))
    assert result.exit_code == 1 and case["status"] == "fail"
    assert case["mode"] == {"torch": "train", "mindspore": "eval"}
    assert {"state:running_mean", "state:running_var"} <= set(_rows(case))  # train mode moved torch's statistics


UNMAPPED_INIT = """
name: nn.Linear.one_sided_bias
grad: true
inputs:
  - {name: input, shape: [4, 8], mindspore: x}
torch: {op: torch.nn.Linear, init: {in_features: 8, out_features: 3, bias: true}}
mindspore: {op: mindspore.nn.Dense, init: {in_channels: 8, out_channels: 3, has_bias: false}}
unmapped:
  torch: {bias: BIAS}
"""


@pytest.mark.frameworks
def test_unmapped_parameter_gets_its_declared_init(cli, write_spec, tmp_path):
    zero = "{reason: the MindSpore side has no bias, init: {constant: 0}}"
    result, [case] = _run(cli, write_spec, tmp_path, UNMAPPED_INIT.replace("BIAS", zero))
    assert result.exit_code == 0, result.text
    assert _rows(case)["grad:torch.bias"]["ignored"]
    # Without an init the unshared bias keeps torch's random default, and the outputs differ.
    result, [case] = _run(cli, write_spec, tmp_path, UNMAPPED_INIT.replace("BIAS", "the MindSpore side has no bias"))
    assert result.exit_code == 1 and case["status"] == "fail"


@pytest.mark.parametrize("fragment,field,message", [
    ("torch: {op: torch.nn.CrossEntropyLoss, init: {weight: {tensor: [1.0], dtype: flaot32}}}", "torch.init.weight.dtype",
     "unknown dtype"),
    ("torch: {op: torch.nn.CrossEntropyLoss, init: {weight: {tensor: abc}}}", "torch.init.weight.tensor", "neither a list"),
    ("torch: {op: torch.einsum, args: [{value: 'ij', extra: 1}, input]}", "torch.args[0].extra", "unknown key"),
    ("torch: {op: torch.nn.ReLU, mode: training}", "torch.mode", "must be 'eval' or 'train'"),
])
def test_feature_fields_are_validated(write_spec, fragment, field, message):
    spec = write_spec(f"""
    name: x
    inputs: [{{name: input, shape: [3]}}]
    {fragment}
    mindspore: {{op: mindspore.nn.ReLU}}
    """)
    with pytest.raises(SpecError) as info:
        parse_spec(spec)
    assert info.value.field == field and message in str(info.value)


@pytest.mark.parametrize("derive,field,message", [
    ("[{softmax: {axis: 3}}]", "inputs[0].derive[0].softmax", "out of range"),
    ("[{sofmax: {axis: 1}}]", "inputs[0].derive[0].sofmax", "unknown key"),
    ("[{round_to: {}}]", "inputs[0].derive[0].round_to", "needs 'step'"),
    ("[{set_every: {k: 2}}]", "inputs[0].derive[0].set_every", "needs 'value'"),
])
def test_derive_steps_are_validated(write_spec, derive, field, message):
    from eqcheck.cases import load_spec as load_and_expand

    spec = write_spec(f"""
    name: x
    inputs: [{{name: input, shape: [3, 4], derive: {derive}}}]
    torch: {{op: torch.nn.ReLU}}
    mindspore: {{op: mindspore.nn.ReLU}}
    """)
    with pytest.raises(SpecError) as info:
        load_and_expand(spec)
    assert info.value.field == field and message in str(info.value)


@pytest.mark.frameworks
def test_repro_script_carries_tensor_arguments_and_side_modes(cli, write_spec, tmp_path):
    import subprocess
    import sys

    spec = write_spec(CROSS_ENTROPY.replace("MS_WEIGHT", "[0.2, 1.0, 0.5, 2.0, 1.5]"))
    out = tmp_path / "repro"
    result = cli("repro", "nn.CrossEntropyLoss.weighted[float32]", spec, "-o", out)
    assert result.exit_code == 0, result.text
    text = (out / "repro.py").read_text()
    assert "T([0.2, 1.0, 0.5, 2.0, 1.5], 'float32')" in text
    assert "fn.train(TORCH[\"train\"])" in text and "'train': False" in text  # each side's own mode
    run = subprocess.run([sys.executable, str(out / "repro.py")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "out: max_abs=" in run.stdout
