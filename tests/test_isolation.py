"""Isolation by default: a plain `eqcheck run` keeps the frameworks out of the reporting process, so a kernel that
kills its process costs one case and the report keeps every other one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import CONFIGS, ROOT, read_json

pytestmark = pytest.mark.frameworks

# MindSpore's Dense gradient over an empty batch, re-run in float64, dies of SIGFPE (docs/edges.md, crash row).
EMPTY_BATCH = """
name: crash.Linear_empty_batch
summary: Linear over an empty batch; MindSpore's float64 re-run of Dense's gradient dies of SIGFPE
grad: true
sweep:
  batch: [0, 2]
inputs:
  - {name: input, shape: [batch, 24], mindspore: x}
torch:
  op: torch.nn.Linear
  init: {in_features: 24, out_features: 40, bias: true}
mindspore:
  op: mindspore.nn.Dense
  init: {in_channels: 24, out_channels: 40, has_bias: true}
"""

# The real command line in a fresh interpreter; afterwards, did the reporting process import a framework?
DRIVER = textwrap.dedent("""
    import sys
    from eqcheck.cli import main
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        print("FRAMEWORKS", sorted(m for m in ("torch", "mindspore") if m in sys.modules), file=sys.stderr)
        raise
""")


def test_a_native_crash_costs_one_case_by_default(tmp_path):
    spec = tmp_path / "empty_batch.yaml"
    spec.write_text(EMPTY_BATCH)
    report = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-c", DRIVER, "run", str(CONFIGS / "nn" / "GRUCell.yaml"), str(spec),
                           "--reference", "float64", "--json", str(report), "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "FRAMEWORKS []" in proc.stderr  # the cases ran in a worker; the parent never imported torch or MindSpore
    document = read_json(report)
    assert document["complete"] is True and document["summary"]["total"] == 6  # 4 GRUCell cases + 2 empty-batch ones
    by_id = {case["id"]: case for case in document["cases"]}
    crashed = by_id["crash.Linear_empty_batch[batch=0,float32]"]
    assert crashed["status"] == "error" and "SIGFPE" in crashed["message"], crashed
    assert by_id["crash.Linear_empty_batch[batch=2,float32]"]["status"] == "pass"  # the run went on after the crash
    assert all(case["status"] in ("pass", "unsupported") for id_, case in by_id.items() if id_.startswith("nn.GRUCell"))
