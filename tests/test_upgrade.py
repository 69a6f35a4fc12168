"""A real framework upgrade (scripts/upgrade_check.sh): a second virtualenv with MindSpore 2.9, the shipped specs run
in both, diffed, and each framework checked against its own outputs from the other environment. Minutes and
~2.5 GB of disk, so it runs only with EQCHECK_UPGRADE_TEST=1."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.upgrade,
    pytest.mark.skipif(os.environ.get("EQCHECK_UPGRADE_TEST") != "1",
                       reason="builds a second virtualenv (minutes, ~2.5 GB): set EQCHECK_UPGRADE_TEST=1"),
]


def test_mindspore_2_9_to_this_environment(tmp_path):
    out = tmp_path / "upgrade"
    run = subprocess.run(["bash", str(ROOT / "scripts" / "upgrade_check.sh"), "configs/nn/GRUCell.yaml", "configs/nn/LSTM.yaml"],
                         cwd=ROOT, env={**os.environ, "OUT": str(out)}, capture_output=True, text=True, timeout=3600)
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    diff = json.loads((out / "diff.json").read_text())
    assert diff["old"]["versions"]["mindspore"].startswith("2.9")
    assert any(e["key"] == "versions.mindspore" for e in diff["environment"])
    new = json.loads((out / "new.json").read_text())
    assert new["golden"]["versions"]["mindspore"].startswith("2.9") and new["golden"]["missing"] == 0
