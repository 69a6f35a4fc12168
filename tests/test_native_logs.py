"""Native log lines belong to their case: what a kernel writes to the worker's fds 1 and 2 lands on the case and
side that wrote it, stays off the terminal, shows as a note, and fails the case under --strict-logs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import CONFIGS, ROOT, read_json

# MindSpore's GridSampler2DGrad CPU kernel logs "memcpy_s failed. errorno is: 34" on this small grid (2.10.0)
# while its gradients still match torch's.
GRID_SAMPLE = """
name: native.grid_sample
summary: grid_sample's gradient; MindSpore's CPU kernel logs a memcpy_s error and still returns the right values
grad: true
sweep:
  align_corners: [false, true]
inputs:
  - {name: input, shape: [1, 1, 3, 3]}
  - {name: grid, shape: [1, 2, 2, 2], distribution: uniform}
torch:
  op: torch.nn.functional.grid_sample
  call: {mode: bilinear, padding_mode: zeros, align_corners: $align_corners}
mindspore:
  op: mindspore.ops.grid_sample
  call: {mode: bilinear, padding_mode: zeros, align_corners: $align_corners}
"""

GLOG = ("[ERROR] KERNEL(30300,7fc87ec08b80,python):2026-12-01-07:04:28.631.602 "
        "[mindspore/ops/kernel/cpu/native/grid_sampler_2d_grad_cpu_kernel.h:153] store] memcpy_s failed. errorno is: 34")


def test_error_lines_are_counted_per_side_with_their_source():
    from eqcheck.execution.native_logs import summarize

    log = {"mindspore": {"stderr": f"{GLOG}\n{GLOG}\n[WARNING] ME(1,2,python):time [a/b.cc:3] f] only a warning\n"},
           "torch": {"stderr": "[W1201 07:00:00.000] a torch C++ warning\n", "stdout": "plain output\n"}}
    errors = summarize(log)
    assert errors["count"] == 2 and errors["sides"] == {"mindspore": 2}
    assert errors["first"] == "memcpy_s failed. errorno is: 34"
    assert errors["sources"] == ["grid_sampler_2d_grad_cpu_kernel.h"]
    assert "mindspore 2" in errors["note"] and "grid_sampler_2d_grad_cpu_kernel.h" in errors["note"]
    assert summarize({"torch": {"stderr": "[W1201 07:00:00.000] warning only\n"}}) is None


@pytest.mark.frameworks
def test_a_kernel_error_is_on_its_case_not_on_the_terminal(tmp_path):
    spec = tmp_path / "grid_sample.yaml"
    spec.write_text(GRID_SAMPLE)
    report, html = tmp_path / "r.json", tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "-m", "eqcheck", "run", str(spec), "--json", str(report), "--html", str(html)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "memcpy_s" not in proc.stderr and "[ERROR]" not in proc.stderr  # off the terminal (and the progress bar)
    assert "native log: a kernel logged" in proc.stdout  # ... but in the table
    for case in read_json(report)["cases"]:
        assert case["status"] == "pass"
        assert "memcpy_s failed" in case["native_log"]["mindspore"]["stderr"]
        assert "torch" not in case["native_log"] or "memcpy_s" not in str(case["native_log"]["torch"])
        assert case["native_errors"]["sides"] == {"mindspore": case["native_errors"]["count"]}
    assert "native log: a kernel logged" in html.read_text()


@pytest.mark.frameworks
def test_strict_logs_fails_the_case(cli, tmp_path):
    spec = tmp_path / "grid_sample.yaml"
    spec.write_text(GRID_SAMPLE)
    result = cli("run", spec, "-k", "align_corners=False", "--strict-logs", "--jobs", "1", "--json", tmp_path / "r.json")
    assert result.exit_code == 1, result.output
    [case] = read_json(tmp_path / "r.json")["cases"]
    assert case["status"] == "fail" and "--strict-logs" in case["message"] and "memcpy_s" in case["message"]
    assert read_json(tmp_path / "r.json")["settings"]["strict_logs"] is True


@pytest.mark.frameworks
def test_a_crashed_case_keeps_what_its_worker_wrote(monkeypatch):
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases import load_specs
    from eqcheck.cases.sweep import expand
    from eqcheck.execution.workers import WorkerPoolExecutor

    monkeypatch.setenv("EQCHECK_TEST_FAULT", "segv:dim=1")
    cases = [c for spec in load_specs([str(CONFIGS / "nn" / "Softmax.yaml")]) for c in expand(spec)][:2]
    executor = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=1)
    executor.start(cases)
    results = {r.id: r for r in executor.run(cases)}
    crashed = results["nn.Softmax[dim=1,float32]"]
    assert crashed.status == "error" and "SIGSEGV" in crashed.message
    assert "Segmentation fault" in crashed.details["native_log"]["worker"]["stderr"]  # the worker's fault handler
    assert "native_log" not in results["nn.Softmax[dim=0,float32]"].details


def test_a_crash_right_after_a_result_is_on_the_crashed_case_even_when_the_parent_is_slow(monkeypatch):
    """The worker starts its next case before the parent has read the last result: the crashed case's log must
    start where the worker says the last case ended, not where the file ends when the parent gets to it."""
    import time

    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases import load_specs
    from eqcheck.cases.sweep import expand
    from eqcheck.execution import workers

    original = workers._Worker.case_begins

    def late(self, *args):
        if self.queue:  # a case is queued behind the one that just ended: it runs (and crashes) meanwhile
            time.sleep(1.5)
        original(self, *args)

    monkeypatch.setattr(workers._Worker, "case_begins", late)
    monkeypatch.setenv("EQCHECK_TEST_FAULT", "segv:dim=1")
    cases = [c for spec in load_specs([str(CONFIGS / "nn" / "Softmax.yaml")]) for c in expand(spec)][:2]
    executor = workers.WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=1)
    executor.start(cases)
    crashed = {r.id: r for r in executor.run(cases)}["nn.Softmax[dim=1,float32]"]
    assert "Segmentation fault" in crashed.details["native_log"]["worker"]["stderr"]


def test_a_long_log_keeps_its_first_and_its_last_lines():
    from eqcheck.execution.native_logs import KEPT_CHARS, _trim

    text = "[ERROR] first\n" + "x" * (3 * KEPT_CHARS) + "\nFatal Python error: Segmentation fault\n"
    kept = _trim(text)
    assert kept.startswith("[ERROR] first") and kept.endswith("Segmentation fault\n") and len(kept) < KEPT_CHARS + 100
    assert f"{len(text) - KEPT_CHARS} characters not kept" in kept


def test_quiet_output_names_native_errors_in_one_line():
    import io

    from rich.console import Console

    from eqcheck.execution.native_logs import summarize
    from eqcheck.report.console import render_document

    errors = summarize({"mindspore": {"stderr": GLOG + "\n"}})
    summary = {"total": 2, "passed": 2, "failed": 0, "errors": 0, "expected_differences": 0, "wall_time_s": 1.0}
    document = {"summary": summary, "cases": [{"id": "a[float32]", "status": "pass", "outputs": [], "native_errors": errors},
                                              {"id": "b[float32]", "status": "pass", "outputs": []}]}
    buffer = io.StringIO()
    render_document(Console(file=buffer, width=200), document, quiet=True)
    lines = buffer.getvalue().strip().splitlines()
    assert len(lines) == 2 and "a[float32]" not in lines[0], lines  # no table under -q; one line, then the summary
    assert "1 passing or declared case(s) logged native kernel errors (grid_sampler_2d_grad_cpu_kernel.h)" in lines[0]
