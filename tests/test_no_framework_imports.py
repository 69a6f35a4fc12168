"""--help, --version, list and validate stay fast: they import neither torch nor MindSpore."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT

PROBE = """
import sys
from eqcheck.cli import main
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "mindspore") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["run", "--help"], ["list", "configs"], ["list", "configs", "--edges"], ["list", "configs", "--boundary"], ["validate", "configs"]],
                         ids=lambda a: " ".join(a))
def test_cheap_commands_import_no_framework(args):
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY=", proc.stdout
