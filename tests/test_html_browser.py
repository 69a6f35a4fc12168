"""The --html report in a real headless browser (Debian's chromium): it loads, its script runs, the console stays
silent, and a screenshot is taken. Skipped when no chromium is installed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import SWAPPED_GRU

pytestmark = pytest.mark.frameworks

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((path for path in map(shutil.which, BROWSERS) if path), None)


def headless(page, profile, *args: str) -> subprocess.CompletedProcess:
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine (apt-get install chromium)")
def test_html_report_loads_in_a_browser_without_console_errors(cli, copy_config, tmp_path):
    tight = copy_config("nn/GRUCell.yaml", dict([SWAPPED_GRU["square"]]))  # failing rows too: both verdicts render
    tight.write_text(tight.read_text() + SWAPPED_GRU["weights"])
    page = tmp_path / "report.html"
    assert cli("run", tight, "configs/nn/Softmax.yaml", "--html", page).exit_code == 1
    shot = tmp_path / "report.png"
    run = headless(page, tmp_path / "profile", "--window-size=1400,1000", f"--screenshot={shot}")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # any console message (an error, a failed load) is a bug in the page
    assert shot.stat().st_size > 20_000  # a real rendering, not a blank page
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = headless(page, tmp_path / "profile2", "--dump-dom")
    assert 'data-ready="yes"' in dom.stdout  # the inline script ran to its end
    assert dom.stdout.count("<svg") >= 8 and "nn.GRUCell[bias=True,batch=1,float32]" in dom.stdout


@pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine (apt-get install chromium)")
def test_the_console_check_sees_a_planted_script_error(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel=icon href="data:,"></head><body>x'
                    "<script>undefinedFunction();</script></body></html>")
    run = headless(page, tmp_path / "profile", f"--screenshot={tmp_path / 'bad.png'}")
    assert any(":CONSOLE" in line and "undefinedFunction" in line for line in run.stderr.splitlines()), run.stderr[-2000:]
