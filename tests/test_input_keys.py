"""Seeded data is keyed by case id: two cases of one spec get independent data, and a case gets the same
inputs, weights and cotangents whatever else is selected (-k, other specs, the order cases run in)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json, without_timings
from eqcheck.cases import expand, load_spec
from eqcheck.cases.draws import DEFAULT_SEED, case_rng, make_inputs

SPEC = """
name: keyed.op
sweep: {slope: [0.2, 0.01]}
inputs:
  - {name: x, shape: [4, 8]}
  - {name: n, shape: [3], distribution: {integers: {low: 0, high: 1000}}}
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
