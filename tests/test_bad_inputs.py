"""Every bad input ends in exit 2 with one paragraph naming the file and field, and never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import CONFIGS

GRU = (CONFIGS / "nn" / "GRUCell.yaml").read_text()


def edited(**replacements: str) -> str:
    text = GRU
    for old, new in replacements.values():
        assert old in text, old
        text = text.replace(old, new)
    return text


LAYERNORM_WITHOUT_MAP = """
name: nn.LayerNorm.unmapped
inputs: [{name: x, shape: [2, 8]}]
torch: {op: torch.nn.LayerNorm, init: {normalized_shape: [8]}}
mindspore: {op: mindspore.nn.LayerNorm, init: {normalized_shape: [8]}}
"""

STD = """
name: ops.std.one
inputs: [{name: x, shape: [3, 5]}]
torch: {op: torch.std, call: {dim: -1}}
mindspore: {op: mindspore.ops.std, call: {axis: -1}}
"""
WEIGHT_INIT = "weights:\n  weight_ih: {init: {%s: {%s}}}\n# weight_ih"

# (id, spec text, extra CLI args, phrases the message must contain)
SPEC_CASES = [
    ("unknown-key", edited(a=("name: nn.GRUCell", "name: nn.GRUCell\nnmae: typo")), [], ["unknown key 'nmae'", "did you mean 'name'"]),
    ("missing-name", edited(a=("name: nn.GRUCell\n", "")), [], ["field 'name'", "required"]),
    ("missing-framework-section", edited(a=("mindspore:\n  op", "mindspore_x:\n  op")), [], ["unknown key 'mindspore_x'"]),
    ("op-outside-its-framework", edited(a=("op: torch.nn.GRUCell", "op: os.system")), [], ["field 'torch.op'", "outside 'torch.'"]),
    ("not-a-dotted-path", edited(a=("op: torch.nn.GRUCell", "op: GRUCell")), [], ["field 'torch.op'", "not a dotted path"]),
    ("shape-syntax", edited(a=("[batch, input_size]", "[batch, input_size +]")), [], ["field 'inputs[0].shape[1]'", "not a valid expression"]),
    ("shape-undefined-name", edited(a=("[batch, input_size]", "[batch, input_sz]")), [], ["inputs[0].shape[1]", "'input_sz', which is not defined"]),
    ("shape-negative", edited(a=("[batch, input_size]", "[batch, input_size - 100]")), [], ["inputs[0].shape[1]", "non-negative integer"]),
    ("shape-too-large", edited(a=("[batch, input_size]", "[batch, 1000000, 1000000]")), [], ["inputs[0].shape", "above the limit", "nothing was allocated"]),
    ("expression-with-call", edited(a=("$input_size, hidden", "$__import__('os'), hidden")), [], ["torch.init.input_size", "only numbers, names"]),
    ("sweep-not-a-list", edited(a=("batch: [1, 64]", "batch: 1")), [], ["field 'sweep.batch'", "expected a list"]),
    ("unknown-spec-dtype", edited(a=("params:", "dtypes: [float33]\nparams:")), [], ["dtypes[0]", "unknown dtype 'float33'", "did you mean 'float32'"]),
    ("tolerance-half-given", edited(a=("params:", "tolerance: {float32: {rtol: 1.0e-5}}\nparams:")), [], ["tolerance.float32.atol", "required"]),
    ("expected-difference-unknown-when", edited(a=("params:", "expected_difference: {reason: r, when: {batchh: 1}}\nparams:")), [],
     ["expected_difference.when.batchh", "did you mean 'batch'"]),
    ("weight-init-expression-not-a-number", edited(a=("# weight_ih", WEIGHT_INIT % ("uniform", "low: $dtype, high: 1.0"))), [],
     ["weights.weight_ih.init.uniform.low", "must be a finite number, got 'float32'"]),
    ("weight-init-negative-std", edited(a=("# weight_ih", WEIGHT_INIT % ("normal", "mean: 0.0, std: $-hidden_size"))), [],
     ["weights.weight_ih.init.normal", "normal needs std >= 0"]),
    ("not-yaml", "name: [unclosed\n", [], ["not valid YAML at line"]),
    ("duplicate-key", edited(a=("name: nn.GRUCell\n", "name: nn.GRUCell\nname: nn.GRUCell2\n")), [],
     ["not valid YAML at line 4", "the key 'name' appears twice in one mapping (first at line 3)"]),
    ("empty-file", "", [], ["the file is empty"]),
    ("top-level-list", "- a\n- b\n", [], ["must be a YAML mapping"]),
]

ONE = ["-k", "bias=True and batch=1"]
RUN_CASES = [
    ("unknown-dotted-path", edited(a=("op: torch.nn.GRUCell", "op: torch.nn.GRUCel")), ONE, ["field 'torch.op'", "'torch.nn.GRUCel' is not on the list", "did you mean 'torch.nn.GRUCell'?"]),
    ("unknown-init-argument", edited(a=("bias: $bias}", "has_bias: $bias}")), ONE,
     ["field 'torch.init.has_bias'", "torch.nn.GRUCell takes no keyword argument 'has_bias'", "did you mean 'bias'"]),
    ("unknown-call-argument", STD.replace("{axis: -1}", "{axes: -1}"), [],
     ["field 'mindspore.call.axes'", "mindspore.ops.std takes no keyword argument 'axes'", "did you mean 'axis'"]),
    ("mapped-name-missing", edited(a=("# weight_ih", "weights: {weight_ih: {mindspore: w_ih}}\n#")), [],
     ["weights.weight_ih.mindspore", "no parameter 'w_ih'", "did you mean 'weight_ih'"]),
    ("unmapped-parameter", LAYERNORM_WITHOUT_MAP, [], ["field 'weights'", "'weight'", "no weight entry maps", "random init"]),
    ("transform-shape-mismatch", edited(a=("# weight_ih", "weights: {weight_ih: {mindspore: {transform: [{transpose: [1, 0]}]}}}\n#")), [],
     ["weights.weight_ih.mindspore", "has shape [96, 16]"]),
]


def assert_clean_exit_2(result, *phrases: str):
    assert result.exit_code == 2, result.text
    assert "Traceback" not in result.text
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    for phrase in phrases:
        assert phrase in result.text, f"{phrase!r} not in: {result.text}"


def assert_one_paragraph(result, file) -> None:
    error_lines = [line for line in result.text.strip().splitlines() if line.strip()]
    assert len(error_lines) == 1 and error_lines[0].startswith("Error: "), result.text
    assert str(file) in error_lines[0]


@pytest.mark.parametrize("text,args,phrases", [c[1:] for c in SPEC_CASES], ids=[c[0] for c in SPEC_CASES])
@pytest.mark.parametrize("command", ["validate", "list"])
def test_bad_spec_is_refused_before_any_framework_loads(cli, write_spec, command, text, args, phrases):
    spec = write_spec(text)
    result = cli(command, spec, *args)
    assert_clean_exit_2(result, *phrases)
    assert_one_paragraph(result, spec)


@pytest.mark.frameworks
@pytest.mark.parametrize("text,args,phrases", [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES])
def test_spec_error_found_at_run_time_exits_2(cli, write_spec, text, args, phrases):
    spec = write_spec(text)
    result = cli("run", spec, *args)
    assert_clean_exit_2(result, *phrases)
    assert_one_paragraph(result, spec)


def test_missing_file(cli, tmp_path):
    result = cli("validate", tmp_path / "nope.yaml")
    assert_clean_exit_2(result, "nope.yaml", "no such file")


def test_file_that_is_not_text(cli, tmp_path):
    spec = tmp_path / "binary.yaml"
    spec.write_bytes(b"\xff\xfe\x00garbage\x80")
    assert_clean_exit_2(cli("validate", spec), "binary.yaml", "cannot read the file")


def test_folder_without_specs(cli, tmp_path):
    assert_clean_exit_2(cli("validate", tmp_path), "no spec files")


def test_duplicate_spec_names(cli, write_spec):
    write_spec(GRU, "a.yaml")
    second = write_spec(GRU, "b.yaml")
    assert_clean_exit_2(cli("validate", second.parent), "spec name 'nn.GRUCell' is also used by")


def test_unknown_dtype_flag(cli):
    assert_clean_exit_2(cli("list", "configs/nn/GRUCell.yaml", "--dtype", "float33"), "unknown dtype 'float33'")


def test_selection_matching_nothing(cli):
    assert_clean_exit_2(cli("list", "configs/nn/GRUCell.yaml", "-k", "lstm"), "no case id matches -k 'lstm'")


def test_malformed_selection(cli):
    assert_clean_exit_2(cli("list", "configs/nn/GRUCell.yaml", "-k", "gru and ("), "'-k'")


def test_unknown_target(cli):
    assert_clean_exit_2(cli("run", "configs/nn/GRUCell.yaml", "--targets", "torch,paddle"), "unknown target 'paddle'")


def test_unknown_device(cli):
    assert_clean_exit_2(cli("run", "configs/nn/GRUCell.yaml", "--device", "tpu"), "unknown device 'tpu'")


def test_show_refuses_a_file_that_is_not_a_report(cli, tmp_path):
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": 1}')
    assert_clean_exit_2(cli("show", bogus), "bogus.json", "not an eqcheck report")


def test_show_refuses_a_newer_schema(cli, tmp_path):
    future = tmp_path / "future.json"
    future.write_text('{"schema_version": 99, "summary": {}, "cases": []}')
    assert_clean_exit_2(cli("show", future), "schema version 99 is not readable")


@pytest.mark.frameworks
class TestWeightsFile:
    """--weights FILE.npz must match the case's weight map exactly."""

    ARGS = ("run", "configs/nn/GRUCell.yaml", "-k", "bias=True and batch=1")
    SHAPES = {"weight_ih": (96, 16), "weight_hh": (96, 32), "bias_ih": (96,), "bias_hh": (96,)}

    def save(self, tmp_path, **overrides):
        arrays = {name: np.full(shape, 0.01, np.float32) for name, shape in self.SHAPES.items()}
        arrays.update(overrides)
        path = tmp_path / "w.npz"
        np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
        return path

    def test_matching_file_is_used(self, cli, tmp_path):
        result = cli(*self.ARGS, "--weights", self.save(tmp_path), "--json", tmp_path / "r.json")
        assert result.exit_code == 0, result.text
        assert "w.npz" in (tmp_path / "r.json").read_text()

    def test_wrong_shape(self, cli, tmp_path):
        path = self.save(tmp_path, weight_ih=np.zeros((16, 96), np.float32))
        assert_clean_exit_2(cli(*self.ARGS, "--weights", path), "w.npz", "--weights", "'weight_ih' has shape [16, 96]", "needs [96, 16]")

    def test_missing_array(self, cli, tmp_path):
        assert_clean_exit_2(cli(*self.ARGS, "--weights", self.save(tmp_path, bias_hh=None)), "missing bias_hh")

    def test_extra_array(self, cli, tmp_path):
        path = self.save(tmp_path, extra=np.zeros(3, np.float32))
        assert_clean_exit_2(cli(*self.ARGS, "--weights", path), "unexpected extra")

    def test_not_an_npz(self, cli, tmp_path):
        path = tmp_path / "w.npz"
        path.write_text("not a zip")
        assert_clean_exit_2(cli(*self.ARGS, "--weights", path), "not a readable .npz")


@pytest.mark.frameworks
def test_gpu_requested_on_a_machine_without_one(cli):
    result = cli("run", "configs/nn/GRUCell.yaml", "--device", "gpu")
    assert_clean_exit_2(result, "--device")
    assert "torch" in result.text and "GPU" in result.text


@pytest.mark.frameworks
def test_spec_error_mid_run_keeps_the_cases_already_computed(cli, tmp_path):
    # Spec files run in sorted order: the GRUCell cases finish before the broken spec binds its weights.
    (tmp_path / "a_gru.yaml").write_text(GRU)
    (tmp_path / "b_broken.yaml").write_text(LAYERNORM_WITHOUT_MAP)
    report = tmp_path / "partial.json"
    result = cli("run", tmp_path, "--json", report)
    assert_clean_exit_2(result, "b_broken.yaml", "no weight entry maps")
    from conftest import read_json

    document = read_json(report)
    assert document["complete"] is False
    assert [c["status"] for c in document["cases"]] == ["pass"] * 4


@pytest.mark.frameworks
def test_an_expression_in_a_weight_init_runs(cli, copy_config, tmp_path):
    """Found by issue 10: `validate` accepted it and `run` crashed with a raw ValueError."""
    spec = copy_config("nn/Linear.yaml", {"mindspore:\n  op: mindspore.nn.Dense": "weights: {weight: {init: {uniform: "
                       "{low: \"$-in_features**-0.5\", high: \"$in_features**-0.5\"}}}}\nmindspore:\n  op: mindspore.nn.Dense"})
    report = tmp_path / "r.json"
    result = cli("run", spec, "--json", report)
    assert result.exit_code == 0, result.text
    from conftest import read_json

    assert {c["status"] for c in read_json(report)["cases"]} == {"pass"}
