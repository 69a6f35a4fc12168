"""Float64 stand-ins (eqcheck/backends/standins): MindSpore's RNN cells refuse float64, so their rounding is measured
on a composition of MindSpore's own primitives. Saturated-gate rows then pass within float32 noise with a precision
note, while a planted bug of the same size in the kernel (a weight off by ~840 ulps, a gate in float16) still fails."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json
from eqcheck.backends import standins
from eqcheck.verdict.attribution import attribute

KINK = "kink and tanh and bias=True"  # nn.RNNCell[bias=True,nonlinearity=tanh,float32,edge=kink]: saturated gates


def _run(cli, spec, tmp_path):
    out = tmp_path / "r.json"
    result = cli("run", spec, "--edges", "--grad", "-k", KINK, "-q", "--json", out)
    assert result.exit_code in (0, 1), result.text
    (case,) = read_json(out)["cases"]
    return case, {o["name"]: o for o in case["outputs"]}


def test_saturated_rnn_cell_rows_are_mindspore_rounding_and_pass_with_a_note(cli, copy_config, tmp_path):
    case, rows = _run(cli, copy_config("recurrent/RNNCell.yaml"), tmp_path)
    assert case["status"] == "pass"
    assert "stand-in" in " ".join(case["reference"]["float64_runs"])
    row = rows["grad:weight_ih"]
    assert row["tolerance_verdict"] == "fail" and row["verdict"] == "pass (within float32 noise)"
    measured = row["attribution"]["own_error_from_standin"]["mindspore"]
    assert measured["kernel_vs_standin"] <= measured["own_error"]  # the stand-in is the kernel up to its rounding
    assert row["precision_note"].startswith("precision outlier: mindspore is")


PLANT = """
name: plant.RNNCell
kind: model
grad: true
inputs:
  - {name: input, shape: [4, 8], mindspore: x}
  - {name: hx, shape: [4, 12]}
torch:
  model: tests.planted_kernels:TorchRNNCell
  init: {input_size: 8, hidden_size: 12}
mindspore:
  model: tests.planted_kernels:KERNEL
  init: {input_size: 8, hidden_size: 12}
"""


def _plant(cli, write_spec, tmp_path, monkeypatch, kernel):
    """The kink variant of an RNNCell whose MindSpore kernel is `kernel`, with the real RNNCell's stand-in."""
    path = f"tests.planted_kernels:{kernel}"
    monkeypatch.setitem(standins.STANDINS, path, standins.STANDINS["mindspore.nn.RNNCell"])  # in this process: --jobs 0
    out = tmp_path / "r.json"
    result = cli("run", write_spec(PLANT.replace("KERNEL", kernel)), "--allow-module", "tests.planted_kernels",
                 "--edges", "-k", "kink", "--grad", "--jobs", "0", "-q", "--json", out)
    assert result.exit_code in (0, 1), result.text
    (case,) = read_json(out)["cases"]
    assert "stand-in" in " ".join(case["reference"]["float64_runs"])
    return case, {o["name"]: o for o in case["outputs"]}


@pytest.mark.parametrize("kernel", ["PerturbedRNNCell", "HalfTanhRNNCell"])
def test_a_planted_kernel_bug_of_that_size_still_fails(cli, write_spec, tmp_path, monkeypatch, kernel):
    case, rows = _plant(cli, write_spec, tmp_path, monkeypatch, kernel)
    assert case["status"] == "fail", case["message"]
    # the forward row's deviation is within twice the stand-in's rounding; only the kernel-vs-stand-in check fails it
    rejected = rows["out"]["attribution"]["own_error_rejected"]["mindspore"]
    assert rows["out"]["verdict"] == "fail"
    assert rejected["source"] == "stand-in" and rejected["kernel_vs_standin"] > rejected["own_error"]


def test_the_same_custom_kernel_without_the_bug_passes(cli, write_spec, tmp_path, monkeypatch):
    case, rows = _plant(cli, write_spec, tmp_path, monkeypatch, "HonestRNNCell")
    assert case["status"] == "pass", case["message"]
    assert rows["out"]["attribution"]["own_error_from_standin"]["mindspore"]


def _budget(kernel, low, high, reference, torch_out):
    dev = float(np.max(np.abs(torch_out - kernel)))
    return attribute(dev, False, 0, {"torch": torch_out, "mindspore": kernel}, "torch", reference,
                     {"torch": reference, "mindspore": None}, "float32", standin={"mindspore": (low, high)})


def test_a_stand_in_that_is_not_the_kernel_gives_no_allowance():
    reference = np.linspace(-1, 1, 64)
    low = reference + 3e-5  # the stand-in's float32 rounding: 3e-5
    assert _budget(low + 1e-6, low, reference, reference, reference + 1e-7)["within_noise"]
    record = _budget(low + 5e-5, low, reference, reference, reference + 1e-7)  # kernel 5e-5 away from the stand-in
    assert not record["within_noise"] and record["own_error_rejected"]["mindspore"]["source"] == "stand-in"


def test_a_stand_in_whose_float64_run_is_another_function_gives_no_allowance():
    reference = np.linspace(-1, 1, 64)
    low = reference + 3e-5
    record = _budget(low, low, reference * 1.001, reference, reference + 1e-7)
    assert not record["within_noise"] and "mindspore" in record["own_error_rejected"]


LAYERS = [("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
          ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
          ("RNN", {"num_layers": 2, "nonlinearity": "relu"}), ("GRUCell", {"has_bias": False}),
          ("LSTMCell", {}), ("RNNCell", {"nonlinearity": "tanh"})]


@pytest.mark.frameworks
@pytest.mark.parametrize("name,kwargs", LAYERS, ids=[n for n, _ in LAYERS])
def test_every_stand_in_is_its_kernel_in_float32_with_the_same_parameters(name, kwargs):
    import mindspore as ms
    from mindspore import Tensor, nn

    kernel, standin = getattr(nn, name)(input_size=4, hidden_size=6, **kwargs), standins.standin_for(f"mindspore.nn.{name}")(
        input_size=4, hidden_size=6, **kwargs)
    names = dict(standin.parameters_and_names())
    assert set(names) == {n for n, _ in kernel.parameters_and_names()}
    rng = np.random.default_rng(0)
    for n, p in kernel.parameters_and_names():
        value = Tensor(rng.normal(0, 0.5, p.shape).astype(np.float32))
        p.set_data(value)
        names[n].set_data(value)
    cell = name.endswith("Cell")
    x = Tensor(rng.normal(size=(3, 4) if cell else (3, 5, 4)).astype(np.float32))
    count = 1 if cell else kwargs["num_layers"] * (2 if kwargs.get("bidirectional") else 1)
    h = Tensor(rng.normal(size=(3, 6) if cell else (count, 3, 6)).astype(np.float32))  # batch 3 either way
    if not cell and not kwargs.get("batch_first"):
        x = Tensor(rng.normal(size=(5, 3, 4)).astype(np.float32))
    hx = (h, Tensor(rng.normal(size=h.shape).astype(np.float32))) if "LSTM" in name else h

    def flat(out):
        return [a.asnumpy() for a in (out if isinstance(out, tuple) else (out,))
                for a in (a if isinstance(a, tuple) else (a,))]

    low = flat(standin(x, hx))
    for a, b in zip(flat(kernel(x, hx)), low):  # float32 rounding in another order; a wrong gate is O(0.1)
        assert a.shape == b.shape and np.max(np.abs(a - b)) <= 1e-4 * max(1.0, float(np.max(np.abs(a))))
    # its reason to exist: it runs in float64 where the kernel refuses, and computes the same there
    for p in standin.get_parameters():
        p.set_dtype(ms.float64)
    up = lambda t: Tensor(t.asnumpy().astype(np.float64))
    high = flat(standin(up(x), (up(hx[0]), up(hx[1])) if isinstance(hx, tuple) else up(hx)))
    for a, b in zip(low, high):
        assert b.dtype == np.float64 and np.max(np.abs(a - b)) <= 1e-4 * max(1.0, float(np.max(np.abs(b))))
