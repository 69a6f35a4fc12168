"""Specs from untrusted pull requests: only allowlisted callables, no evaluation, bounded shapes. Exit 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD = """
name: ops.probe
inputs:
  - name: x
    shape: [4, 8]
    keyword: {keyword}
torch:
  op: {torch_op}
  {torch_call}
mindspore:
  op: mindspore.ops.tanh
"""


def _spec(write_spec, torch_op="torch.tanh", keyword="false", torch_call=""):
    return write_spec(GOOD.format(torch_op=torch_op, keyword=keyword, torch_call=torch_call))


def _refused(result, *needles):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, result.output


@pytest.mark.parametrize("op, reason", [
    ("torch.load", "'torch.load' is refused: it is under 'torch.load'"),
    ("torch.hub.load", "under 'torch.hub'"),
    ("torch.serialization.load", "under 'torch.serialization'"),
    ("torch.utils.cpp_extension.load_inline", "under 'torch.utils.cpp_extension'"),
    ("torch.nn.Module.__subclasses__", "private attribute '__subclasses__'"),
    ("torch.__builtins__.get", "private attribute '__builtins__'"),
    ("torch.os.system", "'system' names a file, process, import"),
    ("torch.ctypes.CDLL", "'ctypes' names a file, process, import"),
])
def test_validate_refuses_dangerous_callables(cli, write_spec, op, reason):
    _refused(cli("validate", _spec(write_spec, op)), reason, "field 'torch.op'")


def test_mindspore_custom_op_is_refused(cli, write_spec):
    spec = write_spec(GOOD.format(torch_op="torch.tanh", keyword="false", torch_call="").replace("mindspore.ops.tanh", "mindspore.ops.Custom"))
    _refused(cli("validate", spec), "'mindspore.ops.Custom' is refused: it is under 'mindspore.ops.Custom'")


def test_operator_narrows_the_allowlist_and_a_spec_cannot_widen_it(cli, write_spec, monkeypatch):
    spec = _spec(write_spec)
    assert cli("validate", spec).exit_code == 0
    monkeypatch.setenv("EQCHECK_ALLOWED_PREFIXES", "torch.nn., mindspore.nn.")
    _refused(cli("validate", spec), "outside the allowed module prefixes (torch.nn., mindspore.nn.)", "EQCHECK_ALLOWED_PREFIXES")
    widened = write_spec(GOOD.format(torch_op="torch.tanh", keyword="false", torch_call="") + "allowed_prefixes: [torch.]\n", "w.yaml")
    _refused(cli("validate", widened), "allowed_prefixes")


def test_framework_attribute_leading_out_of_the_package_is_refused_before_any_case(cli, write_spec):
    """`torch.nn.functional.Callable` sits in an allowed namespace but is `collections.abc`'s: refused in preflight."""
    spec = _spec(write_spec, "torch.nn.functional.Callable")
    assert cli("validate", spec).exit_code == 0  # the written path looks harmless; resolution shows where it lands
    _refused(cli("run", "-q", spec), "defined in module 'collections.abc', outside the framework packages")


@pytest.mark.parametrize("op, reason", [
    ("torch.utils.collect_env.run", "is not in a numerical namespace a spec may name"),  # hands a string to a shell
    ("torch.fx.graph_module._exec_with_source", "names the private attribute '_exec_with_source'"),  # exec of a string
])
@pytest.mark.parametrize("command", ["validate", "run"])
def test_framework_callables_that_run_strings_are_refused(cli, write_spec, tmp_path, op, reason, command):
    """Both resolve inside torch; literal positional arguments could hand them a string. Refused before any import."""
    marker = tmp_path / "pwned"
    spec = write_spec(f"""
        name: ops.attack
        inputs:
          - {{name: x, shape: [2]}}
        torch:
          op: {op}
          args: ["touch {marker}", x]
        mindspore:
          op: mindspore.ops.tanh
    """)
    _refused(cli(command, spec), reason, "field 'torch.op'")
    assert not marker.exists()


def test_the_operator_widens_the_positive_list(cli, write_spec, monkeypatch):
    monkeypatch.setenv("EQCHECK_ALLOWED_MODULES", "")
    monkeypatch.setenv("EQCHECK_ALLOWED_OPS", "")
    spec = _spec(write_spec, "torch.nn.init.ones_")
    _refused(cli("validate", spec), "'torch.nn.init.ones_' is not in a numerical namespace", "--allow-module torch.nn.init",
             "--allow-op torch.nn.init.ones_")
    assert cli("validate", spec, "--allow-op", "torch.nn.init.ones_").exit_code == 0, "the operator's --allow-op widens it"
    monkeypatch.setenv("EQCHECK_ALLOWED_OPS", "")
    assert cli("validate", spec, "--allow-module", "torch.nn.init").exit_code == 0, "the operator's --allow-module widens it"


# The attacks (#32): each passed `validate` and ran, inside namespaces the old allowlist admitted whole.
ATTACKS = (
    "mindspore.Tensor.offload",  # truncates a file at a path argument and writes the input's bytes into it
    "torch.PyTorchFileWriter",  # creates or truncates any file
    "torch.PyTorchFileReader",
    "mindspore.ops.tensordump",  # writes chosen contents as .npy into any directory
    "mindspore.ops.TensorDump",
    "torch.import_ir_module",
    "torch.CompilationUnit",
    "torch.set_default_tensor_type",  # imports any module by name
    "mindspore.ops.broadcast_object_list",  # pickle over the communication layer
    "mindspore.ops.recv_object_list",
    "torch.from_file", "torch.UntypedStorage", "torch.Tensor.share_memory_", "torch.Tensor.register_hook",
    "mindspore.ops.PyExecute", "mindspore.ops.PyFunc", "mindspore.ops.Print", "mindspore.ops.ScalarSummary",
    "numpy.lookfor", "numpy.fromfile", "numpy.genfromtxt",
)


@pytest.mark.parametrize("op", ATTACKS)
def test_file_import_and_communication_entry_points_are_refused_even_when_widened(cli, write_spec, monkeypatch, op):
    from eqcheck.spec import allowlist

    assert op not in allowlist.callables()
    framework = op.split(".")[0]
    text = GOOD.format(torch_op="torch.tanh", keyword="false", torch_call="")
    spec = write_spec(text.replace("mindspore.ops.tanh", op) if framework == "mindspore" else
                      text.replace("op: torch.tanh", f"op: {op}") if framework == "torch" else
                      text.replace("op: torch.tanh", "op: torch.tanh\nnumpy:\n  op: " + op))
    monkeypatch.setenv("EQCHECK_ALLOWED_OPS", "")  # before the CLI writes them: restored after the test
    monkeypatch.setenv("EQCHECK_ALLOWED_MODULES", "")
    result = cli("validate", spec, "--allow-op", op, "--allow-module", op.rsplit(".", 1)[0])
    if framework == "numpy":  # no numpy section in a spec: the list itself is what refuses
        return
    _refused(result, "is refused", "nothing widens this")


def test_the_reviewed_list_holds_every_shipped_spec_op():
    """configs/ and examples/: each side's `op` is on callables.txt (collected by parsing the YAML, no framework)."""
    import yaml

    from eqcheck.spec import allowlist

    roots = [Path(__file__).resolve().parent.parent / d for d in ("configs", "examples")]
    ops = set()
    for file in (f for root in roots for f in root.rglob("*.yaml")):
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for side in ("torch", "mindspore"):
            if isinstance(data, dict) and isinstance(data.get(side), dict) and "op" in data[side]:
                ops.add(data[side]["op"])
    assert len(ops) > 1500, len(ops)
    assert sorted(ops - allowlist.callables()) == []
    assert not [op for op in allowlist.callables() if allowlist.risky(op) or allowlist.denied(op)]


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_spec_cannot_write_files_through_framework_callables(cli, write_spec, tmp_path, command):
    """The issue's file writers, both in one spec, with paths to files that exist: refused, the files untouched."""
    victim, other = tmp_path / "victim.txt", tmp_path / "other.txt"
    victim.write_text("keep")
    other.write_text("keep")
    spec = write_spec(f"""
        name: ops.attack
        inputs:
          - {{name: x, shape: [2]}}
        torch:
          op: torch.PyTorchFileWriter
          init: {{file_name: "{other}"}}
        mindspore:
          op: mindspore.Tensor.offload
          args: [x, {{value: "{victim}"}}]
    """)
    _refused(cli(command, spec), "'torch.PyTorchFileWriter' is refused: 'PyTorchFileWriter' names a file")
    assert victim.read_text() == "keep" and other.read_text() == "keep"


@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_trillion_element_input_is_refused_before_allocation(cli, write_spec, command):
    spec = write_spec("""
        name: ops.huge
        inputs:
          - name: x
            shape: [1000000, 1000000]
        torch: {op: torch.tanh}
        mindspore: {op: mindspore.ops.tanh}
    """)
    result = cli(command, spec)
    _refused(result, "1,000,000,000,000 elements", "above the limit of 268,435,456", "nothing was allocated", "inputs[0].shape")


@pytest.mark.parametrize("expr, reason", [
    ("$(((((2**64)**64)**64)**64)**64)", "above 2**256"),
    ("$1e300**2", "OverflowError"),
    ("$-'a'", "TypeError"),
    ("$(-8)**0.5", "complex"),
    ("$__import__('os').system('true')", "contains call"),
    ("$().__class__", "contains attribute"),
])
def test_expressions_are_parsed_never_evaluated(cli, write_spec, expr, reason):
    spec = write_spec(f"""
        name: ops.expr
        params: {{k: "{expr}"}}
        inputs:
          - name: x
            shape: [2]
        torch: {{op: torch.tanh}}
        mindspore: {{op: mindspore.ops.tanh}}
    """)
    _refused(cli("validate", spec), reason)


def test_yaml_tags_are_not_constructed(cli, write_spec):
    spec = write_spec("""
        name: !!python/object/apply:os.system ["true"]
        inputs: [{name: x, shape: [2]}]
        torch: {op: torch.tanh}
        mindspore: {op: mindspore.ops.tanh}
    """)
    _refused(cli("validate", spec), "not valid YAML")


def test_the_element_bound_is_per_case_over_all_inputs(cli, write_spec):
    """100 inputs of 16384x16384 each passed the per-input bound (#32)."""
    inputs = "".join(f"  - {{name: x{i}, shape: [16384, 16384]}}\n" for i in range(100))
    spec = write_spec(f"name: ops.many\ninputs:\n{inputs}torch: {{op: torch.tanh}}\nmindspore: {{op: mindspore.ops.tanh}}\n")
    _refused(cli("validate", spec), "536,870,912 elements together", "per case", "inputs[1].shape")


def test_integer_arguments_are_bounded_like_inputs(cli, write_spec):
    """repeat(24000, 24000) of a 1-element input validated and peaked at 9 GB (#32). The largest shipped estimate is
    8,192 (nn.Transformer)."""
    spec = write_spec("""
        name: ops.blowup
        inputs: [{name: x, shape: [1]}]
        torch:
          op: torch.Tensor.repeat
          args: [x, {value: 24000}, {value: 24000}]
        mindspore:
          op: mindspore.Tensor.tile
          args: [x, {value: [24000, 24000]}]
    """)
    _refused(cli("validate", spec), "integer arguments of torch.Tensor.repeat multiply to 576,000,000", "field 'torch'")
