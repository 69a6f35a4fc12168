"""eqcheck from Python (issue 33): compare() on objects the caller holds, assert_equivalent's message, real data
from files (`file:` inputs, `run --inputs`), and save_spec round-tripping through `eqcheck run`. Real frameworks."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import read_json
from eqcheck.errors import EqcheckError
from eqcheck.report import schema

pytestmark = pytest.mark.frameworks

torch = pytest.importorskip("torch")
mindspore = pytest.importorskip("mindspore")

import eqcheck  # noqa: E402
from eqcheck.testing import assert_equivalent  # noqa: E402

X = np.linspace(-3, 3, 48, dtype=np.float32).reshape(4, 12)


def tanh_gelu(x):
    """MindSpore's GELU with the tanh approximation: the planted op bug (torch's default is the exact erf form)."""
    return mindspore.ops.gelu(x, approximate="tanh")


def test_an_op_pair_gives_the_run_document():
    report = eqcheck.compare(torch.nn.functional.gelu, mindspore.ops.gelu, X, grad=True)
    assert report.passed, str(report)
    assert schema.errors(report.document) == []
    (case,) = report.cases
    assert case["id"] == "gelu[float32]"
    assert [o["name"] for o in case["outputs"]] == ["out", "grad:x"]
    assert case["sides"]["torch"]["op"] == "torch.nn.functional.gelu"
    assert case["sides"]["mindspore"]["op"] == "mindspore.ops.gelu"
    assert report.first_divergent is None
    assert "1 passed" in str(report) and "gelu[float32]" in str(report)


def test_an_op_pair_that_differs_fails_with_the_error_budget_verdict():
    report = eqcheck.compare(torch.nn.functional.gelu, tanh_gelu, {"x": torch.from_numpy(X)})
    assert not report.passed
    (row,) = report.cases[0]["outputs"]
    assert row["verdict"] == "fail" and row["budget_verdict"] == "fail"
    assert "mindspore" in row["attribution"]["statement"]


def test_assert_equivalent_fails_with_the_assert_close_message():
    with pytest.raises(AssertionError) as raised:
        assert_equivalent(torch.nn.functional.gelu, tanh_gelu, X)
    message = str(raised.value)
    report = eqcheck.compare(torch.nn.functional.gelu, tanh_gelu, X)
    row = report.cases[0]["outputs"][0]
    assert f"Mismatched elements: {row['mismatched']} / 48 ({100 * row['mismatched'] / 48:.1f}%)" in message
    assert f"Greatest absolute difference: {row['max_abs']} at index {tuple(row['max_abs_index'])} (up to 1e-05 allowed)" in message
    assert "Greatest relative difference: " in message and "(up to 1.3e-06 allowed)" in message
    assert "eqcheck verdict: fail (tolerance: fail; error budget: fail; mindspore is" in message
    assert assert_equivalent(torch.nn.functional.gelu, mindspore.ops.gelu, X).passed


def test_a_model_pair_shares_the_torch_modules_weights_and_leaves_the_objects_alone():
    from examples.models.cnn_mindspore import SmallCNN as CellCNN
    from examples.models.cnn_torch import SmallCNN as TorchCNN

    torch.manual_seed(3)
    module, cell = TorchCNN(), CellCNN()
    with torch.no_grad():
        module.conv1.weight.mul_(3.0)  # trained-looking values: the comparison must use these, not a draw
    before = {k: v.clone() for k, v in module.state_dict().items()}
    cell_before = {n: p.asnumpy().copy() for n, p in cell.parameters_and_names()}
    x = torch.randn(2, 3, 16, 16)
    report = eqcheck.compare(module, cell, x, grad=True)
    assert report.passed, str(report)
    with torch.no_grad():
        expected = module.eval()(x).numpy()
    np.testing.assert_array_equal(report.arrays[report.cases[0]["id"]]["torch"]["out"], expected)
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert all(np.array_equal(cell_before[n], p.asnumpy()) for n, p in cell.parameters_and_names())
    assert report.cases[0]["layers"]["forward"]["first_divergent"] is None


def test_a_model_pair_with_a_planted_bug_names_its_layer(cli, tmp_path):
    from examples.models.encoder_torch import EncoderBlock
    from tests.planted_ports import EncoderTransposedDense

    torch.manual_seed(0)
    report = eqcheck.compare(EncoderBlock(), EncoderTransposedDense(), torch.randn(2, 6, 16))
    assert not report.passed
    assert report.first_divergent == "attn.o"
    with pytest.raises(AssertionError, match=r"first layer to deviate \(forward\): attn\.o") as raised:
        assert_equivalent(EncoderBlock(), EncoderTransposedDense(), torch.randn(2, 6, 16))
    assert "Outputs 'out' (2x6x16, float32/float32) are not close!\nMismatched elements: " in str(raised.value)
    report.to_json(tmp_path / "r.json")
    assert read_json(tmp_path / "r.json")["cases"] == report.cases
    shown = cli("show", tmp_path / "r.json")  # the CLI reads what the API wrote
    assert shown.exit_code == 0 and "first layer to deviate (forward): attn.o" in shown.text
    report.to_html(tmp_path / "r.html")
    assert "attn.o" in (tmp_path / "r.html").read_text() and "attn.o" in report._repr_html_()


def test_an_unpaired_parameter_is_refused_not_randomly_initialized():
    class Scaled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(4))

        def forward(self, x):
            return x * self.scale

    with pytest.raises(EqcheckError, match="cannot map every parameter automatically"):
        eqcheck.compare(Scaled(), mindspore.nn.ReLU(), np.ones((2, 4), np.float32))


def test_inputs_must_be_arrays():
    with pytest.raises(EqcheckError, match="field 'inputs.x': list is not an array"):
        eqcheck.compare(torch.nn.functional.gelu, mindspore.ops.gelu, {"x": [1.0, 2.0]})


ABS_SPEC = """
name: ops.abs_batch
inputs:
  - name: x
    shape: [3, 5]
    {source}
torch: {{op: torch.abs}}
mindspore: {{op: mindspore.ops.abs}}
"""


def _abs_row(document):
    (case,) = document["cases"]
    return case["outputs"][0]


def test_a_spec_input_comes_from_a_torch_file(cli, tmp_path):
    batch = np.random.default_rng(5).normal(size=(3, 5)).astype(np.float32)
    torch.save({"batch": torch.from_numpy(batch)}, tmp_path / "batch.pt")
    spec = tmp_path / "abs.yaml"
    spec.write_text(ABS_SPEC.format(source="file: batch.pt\n    key: batch"))  # relative to the spec's folder
    result = cli("run", spec, "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.text
    row = _abs_row(read_json(tmp_path / "r.json"))
    assert row["max_abs_values"][0] == pytest.approx(float(np.abs(batch[tuple(row["max_abs_index"])])), rel=1e-6)

    spec.write_text(ABS_SPEC.format(source="file: batch.pt\n    key: other"))
    result = cli("run", spec)
    assert result.exit_code == 2
    assert f"{spec}: field 'inputs[0].file': input file {tmp_path / 'batch.pt'}: has no key 'other' (keys: batch)" in result.text
    spec.write_text(ABS_SPEC.format(source="file: batch.pt\n    key: batch").replace("[3, 5]", "[5, 3]"))
    result = cli("run", spec)
    assert result.exit_code == 2 and "has shape [3, 5], the input needs [5, 3]" in result.text and "Traceback" not in result.text


def test_run_inputs_replaces_a_spec_input_by_name(cli, tmp_path):
    batch = np.random.default_rng(6).normal(size=(3, 5)).astype(np.float32)
    np.savez(tmp_path / "batch.npz", x=batch)
    spec = tmp_path / "abs.yaml"
    spec.write_text(ABS_SPEC.format(source=""))
    result = cli("run", spec, "--inputs", tmp_path / "batch.npz", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.text
    document = read_json(tmp_path / "r.json")
    row = _abs_row(document)
    assert row["max_abs_values"][0] == pytest.approx(float(np.abs(batch[tuple(row["max_abs_index"])])), rel=1e-6)
    assert document["settings"]["inputs"] == str(tmp_path / "batch.npz") and schema.errors(document) == []

    np.savez(tmp_path / "ints.npz", x=np.ones((3, 5), np.int64))
    result = cli("run", spec, "--inputs", tmp_path / "ints.npz")
    assert result.exit_code == 2
    assert "field '--inputs': " in result.text and "holds int64 values, the input is float32" in result.text


def _rows(document):
    return {(c["id"], o["name"]): o["max_abs"] for c in document["cases"] for o in c["outputs"]}


def test_save_spec_round_trips_through_eqcheck_run(cli, tmp_path, monkeypatch):
    from examples.models.cnn_mindspore import SmallCNN as CellCNN
    from examples.models.cnn_torch import SmallCNN as TorchCNN
    from eqcheck.spec import allowlist

    monkeypatch.setenv(allowlist.MODULES_ENV, "")  # the CLI's --allow-module writes the environment
    torch.manual_seed(4)
    module = TorchCNN()
    with torch.no_grad():
        module.fc.weight.mul_(5.0)  # not the seeded draw: the saved weights file must carry these
    spec = tmp_path / "saved" / "cnn.yaml"
    report = eqcheck.compare(module, CellCNN(), torch.randn(2, 3, 16, 16), grad=True, save_spec=spec)
    assert report.passed
    assert {p.name for p in spec.parent.iterdir()} == {"cnn.yaml", "cnn.inputs.npz", "cnn.weights.npz"}
    assert "--allow-module examples.models.cnn_mindspore" in spec.read_text().splitlines()[0]
    result = cli("run", spec, "--allow-module", "examples.models", "--json", tmp_path / "r.json")
    assert result.exit_code == 0, result.text
    document = read_json(tmp_path / "r.json")
    assert _rows(document) == _rows(report.document)  # the same inputs, weights and gradients: the same numbers
    assert any(name == "grad:fc.weight" for _, name in _rows(document))

    with pytest.raises(EqcheckError, match="is not a public torch function a spec may name"):
        eqcheck.compare(lambda x: torch.nn.functional.gelu(x), mindspore.ops.gelu, X, save_spec=tmp_path / "no.yaml")


def test_isolated_runs_in_a_worker_and_still_names_the_layer():
    from examples.models.encoder_torch import EncoderBlock
    from tests.planted_ports import EncoderTransposedDense

    torch.manual_seed(0)
    before = os.environ.get("EQCHECK_ALLOWED_MODULES")  # the operator's own setting, if any
    report = eqcheck.compare(EncoderBlock(), EncoderTransposedDense(), torch.randn(2, 6, 16), isolated=True)
    assert not report.passed and report.first_divergent == "attn.o"
    assert report.cases[0]["spec"].endswith("compare.yaml")  # run from the spec file, in a worker
    assert os.environ.get("EQCHECK_ALLOWED_MODULES") == before  # the opt-in was for the worker only


def test_an_unsupported_comparison_is_a_skip_under_pytest():
    with pytest.raises(pytest.skip.Exception, match="unsupported: mindspore has no GeluExt kernel on cpu"):
        assert_equivalent(torch.nn.functional.gelu, mindspore.mint.nn.functional.gelu, X)


def test_output_picks_the_part_of_a_models_return_value():
    class Head(torch.nn.Module):  # returns a dict, as a Hugging Face model returns a ModelOutput
        def __init__(self):
            super().__init__()
            self.dense = torch.nn.Linear(12, 3)

        def forward(self, x):
            return {"logits": self.dense(x), "hidden": x}

    report = eqcheck.compare(Head(), mindspore.nn.Dense(12, 3), X, output={"torch": "logits"})
    assert report.passed, str(report)
    assert [o["shape"] for o in report.cases[0]["outputs"]] == [[4, 3]]
    with pytest.raises(EqcheckError, match="cannot map every parameter|output"):
        eqcheck.compare(Head(), mindspore.nn.Dense(12, 4), X, output={"torch": "logits"})


def test_weights_from_the_cell_and_inputs_by_keyword_with_a_side_dtype():
    from examples.models.lstm_mindspore import TextClassifier as CellClassifier
    from examples.models.lstm_torch import TextClassifier as TorchClassifier

    tokens = np.random.default_rng(1).integers(0, 50, (2, 7))  # int64 ids: torch's embedding takes them, MindSpore int32
    cell = CellClassifier()
    report = eqcheck.compare(TorchClassifier(), cell, {"tokens": tokens}, keywords=True, weights_from="mindspore",
                             input_dtypes={"mindspore": {"tokens": "int32"}})
    assert report.passed, str(report)
    sides = report.cases[0]["sides"]
    assert sides["torch"]["inputs"][0]["dtype"] == "int64" and sides["mindspore"]["inputs"][0]["dtype"] == "int32"
    expected = cell.set_train(False)(tokens=mindspore.Tensor(tokens.astype(np.int32))).asnumpy()
    np.testing.assert_array_equal(report.arrays[report.cases[0]["id"]]["mindspore"]["out"], expected)


@pytest.mark.parametrize("path", ["/etc/secret.npz", "../outside.npz", "link/batch.npz"])
def test_a_spec_reads_data_only_beside_itself(cli, tmp_path, path):
    folder = tmp_path / "specs"
    folder.mkdir()
    np.savez(tmp_path / "outside.npz", x=np.ones((3, 5), np.float32))
    (folder / "link").symlink_to(tmp_path)  # a symlink out of the folder
    np.savez(tmp_path / "batch.npz", x=np.ones((3, 5), np.float32))
    spec = folder / "abs.yaml"
    spec.write_text(ABS_SPEC.format(source=f"file: {path}"))
    result = cli("validate", spec)
    assert result.exit_code == 2
    assert f"field 'inputs[0].file': '{path}' is outside the spec's folder" in result.text


def test_weights_takes_the_specs_mapping_form_with_a_layout_transform():
    class TorchLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(12, 4, bias=False)

        def forward(self, x):
            return self.lin(x)

    class CellMatmul(mindspore.nn.Cell):  # a port keeping the weight as (in, out): x @ w
        def __init__(self):
            super().__init__()
            self.w = mindspore.Parameter(mindspore.Tensor(np.zeros((12, 4), np.float32)), name="w")

        def construct(self, x):
            return mindspore.ops.matmul(x, self.w)

    with pytest.raises(EqcheckError, match="cannot map every parameter automatically"):
        eqcheck.compare(TorchLinear(), CellMatmul(), X)
    transposed = {"lin.weight": {"torch": "lin.weight", "mindspore": {"name": "w", "transform": [{"transpose": [1, 0]}]}}}
    report = eqcheck.compare(TorchLinear(), CellMatmul(), X, weights=transposed, grad=True)
    assert report.passed, str(report)
    assert {o["name"] for o in report.cases[0]["outputs"]} == {"out", "grad:x", "grad:lin.weight"}


def test_a_model_failed_by_its_layers_alone_still_shows_how_far_apart_the_outputs_are():
    from mindspore import nn

    from examples.models.cnn_mindspore import SmallCNN as CellCNN
    from examples.models.cnn_torch import SmallCNN as TorchCNN

    class LeakyPort(CellCNN):  # the planted bug: act1 leaks negatives (torch's is a ReLU)
        def __init__(self):
            super().__init__()
            self.act1 = nn.LeakyReLU(0.2)

    torch.manual_seed(0)
    with pytest.raises(AssertionError) as raised:
        assert_equivalent(TorchCNN(), LeakyPort(), torch.randn(2, 3, 16, 16))
    message = str(raised.value)
    # the logits row passes its budget as what reached the last layer; the case fails on the layer that deviates
    assert "eqcheck verdict: pass (local to fc: rounding, plus what reached it) (tolerance: fail; error budget: pass" in message
    assert "Outputs 'out' (2x10, float32/float32) are not close!\nMismatched elements: " in message
    assert "first layer to deviate (forward): act1 (ReLU / LeakyReLU)" in message
