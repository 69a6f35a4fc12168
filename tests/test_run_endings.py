"""Every way a run ends keeps what was computed (#32): SIGTERM and SIGHUP write every requested report marked
incomplete, as Ctrl-C does; after SIGKILL the JSON checkpoint is a readable partial report and the workers die
with their parent (PR_SET_PDEATHSIG) instead of running on in their own session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _start(tmp_path: Path) -> subprocess.Popen:
    # one worker hangs in ops.abs (a hung native kernel); the other goes on through configs/math, checkpointing
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EQCHECK_NO_CACHE": "1", "EQCHECK_TEST_FAULT": "hang:ops.abs[",
           "EQCHECK_TEST_FAULT_FLAG": str(tmp_path / "hung")}
    reports = ["--json", tmp_path / "r.json", "--junit", tmp_path / "r.xml", "--html", tmp_path / "r.html",
               "--markdown", tmp_path / "r.md"]
    return subprocess.Popen([sys.executable, "-m", "eqcheck", "run", "configs/math", "-j", "2", "-q", *reports],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _after_first_checkpoint(process: subprocess.Popen, path: Path) -> list[int]:
    deadline = time.monotonic() + 240
    while not (path.with_name("hung").exists() and _cases_in(path)):
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.2)
    return [int(p) for p in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]


def _cases_in(path: Path) -> int:
    try:
        return len(json.loads(path.read_text())["cases"])
    except (OSError, ValueError):
        return 0


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_a_signalled_run_keeps_what_it_computed(tmp_path, signum):
    process = _start(tmp_path)
    workers = _after_first_checkpoint(process, tmp_path / "r.json")
    assert workers
    process.send_signal(signum)
    process.wait(timeout=120)
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["complete"] is False and document["cases"]
    assert all(_gone(pid) for pid in workers), "a worker outlived its parent"
    if signum == signal.SIGTERM:
        assert process.returncode == 130, process.stderr.read()[-2000:]
        assert 'name="complete" value="false"' in (tmp_path / "r.xml").read_text()
        assert "partial report" in (tmp_path / "r.md").read_text() and "partial report" in (tmp_path / "r.html").read_text()
    else:
        shown = subprocess.run([sys.executable, "-m", "eqcheck", "show", tmp_path / "r.json", "-q"], cwd=ROOT,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
        assert "interrupted, partial report" in shown.stdout + shown.stderr
