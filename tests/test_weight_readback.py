"""The read-back proof: after loading, every parameter on every side must hold the shared values bit for bit.

Each test plants a broken load into one real backend (a load that silently does nothing, skips a parameter,
or rounds the values on the way in) and checks that the case becomes an `error` naming the side and the
parameter, rather than a plain `fail` (or, for rounding small enough to hide in the tolerance, a pass).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import read_json
from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend
from eqcheck.backends.torch_eager import TorchEagerBackend

pytestmark = pytest.mark.frameworks

LINEAR = "configs/nn/Linear.yaml"
ONE_CASE = "bias=True and batch=32"


def plant_load(monkeypatch, backend, change):
    """Replace `backend.load` by the real load applied to `change(arrays)`."""
    real = backend.load
    monkeypatch.setattr(backend, "load", lambda self, built, arrays: real(self, built, change(arrays)))


def run_case(cli, tmp_path, *extra):
    report = tmp_path / "r.json"
    result = cli("run", LINEAR, "-k", ONE_CASE, "--json", report, *extra)
    (case,) = read_json(report)["cases"]
    return result, case


def test_a_correct_load_reads_back_and_the_case_passes(cli, tmp_path):
    result, case = run_case(cli, tmp_path, "--dtype", "float64")
    assert case["status"] == "pass" and result.exit_code == 0, result.text


def test_a_load_that_silently_does_nothing_is_an_error(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(TorchEagerBackend, "load", lambda self, built, arrays: None)
    result, case = run_case(cli, tmp_path)
    assert case["status"] == "error", result.text
    assert case["message"].startswith("torch parameter '") and "did not take the shared value after loading" in case["message"]
    assert result.exit_code == 1


def test_a_load_that_skips_one_parameter_names_it(cli, tmp_path, monkeypatch):
    # the last parameter: a check that stopped after the first one would miss it
    plant_load(monkeypatch, MindSporePyNativeBackend, lambda arrays: {n: a for n, a in arrays.items() if n != "bias"})
    result, case = run_case(cli, tmp_path)
    assert case["status"] == "error", result.text
    assert case["message"] == "mindspore parameter 'bias' did not take the shared value after loading"
    assert result.exit_code == 1


def test_a_load_that_rounds_through_float16_is_an_error(cli, tmp_path, monkeypatch):
    plant_load(monkeypatch, TorchEagerBackend, lambda arrays: {n: a.astype(np.float16).astype(a.dtype) for n, a in arrays.items()})
    result, case = run_case(cli, tmp_path)
    assert case["status"] == "error", result.text
    assert "torch parameter 'weight' did not take the shared value" in case["message"]


def test_a_load_that_rounds_float64_weights_to_float32_is_an_error(cli, tmp_path, monkeypatch):
    # relative change ~1e-8: inside any tolerance (allclose would call it equal); only a bitwise read-back sees it
    plant_load(monkeypatch, MindSporePyNativeBackend,
               lambda arrays: {n: a.astype(np.float32).astype(a.dtype) for n, a in arrays.items()})
    result, case = run_case(cli, tmp_path, "--dtype", "float64")
    assert case["status"] == "error", result.text
    assert "mindspore parameter 'weight' did not take the shared value" in case["message"]


def test_the_float64_reference_rerun_proves_its_load_too(cli, tmp_path, monkeypatch):
    # A load that ignores float64 arrays leaves the float32 case alone; the float64 re-run of --reference would
    # keep torch's random init and attribute against a different function: that run is refused, not used.
    plant_load(monkeypatch, TorchEagerBackend, lambda arrays: {n: a for n, a in arrays.items() if a.dtype != np.float64})
    result, case = run_case(cli, tmp_path, "--reference", "float64")
    assert case["status"] == "pass", result.text
    runs = case["reference"]["float64_runs"]
    assert runs["mindspore"] == "ok"
    assert "torch parameter 'weight' did not take the shared value" in runs["torch"], runs
    # the float64 reference falls back to the side that proved its load
    assert case["outputs"][0]["attribution"]["reference"] == "mindspore float64"


def test_a_nan_in_a_users_weights_file_reads_back_as_loaded(cli, tmp_path):
    # NaN != NaN: the proof compares NaN-aware, so a weight set holding a NaN is loaded, not refused
    rng = np.random.default_rng(0)
    bias = rng.uniform(-0.2, 0.2, 40).astype(np.float32)
    bias[3] = np.nan
    weights = tmp_path / "w.npz"
    np.savez(weights, weight=rng.uniform(-0.2, 0.2, (40, 24)).astype(np.float32), bias=bias)
    result, case = run_case(cli, tmp_path, "--weights", weights)
    assert case["status"] == "pass", result.text  # NaN in the same places on both sides
    assert case["spec"] == LINEAR and case["targets"] == ["torch", "mindspore"]


# --------------------------------------------------------------------------------------------------
# the shared set itself (eqcheck/cases/weights.py), without frameworks


def _weight_map():
    from eqcheck.cases.weights import BoundSide, BoundWeight, WeightMap
    from eqcheck.spec.layout import Transpose
    from eqcheck.spec.model import Distribution

    return WeightMap((
        BoundWeight("w", (2, 3), Distribution("uniform", {"low": -1.0, "high": 1.0}),
                    {"torch": BoundSide("weight", ()), "mindspore": BoundSide("kernel", (Transpose((1, 0)),))}),
        BoundWeight("steps", (), Distribution("constant", {"value": 0}),
                    {"torch": BoundSide("num_batches_tracked", ()), "mindspore": BoundSide("steps", ())},
                    integer_default=np.array(7, dtype=np.int64)),
    ))


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_the_shared_set_is_drawn_in_the_case_dtype_and_integer_buffers_keep_their_value(dtype):
    from eqcheck.cases.weights import generate

    weight_map = _weight_map()
    arrays = generate(weight_map, np.random.default_rng(0), dtype)
    assert arrays["w"].dtype == np.dtype(dtype) and arrays["w"].shape == (2, 3)
    assert -1.0 <= arrays["w"].min() and arrays["w"].max() <= 1.0
    assert arrays["steps"].dtype == np.int64 and arrays["steps"] == 7
    arrays["steps"] += 1  # the drawn set is the case's own: changing it leaves the map's default alone
    assert weight_map.weights[1].integer_default == 7


def test_the_map_moves_arrays_between_canonical_and_side_layouts_by_name():
    weight_map = _weight_map()
    canonical = {"w": np.arange(6.0).reshape(2, 3), "steps": np.array(7)}
    side = weight_map.to_side("mindspore", canonical)
    assert set(side) == {"kernel", "steps"}
    np.testing.assert_array_equal(side["kernel"], canonical["w"].T)
    back = weight_map.to_canonical("mindspore", {"kernel": side["kernel"] * 2})  # only what the side returned
    assert set(back) == {"w"}
    np.testing.assert_array_equal(back["w"], canonical["w"] * 2)
    assert set(weight_map.to_side("torch", canonical)) == {"weight", "num_batches_tracked"}


def test_the_map_describes_each_weight_with_its_side_names_and_transforms():
    from dataclasses import replace

    from eqcheck.cases.weights import BoundSide, WeightMap
    from eqcheck.spec.layout import Reshape, Transpose

    assert _weight_map().describe()[0] == {"name": "w", "shape": [2, 3], "init": "uniform(low=-1.0, high=1.0)",
                                           "torch": "weight", "mindspore": "kernel |transpose"}
    two_steps = BoundSide("kernel", (Transpose((1, 0)), Reshape((6,), (3, 2))))
    weight = _weight_map().weights[0]
    described = WeightMap((replace(weight, sides={**weight.sides, "mindspore": two_steps}),)).describe()
    assert described[0]["mindspore"] == "kernel |transpose |reshape"
