"""`eqcheck scaffold`: drafts from both signatures; the GRUCell draft runs and passes without edits."""

from __future__ import annotations

import pytest
import yaml

from conftest import read_json
from eqcheck.spec.scaffold import match


def test_renames_come_from_the_table_then_exact_names_then_similarity():
    got = match(["input", "hidden", "bias", "dim", "keepdim", "in_features", "num_layer"],
                ["x", "hx", "has_bias", "axis", "keep_dims", "in_channels", "num_layers"])
    assert got == {"input": "x", "hidden": "hx", "bias": "has_bias", "dim": "axis", "keepdim": "keep_dims",
                   "in_features": "in_channels", "num_layer": "num_layers"}


def test_an_exact_name_is_not_stolen_by_a_similar_one():
    assert match(["x", "y"], ["y", "x"]) == {"x": "x", "y": "y"}


@pytest.mark.frameworks
def test_grucell_draft_runs_and_passes_unedited(cli, tmp_path):
    draft = tmp_path / "GRUCell.yaml"
    result = cli("scaffold", "torch.nn.GRUCell", "mindspore.nn.GRUCell", "-o", draft)
    assert result.exit_code == 0, result.text
    text = draft.read_text()
    assert "mindspore: x" in text and "weight_ih" in text  # input renamed; parameters listed
    report = tmp_path / "r.json"
    result = cli("run", draft, "--json", report)
    assert result.exit_code == 0, result.text
    [case] = read_json(report)["cases"]
    assert case["status"] == "pass"
    assert {"grad:weight_ih", "grad:hx"} <= {o["name"] for o in case["outputs"]}


@pytest.mark.frameworks
def test_a_differing_default_is_written_on_both_sides(cli, tmp_path):
    """LeakyReLU: torch negative_slope=0.01, MindSpore alpha=0.2. A draft left at defaults would fail."""
    draft = tmp_path / "LeakyReLU.yaml"
    assert cli("scaffold", "torch.nn.LeakyReLU", "mindspore.nn.LeakyReLU", "-o", draft).exit_code == 0
    text = draft.read_text()
    assert "alpha: $negative_slope" in text and "default differs" in text
    assert cli("run", draft).exit_code == 0


@pytest.mark.frameworks
def test_batchnorm_draft_maps_renamed_parameters_and_converts_momentum(cli):
    result = cli("scaffold", "torch.nn.BatchNorm2d", "mindspore.nn.BatchNorm2d")
    assert result.exit_code == 0, result.text
    for line in ("weight: {torch: weight, mindspore: gamma}", "bias: {torch: bias, mindspore: beta}",
                 "running_var: {torch: running_var, mindspore: moving_variance}", "momentum: $1 - momentum"):
        assert line in result.text


@pytest.mark.frameworks
def test_a_bad_path_is_a_usage_error(cli):
    result = cli("scaffold", "torch.nn.NoSuchCell", "mindspore.nn.GRUCell")
    assert result.exit_code == 2 and "'torch.nn.NoSuchCell' is not on the list" in result.text  # refused before resolving
    result = cli("scaffold", "torch.load", "mindspore.nn.GRUCell")
    assert result.exit_code == 2 and "refused" in result.text


PAIRS = [
    ("torch.nn.Linear", "mindspore.nn.Dense"), ("torch.nn.LayerNorm", "mindspore.nn.LayerNorm"),
    ("torch.nn.Conv2d", "mindspore.nn.Conv2d"), ("torch.nn.Embedding", "mindspore.nn.Embedding"),
    ("torch.nn.LSTMCell", "mindspore.nn.LSTMCell"), ("torch.nn.CrossEntropyLoss", "mindspore.nn.CrossEntropyLoss"),
    ("torch.nn.MaxPool2d", "mindspore.nn.MaxPool2d"), ("torch.sum", "mindspore.ops.sum"),
    ("torch.nn.functional.softmax", "mindspore.ops.softmax"), ("torch.Tensor.std", "mindspore.Tensor.std"),
]


@pytest.mark.frameworks
def test_drafts_for_common_pairs_are_valid_specs(cli, tmp_path):
    for i, (t, m) in enumerate(PAIRS):
        draft = tmp_path / f"draft{i}.yaml"
        result = cli("scaffold", t, m, "-o", draft)
        assert result.exit_code == 0, (t, result.text)
    result = cli("validate", tmp_path)
    assert result.exit_code == 0, result.text
    assert f"{len(PAIRS)} specs valid" in result.text


@pytest.mark.frameworks
def test_a_builtin_with_an_opaque_signature_is_drafted_from_its_docstring(cli, tmp_path):
    draft = tmp_path / "atan2.yaml"
    assert cli("scaffold", "torch.atan2", "mindspore.ops.atan2", "-o", draft).exit_code == 0
    assert "name: other" in draft.read_text()  # torch.atan2 has no inspect.signature: read from "atan2(input, other, *, out=None)"
    assert cli("run", draft).exit_code == 0


@pytest.mark.frameworks
def test_conv_draft_pads_like_torch_and_runs(cli, tmp_path):
    """MindSpore's Conv2d defaults to pad_mode='same': a draft that left it would change the output shape."""
    draft = tmp_path / "Conv2d.yaml"
    assert cli("scaffold", "torch.nn.Conv2d", "mindspore.nn.Conv2d", "-o", draft).exit_code == 0
    init = yaml.safe_load(draft.read_text())["mindspore"]["init"]
    assert (init["pad_mode"], init["padding"], init["has_bias"]) == ("pad", "$padding", "$bias")
    assert cli("run", draft).exit_code == 0


@pytest.mark.frameworks
def test_required_axes_and_counts_are_call_arguments_not_tensors(cli):
    result = cli("scaffold", "torch.topk", "mindspore.ops.topk")
    assert result.exit_code == 0, result.text
    assert "call: {k: 2}" in result.text and "name: k" not in result.text
