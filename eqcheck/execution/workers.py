"""Worker processes: run cases so that a crash, an abort or a hang costs one case, not the run.

`WorkerPoolExecutor` has the same interface as `executor.InProcessExecutor` (start, environment, run,
close). Each worker is a *spawned* process (never forked after a framework import) that builds one
`CaseRunner`, imports the frameworks once and runs many cases, one at a time, as the parent hands them
out. The parent never imports a framework.

- A worker that dies while running a case (signal, abort, non-zero exit) turns that case into an `error`
  row naming the cause; a new worker takes its place and the run goes on.
- A case running longer than the timeout gets its worker killed and becomes an `error` row "timed out".
- After any case whose status is `error`, the worker is recycled (MindSpore PyNative can leave later,
  unrelated ops failing after one kernel error in the same process).
- A spec error raised in a worker (e.g. an op rejecting its init arguments) is sent back and raised again
  in the parent as the same EqcheckError class, so the CLI exits 2 as it would in-process.
- Results are yielded as they finish; `order_results` puts them back in case order for the report.

Test-only fault fixture: the worker entry point (and nothing else) reads EQCHECK_TEST_FAULT, a
';'-separated list of `kind:substring` (kind: segv, abort, exit, hang) and plants that fault before running
any case whose id contains the substring (a hang also creates the file EQCHECK_TEST_FAULT_FLAG names, if set).
Specs cannot reach it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
import traceback
from typing import Iterator

from eqcheck import errors
from eqcheck.execution import native_logs
from eqcheck.errors import EqcheckError, TargetUnavailable
from eqcheck.verdict.results import ERROR, CaseResult

DEFAULT_TIMEOUT_S = 300.0  # per case; generous: the slowest shipped case takes well under a second
STARTUP_TIMEOUT_S = 600.0  # a worker importing both frameworks on a loaded machine
FAULT_ENV = "EQCHECK_TEST_FAULT"


# ---- worker side --------------------------------------------------------------------------------


def _planted_fault(case_id: str) -> None:
    """Test-only: crash, abort, exit or hang before the case, as EQCHECK_TEST_FAULT says."""
    spec = os.environ.get(FAULT_ENV, "")
    for item in filter(None, (part.strip() for part in spec.split(";"))):
        kind, _, needle = item.partition(":")
        if not needle or needle not in case_id:
            continue
        if kind == "segv":
            import ctypes

            ctypes.string_at(0)  # a real segmentation fault
        elif kind == "abort":
            os.abort()
        elif kind.startswith("exit"):
            os._exit(int(kind[4:] or 3))
        elif kind == "hang":
            print(f"eqcheck test fault: hanging before {case_id}", file=sys.stderr, flush=True)  # into the worker's log
            if os.environ.get(FAULT_ENV + "_FLAG"):  # the worker's stderr is a log file: tell a waiting test this way
                open(os.environ[FAULT_ENV + "_FLAG"], "w").close()
            while True:
                time.sleep(3600)


def _error_message(exc: EqcheckError) -> tuple:
    return (type(exc).__name__, exc.reason, exc.file, exc.field, exc.hint)


def raise_error_message(payload: tuple) -> None:
    """Raise again, in the parent, the EqcheckError a worker (process or Ray actor) sent as `_error_message`."""
    cls_name, reason, file, field, hint = payload
    cls = getattr(errors, cls_name, EqcheckError)
    if not (isinstance(cls, type) and issubclass(cls, EqcheckError)):
        cls = EqcheckError
    raise cls(reason, file=file, field=field, hint=hint)


def worker_main(conn, targets, seed: int, weights_file: str | None, cases: list, threads: int = 1) -> None:
    """Entry point of a worker process: set up once, then run case indexes until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ.setdefault("GLOG_v", "3")
    from eqcheck.execution.native_logs import Capture
    from eqcheck.execution.runner import CaseRunner

    capture = Capture()  # fds 1 and 2 are the parent's log files: each case's native lines go on its record
    import faulthandler

    faulthandler.enable()  # a native crash leaves its Python stack in the log, which the crashed case's row carries
    try:
        runner = CaseRunner(targets, seed=seed, weights_file=weights_file, threads=threads)
        runner.start()
        runner.preflight(cases)
        capture.attribute(runner)
        # plain types only: torch's version string is a TorchVersion, and unpickling it would import torch here
        conn.send(("ready", json.loads(json.dumps(runner.environment(), default=str))))
    except EqcheckError as exc:
        conn.send(("eqcheck_error", None, _error_message(exc)))
        return
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the run with it
        conn.send(("startup_failed", None, traceback.format_exc(limit=8)))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent went away
            return
        if message is None:
            # Skip the interpreter's teardown: the frameworks' exit handlers take about half a second.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        index = message
        case = cases[index]
        capture.begin()
        _planted_fault(case.id)
        try:
            result = runner.run(case)
            capture.attach(result)
        except EqcheckError as exc:
            conn.send(("eqcheck_error", index, _error_message(exc)))
            return
        except Exception:  # noqa: BLE001 - an eqcheck bug on one case: an error row, then a fresh worker
            conn.send(("internal", index, traceback.format_exc(limit=8)))
            return
        conn.send(("result", index, result))


# ---- parent side --------------------------------------------------------------------------------


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "was still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"was killed by {name} (signal {-exitcode}, exit code {exitcode})"
    return f"exited with code {exitcode}"


class _Process:
    """A worker's OS process: the multiprocessing.Process calls this module uses, over subprocess.Popen.

    A fresh interpreter (`python -c`) rather than multiprocessing's spawn, which would re-run the caller's
    __main__ module in the worker (a script without a main guard would start its own run there).
    """

    def __init__(self, child_fd: int, stdout=None, stderr=None):
        import subprocess

        import eqcheck

        package_root = os.path.dirname(os.path.dirname(os.path.abspath(eqcheck.__file__)))  # the folder holding eqcheck/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env.setdefault("GLOG_v", "3")
        flags = subprocess._args_from_interpreter_flags()  # the parent's -S, -I, -X, -W (as multiprocessing passes them)
        self.popen = subprocess.Popen(
            [sys.executable, *flags, "-c", f"from eqcheck.execution.workers import _child_entry; _child_entry({child_fd})"],
            pass_fds=(child_fd,), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env, close_fds=True,
            start_new_session=True,  # a terminal's Ctrl-C goes to the parent, which stops the workers
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        import subprocess

        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def terminate(self) -> None:
        if self.is_alive():
            self.popen.terminate()

    def kill(self) -> None:
        if self.is_alive():
            self.popen.kill()


def _child_entry(fd: int) -> None:
    """`python -c` entry of a worker: read the set-up from the parent, then serve cases."""
    from multiprocessing.connection import Connection

    conn = Connection(fd)
    try:
        args = conn.recv()
    except EOFError:
        return
    worker_main(conn, *args)


class _Worker:
    def __init__(self, serial: int, args: tuple):
        import socket
        from multiprocessing.connection import Connection

        parent_sock, child_sock = socket.socketpair()
        self.conn = Connection(parent_sock.detach())
        # the worker's stdout and stderr: native log lines go on their case's record, never to the terminal
        self.logs = {stream: tempfile.TemporaryFile(prefix=f"eqcheck-worker-{stream}-") for stream in ("stdout", "stderr")}
        self.log_starts = {stream: 0 for stream in self.logs}
        try:
            self.process = _Process(child_sock.fileno(), stdout=self.logs["stdout"], stderr=self.logs["stderr"])
        finally:
            child_sock.close()
        self.serial = serial
        self.conn.send(args)
        self.started = time.monotonic()
        self.ready = False
        self.case: int | None = None  # index of the case in flight
        self.last_spec: str | None = None  # spec of the last case sent: keep its cases here
        self.ran_model = False  # it imported a model spec's user code: no other spec runs here afterwards
        self.deadline: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def send(self, index: int, timeout: float, spec: str | None = None) -> None:
        self.log_starts = {stream: os.fstat(handle.fileno()).st_size for stream, handle in self.logs.items()}
        self.case = index
        self.last_spec = spec
        self.deadline = time.monotonic() + timeout
        self.conn.send(index)

    def written(self) -> dict[str, str]:
        """What the worker wrote since the case in flight began (the whole log while it was starting)."""
        return {stream: native_logs.read_since(handle, self.log_starts[stream]) for stream, handle in self.logs.items()}

    def close_logs(self) -> None:
        for handle in self.logs.values():
            handle.close()

    def stop(self, grace: float = 2.0) -> None:
        """Ask politely (an idle worker), then terminate, then kill."""
        if self.process.is_alive() and self.case is None:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.process.join(grace if self.ready else 0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.close_logs()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        self.close_logs()


class WorkerPoolExecutor:
    """Runs cases in `jobs` spawned worker processes; see the module docstring."""

    def __init__(self, targets, seed: int, weights_file: str | None = None, jobs: int = 1,
                 timeout: float | None = None, threads: int = 1):
        self.threads = threads
        self.targets = list(targets)
        self.seed = seed
        self.weights_file = weights_file
        self.jobs = max(1, int(jobs))
        self.timeout = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
        self._workers: list[_Worker] = []
        self._cases: list = []
        self._environment: dict = {}
        self._serial = 0
        self.history: list[tuple[str, int | None]] = []  # (case id, worker pid), for tests and debugging
        self.restarts = 0

    # ---- lifecycle ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        self._serial += 1
        worker = _Worker(self._serial, (self.targets, self.seed, self.weights_file, self._cases, self.threads))
        self._workers.append(worker)
        return worker

    def start(self, cases: list) -> None:
        """Start the workers and wait until each has imported the frameworks and resolved every op."""
        self._cases = list(cases)
        for _ in range(min(self.jobs, len(self._cases)) or 1):
            self._spawn()
        try:
            while not all(w.ready for w in self._workers):
                self._poll(startup=True)
        except BaseException:
            self.close()
            raise

    def environment(self) -> dict:
        return self._environment

    def close(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()

    # ---- running --------------------------------------------------------------------------------

    def run(self, cases: list) -> Iterator[CaseResult]:
        if [c.id for c in cases] != [c.id for c in self._cases]:
            raise ValueError("run() needs the cases start() was given")
        pending = list(range(len(self._cases)))
        remaining = len(pending)
        try:
            while remaining:
                for worker in list(self._workers):
                    if worker.ready and worker.case is None and pending:
                        index = self._next_case(pending, worker)
                        if self._needs_fresh_worker(worker, index):
                            pending.insert(0, index)
                            self._retire(worker)
                            self._spawn()  # now: the poll below needs a worker to wait for
                            continue
                        worker.send(index, self.timeout, self._cases[index].spec.path)
                        worker.ran_model = worker.ran_model or self._cases[index].spec.is_model
                    elif worker.ready and worker.case is None and not pending:
                        self._retire(worker)
                for result in self._poll(startup=False):
                    remaining -= 1
                    yield result
                # keep `jobs` workers while there is work for them
                busy_or_ready = len(self._workers)
                for _ in range(min(self.jobs, len(pending)) - busy_or_ready):
                    self._spawn()
        finally:
            self.close()

    def _next_case(self, pending: list[int], worker: _Worker) -> int:
        """Keep a spec's cases on one worker: each process pays an op's first-call cost (MindSpore ~0.1 s) once.
        Measured on the shipped configs with --jobs 2: cases dealt in order 1.03x the time of --jobs 1, by spec 0.86x."""
        spec_of = lambda index: self._cases[index].spec.path
        others = {w.last_spec for w in self._workers if w is not worker}
        for preferred in (lambda i: spec_of(i) == worker.last_spec, lambda i: spec_of(i) not in others):
            for position, index in enumerate(pending):
                if preferred(index):
                    return pending.pop(position)
        return pending.pop(0)

    def _needs_fresh_worker(self, worker: _Worker, index: int) -> bool:
        """A model spec gets a worker of its own: user code may patch a framework globally (mindnlp replaces
        mindspore.nn.BatchNorm2d), which must not reach another spec's cases."""
        spec = self._cases[index].spec
        return worker.last_spec is not None and spec.path != worker.last_spec and (spec.is_model or worker.ran_model)

    def _retire(self, worker: _Worker) -> None:
        self._workers.remove(worker)
        worker.stop()

    def _replace(self, worker: _Worker, *, kill: bool) -> None:
        self._workers.remove(worker)
        worker.kill() if kill else worker.stop()
        self.restarts += 1

    def _poll(self, startup: bool) -> list[CaseResult]:
        """Wait for the next message, death or deadline; return the results it produced."""
        from multiprocessing.connection import wait

        now = time.monotonic()
        deadlines = [w.deadline if w.case is not None else (w.started + STARTUP_TIMEOUT_S if not w.ready else None)
                     for w in self._workers]
        upcoming = [d for d in deadlines if d is not None]
        wait_for = max(0.0, min(upcoming) - now) if upcoming else None
        handles = {}
        for worker in self._workers:
            handles[worker.conn] = worker  # a dead worker's end reads EOF
        ready = wait(list(handles), timeout=wait_for)
        results: list[CaseResult] = []
        seen = set()
        for handle in ready:
            worker = handles[handle]
            if id(worker) in seen or worker not in self._workers:
                continue
            seen.add(id(worker))
            results.extend(self._service(worker))
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.case is not None and worker.deadline is not None and now >= worker.deadline:
                index, written = worker.case, worker.written()
                self._replace(worker, kill=True)
                results.append(self._error_row(index, f"timed out after {self.timeout:g} s; the worker process was killed",
                                               written))
            elif not worker.ready and now >= worker.started + STARTUP_TIMEOUT_S:
                worker.kill()
                raise TargetUnavailable(f"a worker process did not finish importing the frameworks within {STARTUP_TIMEOUT_S:g} s",
                                        field="--jobs")
        return results

    def _service(self, worker: _Worker) -> list[CaseResult]:
        """Read what one worker has to say (or learn that it died)."""
        results = []
        while True:
            try:
                if not worker.conn.poll():
                    break
                message = worker.conn.recv()
            except (EOFError, OSError):  # the worker is gone or going: reap it
                worker.process.join(5)
                worker.process.kill()
                worker.process.join()
                break
            kind, index, payload = message if len(message) == 3 else (message[0], None, message[1])
            if kind == "ready":
                worker.ready = True
                self._environment = self._environment or payload
            elif kind == "result":
                worker.case, worker.deadline = None, None
                self.history.append((payload.id, worker.pid))
                results.append(payload)
                if payload.status == ERROR:
                    self._replace(worker, kill=False)  # recycle: a kernel error may poison later ops
                    return results
            elif kind == "eqcheck_error":
                raise_error_message(payload)
            elif kind == "startup_failed":
                raise TargetUnavailable(f"a worker process failed to start: {payload.strip().splitlines()[-1]}",
                                        field="--jobs")
            elif kind == "internal":
                self.history.append((self._cases[index].id, worker.pid))
                self._replace(worker, kill=False)
                last = payload.strip().splitlines()[-1] if payload.strip() else "unknown error"
                results.append(self._error_row(index, f"eqcheck failed inside the worker: {last}"))
                return results
        if not worker.process.is_alive() and worker in self._workers:
            cause = describe_exit(worker.process.exitcode)
            if worker.case is None:
                if not worker.ready:
                    last = _last_line(worker.written())
                    raise TargetUnavailable(f"a worker process {cause} while importing the frameworks"
                                            + (f" (its last words: {last})" if last else ""), field="--jobs")
                self._workers.remove(worker)
                worker.conn.close()
                return results
            index, written = worker.case, worker.written()
            self.history.append((self._cases[index].id, worker.pid))
            self._replace(worker, kill=True)
            results.append(self._error_row(index, f"the worker process {cause} while running this case", written))
        return results

    def _error_row(self, index: int, message: str, written: dict[str, str] | None = None) -> CaseResult:
        result = error_row(self._cases[index], self.targets, message)
        result.details.update(native_logs.crash_log(written or {}))
        return result


def _last_line(written: dict[str, str]) -> str | None:
    lines = [line.strip() for text in written.values() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else None


def error_row(case, targets, message: str) -> CaseResult:
    """The `error` record of a case whose worker (process or Ray actor) was lost, with the case's declared difference."""
    result = CaseResult(id=case.id, spec=case.spec.path, status=ERROR, targets=[t.label for t in targets], message=message)
    expected = case.expected_difference
    if expected:
        result.expected = {"reason": expected.reason, "link": expected.link}
    return result


def order_results(results: list[CaseResult], cases: list) -> list[CaseResult]:
    """Results in the order of `cases` (workers finish out of order); unknown ids keep their place at the end."""
    position: dict[str, int] = {}
    for i, case in enumerate(cases):
        position.setdefault(case.id, i)
    return sorted(results, key=lambda r: position.get(r.id, len(position)))
