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
