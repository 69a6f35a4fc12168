"""Seeded data. It is keyed by case id: two cases of one spec get independent data, and a case gets the same
inputs, weights and cotangents whatever else is selected (-k, other specs, the order cases run in). Every
distribution kind the loader admits draws in the case dtype; bfloat16 values are rounded to nearest-even onto
the bfloat16 grid, so torch and MindSpore both cast them exactly."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json, without_timings
from eqcheck.cases import expand, load_spec
from eqcheck.cases.draws import DEFAULT_SEED, case_rng, draw, make_inputs, round_to_bfloat16

SPEC = """
name: keyed.op
sweep: {slope: [0.2, 0.01]}
inputs:
  - {name: x, shape: [4, 8]}
  - {name: n, shape: [3], dtype: int64, distribution: {integers: {low: 0, high: 1000}}}
torch: {op: torch.nn.functional.leaky_relu, call: {negative_slope: $slope}}
mindspore: {op: mindspore.ops.leaky_relu, call: {alpha: $slope}}
"""


@pytest.fixture
def cases(write_spec):
    first, second = expand(load_spec(write_spec(SPEC)))
    assert first.input_shape(0) == second.input_shape(0)  # same shapes: only the key tells them apart
    return first, second


def test_two_cases_of_one_spec_get_independent_inputs(cases):
    first, second = (make_inputs(c, DEFAULT_SEED) for c in cases)
    assert not np.array_equal(first["x"], second["x"])
    assert not np.array_equal(first["n"], second["n"])


def test_a_case_gets_the_same_bytes_whatever_was_drawn_before(cases):
    first, second = cases
    alone = make_inputs(second, DEFAULT_SEED)
    make_inputs(first, DEFAULT_SEED)  # drawing another case in between must not move this case's stream
    make_inputs(first, DEFAULT_SEED + 1)
    after = make_inputs(second, DEFAULT_SEED)
    for name in alone:
        assert alone[name].tobytes() == after[name].tobytes()


def test_the_seed_changes_the_data(cases):
    case = cases[0]
    assert not np.array_equal(make_inputs(case, DEFAULT_SEED)["x"], make_inputs(case, DEFAULT_SEED + 1)["x"])


def test_inputs_weights_and_cotangents_are_separate_streams():
    draws = {stream: case_rng(DEFAULT_SEED, "keyed.op[slope=0.2,float32]", stream).random(8)
             for stream in ("inputs", "weights", "cotangents")}
    assert len({values.tobytes() for values in draws.values()}) == 3


def test_the_key_is_the_whole_case_id():
    ids = ["nn.Linear[bias=True,batch=32,float32]", "nn.Linear[bias=False,batch=32,float32]",
           "nn.Linear[bias=True,batch=32,float64]", "nn.Dense[bias=True,batch=32,float32]"]
    draws = {case_id: case_rng(DEFAULT_SEED, case_id, "inputs").random(4).tobytes() for case_id in ids}
    assert len(set(draws.values())) == len(ids)



def test_a_seed_reproduces_the_same_data_across_eqcheck_versions():
    # Golden outputs and stored baselines hold results computed from these bytes: renaming a stream or
    # changing the key silently invalidates them all. Changing these numbers must be deliberate.
    case = expand(load_spec("configs/nn/Linear.yaml"))[0]
    assert case.id == "nn.Linear[bias=True,batch=1,float32]"
    first = make_inputs(case, DEFAULT_SEED)["input"].ravel()[:3]
    assert first.tolist() == [-1.6958801746368408, -1.2066839933395386, 1.3885959386825562]


def test_inputs_are_drawn_in_the_case_dtype(write_spec):
    spec = load_spec(write_spec(SPEC.replace("sweep:", "dtypes: [float32, float64]\nsweep:")))
    for case in expand(spec):
        arrays = make_inputs(case, DEFAULT_SEED)
        assert arrays["x"].dtype == np.dtype(case.dtype) and arrays["n"].dtype == np.int64
        assert 0 <= arrays["n"].min() and arrays["n"].max() < 1000

@pytest.mark.frameworks
def test_a_case_reports_the_same_numbers_whatever_else_is_selected(cli, tmp_path):
    """Inputs, shared weights and cotangents all show in the output and gradient metrics of the report."""
    case_id = "nn.Linear[bias=True,batch=32,float32]"
    alone, together = tmp_path / "alone.json", tmp_path / "together.json"
    assert cli("run", "configs/nn/Linear.yaml", "-k", "bias=True and batch=32", "--json", alone).exit_code == 0
    # other cases of the same spec before it, and another spec first
    result = cli("run", "configs/nn/Softmax.yaml", "configs/nn/Linear.yaml", "--json", together)
    assert result.exit_code == 0, result.text
    (only,) = read_json(alone)["cases"]
    among = {c["id"]: c for c in read_json(together)["cases"]}
    assert only["id"] == case_id and len(among) > 4
    assert {o["kind"] for o in only["outputs"]} == {"output", "grad"}
    assert without_timings(only) == without_timings(among[case_id])


# --------------------------------------------------------------------------------------------------
# the draws themselves


def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("kind,args,low,high", [
    ("normal", {"mean": 10.0, "std": 0.5}, 7.0, 13.0),
    ("uniform", {"low": -3.0, "high": -2.0}, -3.0, -2.0),
    ("positive", {"low": 0.1, "high": 2.0}, 0.1, 2.0),
    ("integers", {"low": 3, "high": 6}, 3, 5),
])
def test_each_kind_draws_in_its_range_and_dtype(kind, args, low, high):
    values = draw(rng(), kind, args, (50, 4), "float32" if kind != "integers" else "int64")
    assert values.shape == (50, 4) and values.dtype == (np.float32 if kind != "integers" else np.int64)
    assert low <= values.min() and values.max() <= high
    assert len(np.unique(values)) > 2  # random, not a constant


def test_normal_draws_have_the_requested_mean_and_spread():
    values = draw(rng(), "normal", {"mean": 10.0, "std": 0.5}, (20_000,), "float64")
    assert abs(values.mean() - 10.0) < 0.02 and abs(values.std() - 0.5) < 0.02


def test_constant_fills_the_shape():
    assert draw(rng(), "constant", {"value": 0.25}, (2, 3), "float16").tolist() == [[0.25] * 3] * 2


def test_an_unknown_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown distribution lognormal"):
        draw(rng(), "lognormal", {}, (2,), "float32")


def test_bfloat16_draws_lie_on_the_bfloat16_grid():
    values = draw(rng(), "normal", {"mean": 0.0, "std": 1.0}, (1000,), "bfloat16")
    assert values.dtype == np.float32
    assert not (values.view(np.uint32) & 0xFFFF).any()  # the low 16 bits of every float32 are zero


B = 2.0**-7  # bfloat16 spacing just above 1.0 (7 mantissa bits)


@pytest.mark.parametrize("value,rounded", [
    (1.0, 1.0),                         # on the grid: unchanged
    (1.0 + B, 1.0 + B),
    (1.0 + B / 2, 1.0),                 # halfway, 1.0 is even: down
    (1.0 + 3 * B / 2, 1.0 + 2 * B),     # halfway, 1 + B is odd: up to the even neighbour
    (1.0 + B / 2 + 2.0**-20, 1.0 + B),  # just above halfway: up
    (1.0 + B / 2 - 2.0**-20, 1.0),      # just below halfway: down
    (-(1.0 + 3 * B / 2), -(1.0 + 2 * B)),
    (float(np.finfo(np.float32).max), np.inf),  # past the largest bfloat16: infinity, as a cast does
    (np.inf, np.inf),
    (0.0, 0.0),
])
def test_round_to_bfloat16_is_round_to_nearest_even(value, rounded):
    out = round_to_bfloat16(np.array([value], np.float64))
    assert out.dtype == np.float32 and out.shape == (1,)
    assert out[0] == np.float32(rounded)


def test_round_to_bfloat16_keeps_nan_and_shape():
    out = round_to_bfloat16(np.array([[np.nan, 2.5], [-0.0, 1e-30]], np.float32))
    assert out.shape == (2, 2) and np.isnan(out[0, 0]) and out[0, 1] == 2.5
    assert np.signbit(out[1, 0]) and out[1, 0] == 0.0
