"""A dtype or kernel one side lacks is `unsupported`, not a crash, and its failure does not leak into the next case."""

from __future__ import annotations

import pytest

from conftest import read_json

pytestmark = pytest.mark.frameworks


def test_dtype_mindspore_refuses_is_unsupported_with_its_message(cli, tmp_path):
    path = tmp_path / "r.json"
    result = cli("run", "configs/nn/GRUCell.yaml", "-k", "batch=1", "--dtype", "float64", "--json", path)
    assert result.exit_code == 0, result.text  # unsupported is reported, not a failure
    for case in read_json(path)["cases"]:
        assert case["status"] == "unsupported"
        assert "mindspore failed to call" in case["message"] and "float64" in case["message"]
    assert "2 unsupported" in result.text


MINT_PAIRS = """
name: mint.{name}
inputs:
  - {{name: x, shape: [4, 8]}}
torch:
  op: torch.nn.functional.{name}
  call: {call}
mindspore:
  op: mindspore.mint.nn.functional.{name}
  call: {call}
"""


@pytest.mark.parametrize("name, call, kernel", [
    ("gelu", "{}", "GeluExt"),  # "The kernel GeluExt unregistered."
    ("layer_norm", "{normalized_shape: [8]}", "LayerNormExt"),  # "Create kernelmod for op LayerNormExt failed"
])
def test_a_missing_mindspore_kernel_is_unsupported_naming_the_kernel(cli, write_spec, tmp_path, name, call, kernel):
    spec = write_spec(MINT_PAIRS.format(name=name, call=call))
    path = tmp_path / "r.json"
    result = cli("run", spec, "--json", path)
    assert result.exit_code == 0, result.text
    (case,) = read_json(path)["cases"]
    assert case["status"] == "unsupported", case["message"]
    assert case["message"].startswith(f"mindspore has no {kernel} kernel on cpu")


def test_a_failed_kernel_does_not_poison_the_next_case(cli, tmp_path):
    # MindSpore's bfloat16 SmoothL1Loss/Softmax kernels are missing on CPU; with asynchronous launches their
    # error resurfaced in the float64 case that ran next in 2 of 3 CLI runs. The backend now launches
    # synchronously and drains after a failure. The leak is a race that rarely shows under pytest's timing,
    # so this guards the path rather than reliably reproducing the leak. Nine failures, each followed by a
    # float64 case, twice.
    for attempt in range(2):
        path = tmp_path / f"r{attempt}.json"
        cli("run", "configs/nn/SmoothL1Loss.yaml", "configs/nn/Softmax.yaml", "--dtype", "bfloat16,float64", "--json", path)
        cases = read_json(path)["cases"]
        assert len(cases) == 18
        for case in cases:
            wanted = "unsupported" if case["id"].endswith("bfloat16]") else "pass"
            assert case["status"] == wanted, (case["id"], case["message"])


def test_structure_mismatch_is_a_case_error_showing_both_sides(cli, write_spec, tmp_path):
    spec = write_spec("""
name: mismatch.structure
inputs: [{name: input, shape: [4, 6]}]
torch: {op: torch.std_mean, call: {dim: 1}}
mindspore: {op: mindspore.ops.std, call: {axis: 1}}
""")
    path = tmp_path / "r.json"
    result = cli("run", spec, "--json", path)
    assert result.exit_code == 1, result.text
    case = read_json(path)["cases"][0]
    assert case["status"] == "error"
    assert "torch returned out.0 [4], out.1 [4]; mindspore returned out [4]" in case["message"]


def test_a_failed_mindspore_gradient_does_not_break_the_next_one():
    # A failure inside value_and_grad left PyNative's grad executor mid-trace; the next gradient (any op)
    # then failed with "Only support integers, slices ... as index". recover() resets it.
    import mindspore as ms
    import numpy as np

    from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend

    backend = MindSporePyNativeBackend("cpu")
    backend.activate()
    conv = backend.build(ms.nn.Conv2d, {"in_channels": 3, "out_channels": 8, "kernel_size": 3, "has_bias": True},
                         "float32", train=False, seed=0)
    image = {"x": backend.tensor(np.ones((2, 3, 16, 16), np.float32), "float32")}
    wrong_cotangent = [np.ones((2, 8, 14, 14), np.float32)]  # conv's output is (2, 8, 16, 16)
    with pytest.raises(ValueError, match="broadcast"):
        backend.grad(conv, lambda t: ([t["x"]], {}), image, ["x"], wrong_cotangent)
    backend.recover()

    lstm = backend.build(ms.nn.LSTM, {"input_size": 10, "hidden_size": 16}, "float32", train=False, seed=0)
    zeros = np.zeros((1, 3, 16), np.float32)
    inputs = {"x": backend.tensor(np.ones((5, 3, 10), np.float32), "float32"),
              "h0": backend.tensor(zeros, "float32"), "c0": backend.tensor(zeros, "float32")}
    cotangents = [np.ones((5, 3, 16), np.float32), np.ones((1, 3, 16), np.float32), np.ones((1, 3, 16), np.float32)]
    input_grads, param_grads = backend.grad(lstm, lambda t: ([t["x"], (t["h0"], t["c0"])], {}), inputs, ["x", "h0", "c0"], cotangents)
    assert input_grads["x"].shape == (5, 3, 10) and np.abs(input_grads["h0"]).sum() > 0
    assert "weight_ih_l0" in param_grads


@pytest.mark.parametrize("message,status", [
    ("RuntimeError: The kernel GeluExt unregistered.", "unsupported"),
    ("RuntimeError: Create kernelmod for op LayerNormExt failed", "unsupported"),
    ("RuntimeError: - Kernel select failed:", "unsupported"),
    ("ValueError: EluIn Elu, alpha must be 1.0f.", "error"),  # a refused argument is not a missing kernel
])
def test_missing_mindspore_cpu_kernels_are_unsupported_not_errors(message, status):
    from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend

    assert MindSporePyNativeBackend().classify_failure(RuntimeError(message), "float32") == status
