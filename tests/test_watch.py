"""`eqcheck watch` and the warm pool under it: a re-run on a warm worker reports exactly what a cold run reports,
an edited spec is never answered from the previous run's state, and a worker that saw a kernel failure is not reused.

The long-running command is driven as a subprocess with a temp spec that the test edits; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import CONFIGS, ROOT

GRU = CONFIGS / "nn" / "GRUCell.yaml"
SOFTMAX = CONFIGS / "nn" / "Softmax.yaml"
WAIT_S = 240  # a worker importing both frameworks on a busy 2-core machine

# A MindSpore CPU kernel that fails at launch (torch, the reference side, gets a valid index): status `error`.
KERNEL_FAILURE = """\
name: planted.gather_out_of_range
summary: MindSpore's Gather kernel refuses an index past the end at launch
inputs:
  - {name: input, shape: [4, 3], mindspore: input_params}
torch:
  op: torch.index_select
  call: {dim: 0, index: {tensor: [0, 1], dtype: int64}}
mindspore:
  op: mindspore.ops.gather
  call: {input_indices: {tensor: [0, 99], dtype: int32}, axis: 0}
"""


def _records(results, cases) -> list[dict]:
    """The report's case records, without timings."""
    from eqcheck.report import document as doc

    document = doc.build_document(results, environment={}, seed=0, settings={}, wall_time_s=0.0, complete=True)
    return [_untimed(case) for case in document["cases"]]


def _untimed(record: dict) -> dict:
    record = json.loads(json.dumps(record))
    record.pop("duration_s", None)
    return record


def _cold_records(spec: Path, tmp_path: Path) -> list[dict]:
    """A cold run: a new eqcheck process, whose new worker imports the frameworks for this run alone."""
    report = tmp_path / f"cold-{spec.stem}.json"
    proc = subprocess.run([sys.executable, "-m", "eqcheck", "run", "-q", str(spec), "--jobs", "1", "--json", str(report)],
                          cwd=ROOT, env=dict(os.environ, GLOG_v="3", PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=WAIT_S)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return [_untimed(case) for case in json.loads(report.read_text())["cases"]]


def _session():
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases import expand, load_specs
    from eqcheck.cases.draws import DEFAULT_SEED
    from eqcheck.execution.watch import WarmSession
    from eqcheck.execution.workers import WorkerPoolExecutor

    pool = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=DEFAULT_SEED, jobs=1, keep_warm=True)
    return WarmSession(pool, lambda files: [case for spec in load_specs(files) for case in expand(spec)])


def _rerun(session, files: list) -> tuple:
    """A re-run and the pids of the workers that ran its cases."""
    before = len(session.pool.history)
    rerun = session.rerun([str(f) for f in files])
    return rerun, {pid for _, pid in session.pool.history[before:]}


def test_a_record_is_the_same_cold_warm_and_right_after_a_kernel_failure(tmp_path):
    kernel_failure = tmp_path / "kernel_failure.yaml"
    kernel_failure.write_text(KERNEL_FAILURE)
    cold = _cold_records(GRU, tmp_path)
    session = _session()
    try:
        _rerun(session, [SOFTMAX])  # the worker has run other ops first
        warm, warm_pids = _rerun(session, [GRU])
        failed, failed_pids = _rerun(session, [kernel_failure])
        after, after_pids = _rerun(session, [GRU])
    finally:
        session.close()
    assert [r.status for r in failed.results] == ["error"] and "Gather" in failed.results[0].message, failed.results[0].message
    assert warm_pids == failed_pids, "the kernel failure ran on the warm worker"
    # MindSpore passes its health check after the Gather failure, so the warm worker goes on (docs/isolation.md);
    # what matters is that its records right after the failure are the cold run's
    assert after_pids == failed_pids, "a worker whose frameworks pass the health check is kept"
    assert _records(warm.results, warm.cases) == cold
    assert _records(after.results, after.cases) == cold


def test_an_edited_spec_is_never_answered_from_the_previous_run(tmp_path):
    """The same path, another op: the warm worker must resolve it afresh (its previous run's ops are gone)."""
    spec = tmp_path / "activation.yaml"
    spec.write_text(SOFTMAX.read_text())
    session = _session()
    try:
        first, first_pids = _rerun(session, [spec])
        spec.write_text(SOFTMAX.read_text().replace("nn.Softmax", "nn.LogSoftmax"))
        edited, edited_pids = _rerun(session, [spec])
    finally:
        session.close()
    assert first_pids == edited_pids, "both runs were on the same warm worker"
    records = _records(edited.results, edited.cases)
    assert records == _cold_records(spec, tmp_path)
    assert records != _records(first.results, first.cases)


class _Lines:
    """A process's stdout, line by line, with bounded waits."""

    def __init__(self, stream):
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in stream], daemon=True).start()

    def wait_for(self, text: str, timeout: float = WAIT_S, instead: str | None = None) -> list[str]:
        """The lines up to one holding `text`; an AssertionError at once on a line holding `instead`."""
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if text in line:
                return seen
            if instead and instead in line:
                break
        raise AssertionError(f"no line with {text!r} within {timeout} s; got:\n{''.join(seen)[-3000:]}")


def _children(pid: int) -> set[str]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return set(out.split())


def test_watch_reruns_the_edited_spec_on_its_warm_worker_then_everything_on_enter(tmp_path):
    spec = tmp_path / "GRUCell.yaml"
    spec.write_text(GRU.read_text())
    other = tmp_path / "Softmax.yaml"
    other.write_text(SOFTMAX.read_text())
    report = tmp_path / "watch.json"
    proc = subprocess.Popen([sys.executable, "-m", "eqcheck", "watch", str(tmp_path), "--json", str(report), "-q"],
                            cwd=ROOT, env=dict(os.environ, GLOG_v="3", PYTHONPATH=str(ROOT)), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    out = _Lines(proc.stdout)
    try:
        out.wait_for("re-ran 2 specs (7 cases)")
        workers = _children(proc.pid)
        assert len(workers) == 1, workers

        spec.write_text(GRU.read_text().replace("batch: [1, 64]", "batch: [1, 8]"))
        lines = out.wait_for("re-ran 1 spec (4 cases)")
        assert any("answered" in line and "after the change" in line for line in lines), lines
        ids = [case["id"] for case in json.loads(report.read_text())["cases"]]
        assert ids == [f"nn.GRUCell[bias={b},batch={n},float32]" for b in ("True", "False") for n in (1, 8)], ids
        assert _children(proc.pid) == workers, "the edit was answered by the warm worker"

        other.write_text("name: [broken")
        lines = out.wait_for("still watching")
        assert any("Softmax.yaml" in line for line in lines), lines
        other.write_text(SOFTMAX.read_text())
        out.wait_for("re-ran 1 spec (3 cases)")

        proc.stdin.write("\n")
        proc.stdin.flush()
        out.wait_for("re-ran 2 specs (7 cases)")
        assert _children(proc.pid) == workers
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        finally:
            proc.kill()
    assert code == 0
    for pid in workers:  # the warm worker ended with the watch
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_watch_explore_runs_torchs_samples_and_the_boundary_variants(tmp_path):
    """`watch --explore` selects as `run --explore` does: the explored samples and, with them, the boundary variants."""
    spec = tmp_path / "Softmax.yaml"
    spec.write_text(SOFTMAX.read_text())
    report = tmp_path / "watch.json"
    proc = subprocess.Popen([sys.executable, "-m", "eqcheck", "watch", str(spec), "--explore", "-k", "sample or odd",
                             "--json", str(report), "-q"], cwd=ROOT, env=dict(os.environ, GLOG_v="3", PYTHONPATH=str(ROOT)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        _Lines(proc.stdout).wait_for("re-ran 1 spec", instead="still watching")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        finally:
            proc.kill()
    document = json.loads(report.read_text())
    ids = [case["id"] for case in document["cases"]]
    samples = [i for i in ids if ",sample=" in i]  # the module's own samples, then those borrowed from softmax's entry
    assert samples[:2] == ["nn.Softmax[float32,sample=0]", "nn.Softmax[float32,sample=2]"], ids
    assert samples[2:] and all(",sample=softmax." in i for i in samples[2:]), ids
    assert ids == [*samples, "nn.Softmax[dim=0,float32,boundary=odd]"], ids
    assert document["explore"]["nn.Softmax"]["run"] == len(samples)  # the report says which samples ran, as run's does
