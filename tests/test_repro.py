"""`eqcheck repro`: the generated script needs no eqcheck and prints the report's max_abs exactly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest



@pytest.mark.parametrize("case_id, grad", [("nn.GRUCell[bias=True,batch=64,float32]", True),
                                           ("nn.LSTM[num_layers=2,bias=True,float32]", False)])
def test_repro_script_prints_the_reports_max_abs(cli, tmp_path, case_id, grad):
    args = ["repro", case_id, "-o", tmp_path / "bug"] + (["--grad"] if grad else [])
    result = cli(*args)
    assert result.exit_code == 0, result.text
    expected = [line for line in result.text.splitlines() if "max_abs=" in line]
    assert expected and (not grad or any(line.startswith("grad:weight_ih") for line in expected))
    script = tmp_path / "bug" / "repro.py"
    assert "eqcheck" not in script.read_text().replace("one eqcheck case", "").replace("no eqcheck", "").replace("as eqcheck's", "")
    env = {**os.environ, "GLOG_v": "3", "PYTHONPATH": ""}
    run = subprocess.run([sys.executable, "-I", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = [line for line in run.stdout.splitlines() if "max_abs=" in line]
    assert printed == expected
