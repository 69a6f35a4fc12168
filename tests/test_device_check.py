"""scripts/device_check on its CPU-only path: torch against torch-compile, gradients on, reports under $OUT, with
MindSpore absent from the import path (the lent GPU machine has none). The GPU run itself needs a lent device."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT, read_json

pytestmark = pytest.mark.frameworks


def _without_mindspore(tmp_path: Path) -> Path:
    """An interpreter wrapper: this venv's python with -S and a path holding every installed package but MindSpore."""
    site, packages = tmp_path / "site", Path(sysconfig.get_paths()["purelib"])
    site.mkdir()
    for entry in packages.iterdir():
        if not entry.name.lower().startswith(("mindspore", "eqcheck", "__editable__")) and entry.suffix != ".pth":
            (site / entry.name).symlink_to(entry)
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexport PYTHONPATH="${{PYTHONPATH:+$PYTHONPATH:}}{site}"\nexec {sys.executable} -S "$@"\n')
    wrapper.chmod(0o755)
    probe = subprocess.run([str(wrapper), "-c", "import torch, numpy, click, rich, yaml\nimport mindspore"],
                           capture_output=True, text=True)
    assert "No module named 'mindspore'" in probe.stderr, probe.stderr  # honest: MindSpore really is out of reach
    return wrapper


def test_device_check_runs_without_mindspore_and_writes_its_reports(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "PYTHON": str(_without_mindspore(tmp_path)), "TARGETS": "torch,torch-compile"}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "device_check"), "configs/nn/Linear.yaml"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    document = read_json(out / "device.json")
    assert document["settings"]["targets"] == ["torch", "torch-compile"] and document["settings"]["grad"] is True
    assert "mindspore" not in document["environment"]["versions"]  # neither the parent nor its worker had it
    plain = [c for c in document["cases"] if "sample=" not in c["id"] and "boundary=" not in c["id"]]
    assert len(plain) == 4 and all(c["status"] == "pass" for c in plain)
    assert any("sample=" in c["id"] for c in document["cases"])  # --explore joins once this eqcheck has it
    assert any(o["kind"] == "grad" for case in document["cases"] for o in case["outputs"])
    for report in ("device.md", "device.html", "device.xml", "device_env.txt"):
        assert (out / report).stat().st_size > 0, report
    assert "exit 0 after" in proc.stdout
