"""Worker processes (--jobs, --timeout): a planted crash, abort or hang costs one case, the run goes on.

Faults are planted through EQCHECK_TEST_FAULT, which only the worker entry point reads (never a spec).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import CONFIGS, ROOT, read_json

GRU = CONFIGS / "nn" / "GRUCell.yaml"
SOFTMAX = CONFIGS / "nn" / "Softmax.yaml"


def _cases(*paths):
    from eqcheck.cases.sweep import expand
    from eqcheck.cases import load_specs

    return [case for spec in load_specs([str(p) for p in paths]) for case in expand(spec)]


def _strip_timings(document: dict) -> dict:
    document = json.loads(json.dumps(document))
    document.pop("created", None)
    document["summary"].pop("wall_time_s", None)
    for case in document["cases"]:
        case.pop("duration_s", None)
    return document


def test_planted_segv_abort_and_hang_each_cost_one_case(monkeypatch):
    """Two workers; a segfault, an abort and a hang each become an error row; the fourth case passes."""
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.workers import WorkerPoolExecutor, order_results

    monkeypatch.setenv("EQCHECK_TEST_FAULT", "segv:bias=True,batch=1;abort:bias=False,batch=1;hang:bias=False,batch=64")
    cases = _cases(GRU)
    executor = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=2, timeout=6)
    executor.start(cases)
    assert set(executor.environment()["versions"]) >= {"torch", "mindspore"}
    results = {r.id: r for r in order_results(list(executor.run(cases)), cases)}
    assert not executor._workers, "every worker is stopped at the end"

    by_point = lambda text: next(r for i, r in results.items() if text in i)
    segv, abort, hang, ok = (by_point(p) for p in ("bias=True,batch=1", "bias=False,batch=1", "bias=False,batch=64", "bias=True,batch=64"))
    assert segv.status == "error" and "SIGSEGV" in segv.message and "exit code -11" in segv.message, segv.message
    assert segv.details["crash"] == {"exit_code": -11, "signal": "SIGSEGV"}  # as data: pages never parse the message
    assert abort.status == "error" and "SIGABRT" in abort.message, abort.message
    assert abort.details["crash"]["signal"] == "SIGABRT" and "crash" not in hang.details
    assert hang.status == "error" and "timed out after 6 s" in hang.message, hang.message
    assert ok.status == "pass", ok.message
    assert list(results) == [c.id for c in cases]
    # every failing case took its worker with it: no pid runs a case after an error
    pids = [pid for _, pid in executor.history]
    for position, (case_id, pid) in enumerate(executor.history):
        if results[case_id].status == "error":
            later = pids[position + 1:]
            assert pid not in later, f"worker {pid} was reused after the error in {case_id}"
    assert executor.restarts == 3


def _softmax_with_an_error_first():
    """torch.nn.Softmax(dim=5) on a 3-d input raises inside the call: an `error` row, not a crash; two passes follow."""
    from dataclasses import replace

    from eqcheck.cases.sweep import expand

    spec = _cases(SOFTMAX)[0].spec
    return expand(replace(spec, sweep={"dim": (5, 1, -1)}, path=spec.path))


def test_a_worker_whose_frameworks_pass_the_health_check_goes_on_after_an_error(monkeypatch):
    """An error row alone costs no new process: the frameworks answer a forward op and a gradient right."""
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.workers import WorkerPoolExecutor

    monkeypatch.delenv("EQCHECK_TEST_FAULT", raising=False)
    cases = _softmax_with_an_error_first()
    executor = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=1)
    executor.start(cases)
    results = list(executor.run(cases))
    assert [r.status for r in results] == ["error", "pass", "pass"], [(r.status, r.message) for r in results]
    assert len({pid for _, pid in executor.history}) == 1 and executor.restarts == 0, executor.history


def test_a_worker_failing_the_health_check_after_an_error_is_replaced(monkeypatch):
    """A framework poisoned by the error (planted: the check after that case fails) never runs another case."""
    from eqcheck.backends.targets import parse_targets
    from eqcheck.execution.workers import WorkerPoolExecutor

    monkeypatch.setenv("EQCHECK_TEST_FAULT", "sick:dim=5")
    cases = _softmax_with_an_error_first()
    executor = WorkerPoolExecutor(parse_targets("torch,mindspore", "cpu"), seed=0, jobs=1)
    executor.start(cases)
    results = list(executor.run(cases))
    assert [r.status for r in results] == ["error", "pass", "pass"], [(r.status, r.message) for r in results]
    pids = [pid for _, pid in executor.history]
    assert pids[0] != pids[1] and pids[1] == pids[2], pids
    assert executor.restarts == 1


def test_mindspore_passes_its_health_check_after_real_kernel_errors_and_recovery():
    """The check itself: a refused Conv2d inside a gradient and a raise mid-trace leave PyNative computing right."""
    import numpy as np

    from eqcheck.backends.mindspore_pynative import MindSporePyNativeBackend

    backend = MindSporePyNativeBackend()
    backend.activate()
    ms = backend.ms
    conv = ms.nn.Conv2d(3, 4, 3)
    with pytest.raises(Exception, match="C_in"):
        ms.value_and_grad(lambda x: conv(x).sum())(ms.Tensor(np.ones((1, 5, 8, 8), np.float32)))
    backend.recover()
    assert backend.healthy()


def test_cli_jobs_crash_exit_code_and_identical_reports(cli, tmp_path, monkeypatch):
    """--jobs 2 reports exactly what the in-process run reports; a planted exit is an error row and exit 1."""
    monkeypatch.delenv("EQCHECK_TEST_FAULT", raising=False)
    inproc, pooled, crashed = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    assert cli("run", "-q", SOFTMAX, GRU, "--json", inproc).exit_code == 0
    assert cli("run", "-q", SOFTMAX, GRU, "--jobs", "2", "--json", pooled).exit_code == 0
    assert _strip_timings(read_json(inproc)) == _strip_timings(read_json(pooled))

    monkeypatch.setenv("EQCHECK_TEST_FAULT", "exit7:Softmax[dim=1")
    result = cli("run", "-q", SOFTMAX, "--jobs", "1", "--json", crashed)
    assert result.exit_code == 1, result.output
    cases = {c["id"]: c for c in read_json(crashed)["cases"]}
    assert [c["status"] for c in cases.values()] == ["pass", "error", "pass"]
    assert "exited with code 7 while running this case" in cases["nn.Softmax[dim=1,float32]"]["message"]


def test_spec_error_inside_a_worker_is_exit_2(cli, copy_config, monkeypatch):
    monkeypatch.delenv("EQCHECK_TEST_FAULT", raising=False)
    spec = copy_config("nn/Softmax.yaml", {"init: {axis: $dim}": "init: {axis: $dim, bogus_arg: 1}"})
    result = cli("run", "-q", spec, "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert "mindspore.init" in result.output and "Traceback" not in result.output


def test_timeout_alone_selects_a_worker(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("EQCHECK_TEST_FAULT", "hang:Softmax[dim=0")
    report = tmp_path / "r.json"
    started = time.monotonic()
    result = cli("run", "-q", SOFTMAX, "--timeout", "3", "--json", report)
    assert result.exit_code == 1, result.output
    statuses = [(c["status"], c["message"]) for c in read_json(report)["cases"]]
    assert statuses[0] == ("error", "timed out after 3 s; the worker process was killed")
    assert [s for s, _ in statuses[1:]] == ["pass", "pass"]
    assert time.monotonic() - started < 60


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_writes_the_partial_report_and_exits_130(tmp_path):
    report = tmp_path / "partial.json"
    flag = tmp_path / "hanging"
    env = dict(os.environ, EQCHECK_TEST_FAULT="hang:Softmax[dim=-1", EQCHECK_TEST_FAULT_FLAG=str(flag), GLOG_v="3")
    proc = subprocess.Popen([sys.executable, "-m", "eqcheck", "run", "-q", str(SOFTMAX), "--jobs", "1", "--json", str(report)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not flag.exists():  # the planted hang announces itself once two cases are done
        assert proc.poll() is None, "eqcheck ended before the planted hang"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    document = read_json(report)
    assert document["complete"] is False
    assert [c["status"] for c in document["cases"]] == ["pass", "pass"]
    assert "interrupted after 2 of 3 cases" in err
    assert "Traceback" not in err
    leftover = subprocess.run(["pgrep", "-f", "eqcheck.execution.workers import _child_entry"], capture_output=True, text=True)
    workers = [pid for pid in leftover.stdout.split() if _child_of_env(pid, env["EQCHECK_TEST_FAULT"])]
    assert not workers, f"worker processes left behind: {workers}"


def _child_of_env(pid: str, marker: str) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return marker.encode() in handle.read()
    except OSError:
        return False


def test_the_parent_process_never_imports_a_framework():
    probe = (
        "import sys\nfrom eqcheck.cli import main\n"
        f"try:\n    main(['run', '-q', {str(SOFTMAX)!r}, '--jobs', '1'])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('HEAVY=' + ','.join(m for m in ('torch', 'mindspore') if m in sys.modules), 'CODE=%s' % code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, GLOG_v="3"))
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY= CODE=0", (proc.stdout, proc.stderr)


def test_a_crash_declared_for_its_very_variant_is_the_expected_difference(cli, write_spec, tmp_path, monkeypatch):
    """A native crash on the one variant a spec declares it for (a known MindSpore segfault) keeps the run green;
    the same crash on a case only a spec-wide declaration covers stays an error."""
    text = open(SOFTMAX).read()
    declared = write_spec(text + '\nedge_differences: [{edge: "stale", reason: "MindSpore segfaults here (measured)", symptom: crash, signal: SIGSEGV}]\n')
    monkeypatch.setenv("EQCHECK_TEST_FAULT", "segv:dim=0,float32,boundary=stale")
    report = tmp_path / "r.json"
    cli("run", declared, "--boundary", "-k", "boundary=stale or boundary=odd", "-j", "1", "--json", report)
    statuses = {c["id"]: c["status"] for c in read_json(report)["cases"]}
    assert statuses["nn.Softmax[dim=0,float32,boundary=stale]"] == "expected_difference", statuses
    assert statuses["nn.Softmax[dim=0,float32,boundary=odd]"] == "pass"
    spec_wide = write_spec(text + '\nexpected_difference: {reason: "numbers differ", rows: {out: {symptom: value, max_abs: 1}}}\n', "wide.yaml")
    cli("run", spec_wide, "--boundary", "-k", "boundary=stale", "-j", "1", "--json", report)
    (case,) = read_json(report)["cases"]
    assert case["status"] == "error" and "SIGSEGV" in case["message"]
