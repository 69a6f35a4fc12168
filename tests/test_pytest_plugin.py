"""The pytest plugin: `pytest --eqcheck SPECS` collects one item per case (ids = case ids) and fails with the
deviations; without --eqcheck it does nothing (this very session has it loaded)."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from conftest import SWAPPED_GRU



def pytest_run(cwd, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GLOG_v": "3"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_plugin_is_registered_and_inert_without_the_flag(request, tmp_path, copy_config):
    assert [e.value for e in entry_points(group="pytest11") if e.name == "eqcheck"] == ["eqcheck.gate.pytest_plugin"]
    assert request.config.pluginmanager.has_plugin("eqcheck")
    assert request.config.getoption("eqcheck") is False
    copy_config("nn/GRUCell.yaml")
    run = pytest_run(tmp_path, str(tmp_path))
    assert run.returncode == 5, run.stdout  # no tests collected: YAML is not touched without --eqcheck
    assert "torch" not in run.stdout


@pytest.mark.frameworks
def test_eqcheck_items_pass_and_fail_with_the_deviations(tmp_path, copy_config):
    good = copy_config("nn/GRUCell.yaml")
    bad = tmp_path / "swapped" / "GRUCell.yaml"
    bad.parent.mkdir()
    bad.write_text(good.read_text().replace(*SWAPPED_GRU["square"]) + SWAPPED_GRU["weights"])
    run = pytest_run(tmp_path, "--eqcheck", "-v", str(good), str(bad))
    assert run.returncode == 1, run.stdout[-3000:]
    out = run.stdout
    assert "GRUCell.yaml::nn.GRUCell[bias=True,batch=1,float32] PASSED" in out
    assert "swapped/GRUCell.yaml::nn.GRUCell[bias=True,batch=1,float32] FAILED" in out
    assert "4 failed, 4 passed" in out
    assert "nn.GRUCell[bias=True,batch=1,float32]: fail" in out and "out [output]: max_abs=" in out
    assert "Traceback" not in out
