"""eqcheck/verdict/rounding.py and exact.py: ulps, Higham's gamma_n bound, the structure table. Pure numpy, except the
table's staleness check, which asks the installed torch's OpInfo."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT
from eqcheck.verdict import exact, rounding
from eqcheck.verdict.attribution import elementwise


def test_ulps_count_float32_spacings_at_the_reference():
    one = np.float32(1.0)
    assert rounding.ulps(np.nextafter(one, np.float32(2)), 1.0, "float32")[()] == 1
    assert rounding.ulps(np.float32(1.5) + 3 * np.float32(2.0**-23), 1.5, "float32")[()] == 3
    assert rounding.ulps(np.float32(0), 1e-40, "float32")[()] == 0  # a flushed subnormal is not an error
    assert rounding.ulps(np.float32(np.inf), 3.5e38, "float32")[()] == 0  # the reference overflows float32
    assert rounding.ulps(np.float32(np.nan), 1.0, "float32")[()] == np.inf
    assert rounding.ulps(np.float64(1) + 2.0**-52, 1.0, "float64")[()] == 1


def test_the_structural_bound_covers_any_summation_order_and_not_a_bug():
    rng = np.random.default_rng(0)
    terms = rng.normal(size=(64, 4096)).astype(np.float32)
    exact_sum = terms.astype(np.float64).sum(axis=1)
    bound = rounding.allowance(np.abs(terms).astype(np.float64).sum(axis=1), np.full(64, 4096.0), "float32")
    sequential = np.zeros(64, np.float32)
    for column in terms.T:  # the worst order there is: one float32 accumulator, term after term
        sequential += column
    for computed in (sequential, terms.sum(axis=1), terms[:, ::-1].sum(axis=1)):
        assert np.all(np.abs(computed.astype(np.float64) - exact_sum) <= bound)
    dropped = (terms[:, 1:].sum(axis=1)).astype(np.float64)  # one term lost: a bug, not rounding
    assert np.any(np.abs(dropped - exact_sum) > bound)


def test_gamma_is_infinite_once_n_u_reaches_one():
    assert rounding.gamma(2**24, "float32") == np.inf
    assert rounding.gamma(1000, "float32") == pytest.approx(1000 * 2.0**-24, rel=1e-4)


def test_structure_names_elementwise_and_multilinear_ops_from_torch_op_paths():
    assert rounding.structure("torch.tanh") == "elementwise"
    assert rounding.structure("torch.Tensor.exp") == "elementwise"
    assert rounding.structure("torch.nn.ELU") == "elementwise"
    assert rounding.entry_of("torch.special.expm1") == "expm1" and rounding.structure("torch.arctan2") == "elementwise"
    assert rounding.structure("torch.nn.Conv2d") == "multilinear"
    assert rounding.structure("torch.nn.functional.linear") == "multilinear"
    assert rounding.structure("torch.mean") is None and rounding.structure("torch.nn.BatchNorm2d") is None


def test_an_elementwise_kernel_beyond_the_threshold_fails_and_names_its_ulps():
    x = np.linspace(-3, 3, 1001).astype(np.float32)
    truth = np.tanh(x.astype(np.float64))
    good = truth.astype(np.float32)
    half = np.tanh(x.astype(np.float16)).astype(np.float32)  # the planted bug: computed in float16
    record = elementwise(0.1, False, 0, {"torch": good, "mindspore": half}, "torch", truth,
                         {"torch": truth, "mindspore": truth}, None, "float32")
    assert record["kernel_accuracy"].keys() == {"mindspore"} and record["ulps"]["mindspore"] > 1000
    assert not record["within_noise"] and "kernel accuracy" in record["statement"]
    fine = elementwise(1e-7, False, 0, {"torch": good, "mindspore": good}, "torch", truth, {}, None, "float32")
    assert fine["within_noise"] and fine["verdict"] == "pass (within float32 noise)"


def test_mpmath_references_round_correctly_and_give_the_sensitivity():
    x = np.array([0.5, 1.0 + 2.0**-30, 2.0])
    value, sensitivity = exact.reference("log", [x])
    assert value[0] == np.log(0.5) and value[2] == np.log(2.0)
    assert sensitivity == pytest.approx([1.0, 1.0, 1.0], rel=1e-12)  # x d(log x)/dx = 1
    assert exact.reference("no such function", [x]) is None


def test_the_structure_table_is_not_stale_against_the_installed_torch():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "structure_table.py"), "--check"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_a_row_that_is_zero_at_float32_precision_compares_noise_levels_only():
    from eqcheck.verdict.attribution import attribute

    rng = np.random.default_rng(1)
    exact64 = rng.normal(0, 1e-20, 64)  # the float64 run: 0 up to float64 rounding (a gradient softmax cancels)
    torch32 = rng.normal(0, 7e-10, 64).astype(np.float32)  # float32 noise of the terms that cancel
    noise = rng.normal(0, 5e-10, 64).astype(np.float32)  # MindSpore, no float64 run: noise of the same level
    rec = attribute(float(np.max(np.abs(torch32 - noise))), False, 0, {"torch": torch32, "mindspore": noise}, "torch",
                    exact64, {"torch": exact64, "mindspore": None}, "float32")
    assert rec["within_noise"] and rec["cancelled"] == ["torch"]
    garbage = (noise * 1e3).astype(np.float32)  # a side returning values far above that noise still fails
    rec = attribute(float(np.max(np.abs(torch32 - garbage))), False, 0, {"torch": torch32, "mindspore": garbage},
                    "torch", exact64, {"torch": exact64, "mindspore": None}, "float32")
    assert not rec["within_noise"]
