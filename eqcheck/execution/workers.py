"""Worker processes: run cases so that a crash, an abort or a hang costs one case, not the run.

`WorkerPoolExecutor` has the same interface as `executor.InProcessExecutor` (start, environment, run,
close), plus `launch`: spawn the workers before the specs are loaded, so their framework import (~2.2 s)
overlaps spec parsing and case expansion. Each worker is a *spawned* interpreter (never forked after a
framework import) that imports the frameworks once and then serves runs:

- `start(cases)` sends the run's plan (its cases) to every worker; a worker builds a fresh `CaseRunner` for
  it (only the imported modules carry over from an earlier run) and resolves every op, so a typo is exit 2
  before any case runs.
- Cases go out in batches of one spec, so a worker stays on warm kernels (an op's first call costs MindSpore
  ~0.1 s); a batch holds about `BATCH_S` of that spec's measured case cost, and the next batch is sent
  before the current one ends, so a worker never waits for the parent. Once no spec is left untouched, an
  idle worker takes the tail of the largest remaining spec: the run ends with both workers busy.
- A worker that dies while running a case (signal, abort, non-zero exit) turns that case into an `error`
  row naming the cause; its unstarted cases go back to the queue and a new worker takes its place.
- A case running longer than the timeout gets its worker killed and becomes an `error` row "timed out".
- After a case whose status is `error` the worker asks its frameworks whether they still compute right
  (`Backend.healthy`: MindSpore PyNative runs a forward op and a gradient with known answers, since a kernel
  error can leave later, unrelated ops failing in the same process). A worker that fails the check ends
  itself and is replaced; from the first recycle on, the pool keeps a spare worker imported, so the next
  replacement costs no import wait. (Every error used to recycle: ~3.5 s of import per error row, which
  dominated explored runs; the statuses and numbers of the 3,915 explored cases of every spec with an error
  were compared under both rules, docs/isolation.md.)
- A spec error raised in a worker (e.g. an op rejecting its init arguments) is sent back and raised again
  in the parent as the same EqcheckError class, so the CLI exits 2 as it would in-process.
- Results are yielded as they finish; `order_results` puts them back in case order for the report.
- `keep_warm=True` (`eqcheck watch`) keeps `jobs` workers imported between runs, replacing a recycled one
  at once, so the next run starts warm.

Test-only fault fixture: the worker entry point (and nothing else) reads EQCHECK_TEST_FAULT, a
';'-separated list of `kind:substring` (kind: segv, abort, exit, hang; sick: the health check after that
case fails) and plants that fault before running any case whose id contains the substring (a hang also creates the file EQCHECK_TEST_FAULT_FLAG names, if set).
Specs cannot reach it.
"""

from __future__ import annotations

import collections
import json
import os
import pickle
import re
import signal
import sys
import tempfile
import time
import traceback
from typing import Iterator

from eqcheck import errors
from eqcheck.execution import limits
from eqcheck.execution import native_logs
from eqcheck.errors import EqcheckError, TargetUnavailable
from eqcheck.execution.executor import Executor
from eqcheck.verdict import declarations
from eqcheck.verdict.results import ERROR, EXPECTED_DIFFERENCE, CaseResult

DEFAULT_TIMEOUT_S = 300.0  # per case; generous: the slowest shipped case takes well under a second
STARTUP_TIMEOUT_S = 600.0  # a worker importing both frameworks on a loaded machine
FAULT_ENV = "EQCHECK_TEST_FAULT"
BATCH_S = 0.05  # measured cost of one batch: small enough that the run's tail stays balanced
MAX_BATCH = 64  # cases per batch, whatever their cost
FIRST_GUESS_S = 0.01  # cost of a case before any of its spec (or of the run) was measured


# ---- worker side --------------------------------------------------------------------------------


def _planted(case_id: str) -> list[str]:
    """Test-only: the fault kinds EQCHECK_TEST_FAULT plants for this case."""
    items = (part.strip().partition(":") for part in os.environ.get(FAULT_ENV, "").split(";"))
    return [kind for kind, _, needle in items if needle and needle in case_id]


def _planted_fault(case_id: str) -> None:
    """Test-only: crash, abort, exit or hang before the case, as EQCHECK_TEST_FAULT says."""
    for kind in _planted(case_id):
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


def _leave(code: int = 0) -> None:
    """End the worker without the interpreter's teardown: the frameworks' exit handlers take about half a second."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def worker_main(conn, targets, seed: int, weights_file: str | None, threads: int = 1) -> None:
    """Entry point of a worker process: import the frameworks once, then serve plans and batches until told to stop.

    Messages from the parent: ("plan", (plan id, cases)), ("batch", [case indexes]), None (stop).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    os.environ.setdefault("GLOG_v", "3")
    from eqcheck.execution.native_logs import Capture
    from eqcheck.execution.runner import CaseRunner

    capture = Capture()  # fds 1 and 2 are the parent's log files: each case's native lines go on its record
    import faulthandler

    faulthandler.enable()  # a native crash leaves its Python stack in the log, which the crashed case's row carries

    def fresh_runner() -> CaseRunner:
        # A new runner per plan: resolved ops, recorded sides and the last trial record never reach the next run.
        runner = CaseRunner(targets, seed=seed, weights_file=weights_file, threads=threads)
        runner.start()
        capture.attribute(runner)
        return runner

    try:
        runner = fresh_runner()
        # plain types only: torch's version string is a TorchVersion, and unpickling it would import torch there
        conn.send(("ready", None, json.loads(json.dumps(runner.environment(), default=str))))
    except EqcheckError as exc:
        conn.send(("eqcheck_error", None, _error_message(exc)))
        return
    except Exception:  # noqa: BLE001 - reported to the parent, which fails the run with it
        conn.send(("startup_failed", None, traceback.format_exc(limit=8)))
        return
    cases: list = []
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent went away
            return
        if message is None:
            _leave(0)
        kind, payload = message
        if kind == "plan":
            plan_id, cases = payload
            try:
                runner = fresh_runner()
                runner.preflight(cases)
            except EqcheckError as exc:  # a typo in a spec: nothing ran, the worker stays usable for the next plan
                cases = []
                conn.send(("plan_error", plan_id, _error_message(exc)))
                continue
            except Exception:  # noqa: BLE001
                conn.send(("startup_failed", None, traceback.format_exc(limit=8)))
                return
            conn.send(("planned", plan_id, None))
            continue
        for index in payload:  # a batch
            case = cases[index]
            capture.begin()
            _planted_fault(case.id)
            try:
                result = runner.run(case)
                capture.attach(result)
            except EqcheckError as exc:
                conn.send(("eqcheck_error", index, _error_message(exc)))
                _leave(0)
            except Exception:  # noqa: BLE001 - an eqcheck bug on one case: an error row, then a fresh worker
                conn.send(("internal", index, traceback.format_exc(limit=8)))
                _leave(0)
            if result.status == ERROR and ("sick" in _planted(case.id) or not runner.healthy()):
                # a framework that no longer computes right after this error: a fresh process goes on
                conn.send(("last_result", index, (result, capture.position())))
                _leave(0)
            conn.send(("result", index, (result, capture.position())))


# ---- parent side --------------------------------------------------------------------------------


def exit_record(exitcode: int | None) -> dict:
    """How a worker ended, as data (a crashed case's `crash`): its exit code and the signal that killed it, if one did."""
    if exitcode is None:
        return {}
    if exitcode >= 0:
        return {"exit_code": exitcode}
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = f"signal {-exitcode}"
    return {"exit_code": exitcode, "signal": name}


def describe_exit(exitcode: int | None) -> str:
    ended = exit_record(exitcode)
    if not ended:
        return "was still running"
    if "signal" in ended:
        return f"was killed by {ended['signal']} (signal {-exitcode}, exit code {exitcode})"
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
        env[limits.PARENT_ENV] = str(os.getpid())  # the worker dies with this process (limits.die_with_parent)
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

    limits.apply_in_worker()
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
        self.ready = False  # frameworks imported
        self.plan: int | None = None  # the plan it has resolved (start() numbers them)
        self.plan_sent: int | None = None
        self.queue: collections.deque[int] = collections.deque()  # case indexes sent; the first is running
        self.case_started = 0.0  # when queue[0] began (the previous result's arrival)
        self.last_spec: str | None = None  # spec of the last batch sent: keep its cases here
        self.ran_model = False  # it imported a model spec's user code: no other spec runs here afterwards

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def case(self) -> int | None:
        """The case running now, if any."""
        return self.queue[0] if self.queue else None

    def case_begins(self, log_starts: dict[str, int] | None = None) -> None:
        """The next queued case starts now: its deadline counts from here, its share of the worker's logs from
        `log_starts` (where the worker says the last case ended: it may already be writing the next one's lines)."""
        self.case_started = time.monotonic()
        self.log_starts = log_starts or {stream: os.fstat(handle.fileno()).st_size for stream, handle in self.logs.items()}

    def send_batch(self, indexes: list[int], spec: str, is_model: bool = False) -> None:
        if not self.queue:
            self.case_begins()
        self.queue.extend(indexes)
        self.last_spec = spec
        self.ran_model = self.ran_model or is_model
        self.conn.send(("batch", indexes))

    def written(self) -> dict[str, str]:
        """What the worker wrote since the case in flight began (the whole log while it was starting)."""
        return {stream: native_logs.read_since(handle, self.log_starts[stream]) for stream, handle in self.logs.items()}

    def close_logs(self) -> None:
        for handle in self.logs.values():
            handle.close()

    def stop(self, grace: float = 2.0) -> None:
        """Ask politely (an idle worker), then terminate, then kill."""
        if self.process.is_alive() and not self.queue:
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


class WorkerPoolExecutor(Executor):
    """Runs cases in `jobs` spawned worker processes; see the module docstring."""

    def __init__(self, targets, seed: int, weights_file: str | None = None, jobs: int = 1,
                 timeout: float | None = None, threads: int = 1, keep_warm: bool = False, fresh: bool = False):
        self.threads = threads
        self.fresh = fresh  # --fresh: one case per worker process (a verdict must not depend on the cases before it)
        self.targets = list(targets)
        self.seed = seed
        self.weights_file = weights_file
        self.jobs = max(1, int(jobs))
        self.timeout = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
        self.keep_warm = keep_warm
        self._workers: list[_Worker] = []
        self._cases: list = []
        self._plan_id = 0
        self._plan_blob: bytes | None = None  # the pickled plan, sent to each worker as it becomes ready
        self._pending: dict[str, collections.deque[int]] = {}  # spec path -> case indexes not yet sent
        self._costs: dict[str, list[float]] = {}  # spec path -> measured seconds per case (this run)
        self._environment: dict = {}
        self._serial = 0
        self.history: list[tuple[str, int | None]] = []  # (case id, worker pid), for tests and debugging
        self.restarts = 0
        self._spare = fresh  # after a first recycle (--fresh: from the start): keep one more worker imported, ready to take the next one's place

    # ---- lifecycle ------------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        self._serial += 1
        worker = _Worker(self._serial, (self.targets, self.seed, self.weights_file, self.threads))
        self._workers.append(worker)
        return worker

    def launch(self) -> None:
        """Start the workers' framework import now; `start` hands them the cases once they are loaded."""
        for _ in range(self.jobs - len(self._workers)):
            self._spawn()

    def start(self, cases: list) -> None:
        """Send the run's cases to every worker; return once one of them has imported the frameworks and
        resolved every op (a spec error is raised here, before any case runs)."""
        self._cases = list(cases)
        self._plan_id += 1
        self._plan_blob = pickle.dumps(("plan", (self._plan_id, self._cases)), protocol=pickle.HIGHEST_PROTOCOL)
        self._pending = {}
        for index, case in enumerate(self._cases):
            self._pending.setdefault(case.spec.path, collections.deque()).append(index)
        self._costs = {}
        try:
            self.launch()
            if not self.keep_warm:
                for worker in self._workers[max(1, len(self._cases)):]:  # fewer cases than workers: spare the cores
                    self._workers.remove(worker)
                    worker.kill()
            for worker in list(self._workers):
                self._send_plan(worker)
            self._replenish()
            while not any(w.plan == self._plan_id for w in self._workers):
                self._poll()
                self._replenish()  # a worker that died importing (kept warm) or was recycled is replaced
        except EqcheckError:
            if not self.keep_warm:
                self.close()
            raise
        except BaseException:
            self.close()
            raise

    def environment(self) -> dict:
        return self._environment

    def close(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()

    def _send_plan(self, worker: _Worker) -> None:
        if worker.ready and self._plan_blob is not None and worker.plan_sent != self._plan_id:
            worker.plan_sent = self._plan_id
            try:
                worker.conn.send_bytes(self._plan_blob)
            except (OSError, ValueError):  # it died while idle (kept warm): a new one takes its place
                self._workers.remove(worker)
                worker.kill()

    # ---- running --------------------------------------------------------------------------------

    def run(self, cases: list) -> Iterator[CaseResult]:
        if [c.id for c in cases] != [c.id for c in self._cases]:
            raise ValueError("run() needs the cases start() was given")
        remaining = len(self._cases)
        finished = False
        try:
            while remaining:
                for worker in list(self._workers):
                    busy = sum(bool(w.queue) for w in self._workers)
                    if worker.plan == self._plan_id and len(worker.queue) <= 1 and (worker.queue or busy < self.jobs):
                        self._feed(worker)
                    if not self.keep_warm and worker.plan == self._plan_id and not worker.queue and not self._unsent():
                        self._retire(worker)
                if not any(w.queue for w in self._workers) and not self._unsent():  # a scheduling bug: fail, never hang
                    raise RuntimeError(f"{remaining} cases were neither sent to a worker nor finished")
                for result in self._poll():
                    remaining -= 1
                    yield result
                self._replenish()
            finished = True
        finally:
            if not self.keep_warm:
                self.close()
            elif not finished:  # interrupted: a worker still holding cases would answer the next run with them
                for worker in [w for w in self._workers if w.queue]:
                    self._workers.remove(worker)
                    worker.kill()
            self._plan_blob = None if not self.keep_warm else self._plan_blob

    def _unsent(self) -> int:
        return sum(len(q) for q in self._pending.values())

    def _replenish(self) -> None:
        """Keep `jobs` workers while there is work for them (always, when kept warm), and a spare once one was recycled:
        an `--edges` run recycles a worker after each of its error rows, and each replacement imports for ~2.2 s."""
        busy = sum(bool(w.queue) for w in self._workers)
        wanted = self.jobs if self.keep_warm else min(self.jobs, self._unsent() + busy)
        if self._spare and not self.keep_warm and self._unsent():
            wanted += 1
        for _ in range(wanted - len(self._workers)):
            self._send_plan(self._spawn())

    def _cost(self, spec: str) -> float:
        measured = self._costs.get(spec)
        if measured:
            return sum(measured) / len(measured)
        everything = [c for costs in self._costs.values() for c in costs]
        return sum(everything) / len(everything) if everything else FIRST_GUESS_S

    def _feed(self, worker: _Worker) -> None:
        """Send the worker its next batch: more of its spec, else a spec nobody runs, else the tail of the largest."""
        busy = {w.last_spec for w in self._workers if w is not worker and w.queue}
        pending = {spec: queue for spec, queue in self._pending.items() if queue}
        if not pending:
            return
        spec, steal = worker.last_spec, False
        if spec not in pending:
            spec = next((s for s in pending if s not in busy), None)
        if spec is None:
            spec, steal = max(pending, key=lambda s: len(pending[s]) * self._cost(s)), True
        queue = pending[spec]
        is_model = self._cases[queue[0]].spec.is_model
        if self.fresh and worker.last_spec is not None or worker.last_spec not in (None, spec) and (is_model or worker.ran_model):
            # A model spec gets a worker of its own: user code may patch a framework globally (mindnlp replaces
            # mindspore.nn.BatchNorm2d), which must not reach another spec's cases. A fresh one replaces this one.
            if not worker.queue:
                self._retire(worker)
                self._send_plan(self._spawn())  # now: the run loop's poll needs a worker to wait for
            return
        size = 1 if self.fresh else max(1, min(len(queue), MAX_BATCH, round(BATCH_S / self._cost(spec))))
        if steal:  # take the end, so the worker already on this spec keeps going from the front
            size = max(1, min(size, len(queue) // 2 or 1))
            batch = [queue.pop() for _ in range(size)][::-1]
        else:
            batch = [queue.popleft() for _ in range(size)]
        worker.send_batch(batch, spec, is_model)

    def _give_back(self, worker: _Worker, skip_first: bool) -> None:
        """A worker's unstarted cases go back to the front of their specs' queues."""
        unstarted = list(worker.queue)[1 if skip_first else 0:]
        worker.queue.clear()
        for index in reversed(unstarted):
            self._pending.setdefault(self._cases[index].spec.path, collections.deque()).appendleft(index)

    def _retire(self, worker: _Worker) -> None:
        self._workers.remove(worker)
        worker.stop()

    def _replace(self, worker: _Worker, *, kill: bool) -> None:
        self._give_back(worker, skip_first=False)
        self._workers.remove(worker)
        worker.kill() if kill else worker.stop()
        self.restarts += 1
        self._spare = True

    def _poll(self) -> list[CaseResult]:
        """Wait for the next message, death or deadline; return the results it produced."""
        from multiprocessing.connection import wait

        now = time.monotonic()
        deadlines = [w.case_started + self.timeout if w.queue else (w.started + STARTUP_TIMEOUT_S if w.plan is None else None)
                     for w in self._workers]
        upcoming = [d for d in deadlines if d is not None]
        wait_for = max(0.0, min(upcoming) - now) if upcoming else None
        handles = {worker.conn: worker for worker in self._workers}  # a dead worker's end reads EOF
        ready = wait(list(handles), timeout=wait_for)
        results: list[CaseResult] = []
        for handle in ready:
            worker = handles[handle]
            if worker in self._workers:
                results.extend(self._service(worker))
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.queue and now >= worker.case_started + self.timeout:
                index, written = worker.queue[0], worker.written()
                self.history.append((self._cases[index].id, worker.pid))
                self._give_back(worker, skip_first=True)
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
                kind, index, payload = worker.conn.recv()
            except (EOFError, OSError):  # the worker is gone or going: reap it
                worker.process.join(5)
                worker.process.kill()
                worker.process.join()
                break
            if kind == "ready":
                worker.ready = True
                self._environment = self._environment or payload
                self._send_plan(worker)
            elif kind == "planned":
                worker.plan = index
            elif kind == "plan_error":
                worker.plan = None
                if index == self._plan_id:  # an older plan's error was already raised by the worker that answered first
                    raise_error_message(payload)
            elif kind in ("result", "last_result"):
                now = time.monotonic()
                payload, log_ends = payload
                worker.queue.popleft()
                self._costs.setdefault(payload.spec, []).append(now - worker.case_started)
                worker.case_begins(log_ends or None)  # {} when the worker cannot see its logs
                self.history.append((payload.id, worker.pid))
                results.append(payload)
                if kind == "last_result":
                    self._replace(worker, kill=False)  # it ends itself: its framework failed the health check
                    return results
            elif kind == "eqcheck_error":
                if index is not None:
                    self._replace(worker, kill=True)
                raise_error_message(payload)
            elif kind == "startup_failed":
                raise TargetUnavailable(f"a worker process failed to start: {payload.strip().splitlines()[-1]}",
                                        field="--jobs")
            elif kind == "internal":
                self.history.append((self._cases[index].id, worker.pid))
                self._give_back(worker, skip_first=True)
                self._replace(worker, kill=False)
                last = payload.strip().splitlines()[-1] if payload.strip() else "unknown error"
                results.append(self._error_row(index, f"eqcheck failed inside the worker: {last}"))
                return results
        if not worker.process.is_alive() and worker in self._workers:
            cause = describe_exit(worker.process.exitcode)
            if not worker.queue:
                if not worker.ready:
                    last = _last_line(worker.written())
                    raise TargetUnavailable(f"a worker process {cause} while importing the frameworks"
                                            + (f" (its last words: {last})" if last else ""), field="--jobs")
                self._workers.remove(worker)
                worker.conn.close()
                return results
            index, written = worker.queue[0], worker.written()
            self.history.append((self._cases[index].id, worker.pid))
            self._give_back(worker, skip_first=True)
            self._replace(worker, kill=True)
            crashed = self._error_row(index, f"the worker process {cause} while running this case", written, crashed=True)
            crashed.details["crash"] = exit_record(worker.process.exitcode)
            results.append(crashed)
        return results

    def _error_row(self, index: int, message: str, written: dict[str, str] | None = None, crashed: bool = False) -> CaseResult:
        if crashed:  # an allocation past the worker's RLIMIT_AS often ends the process: name the limit
            message = limits.memory_note(message, "\n".join((written or {}).values()), limits.memory_limit())
        result = error_row(self._cases[index], self.targets, message, crashed)
        result.details.update(native_logs.crash_log(written or {}))
        return result


def _last_line(written: dict[str, str]) -> str | None:
    lines = [line.strip() for text in written.values() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else None


def error_row(case, targets, message: str, crashed: bool = False) -> CaseResult:
    """The `error` record of a case whose worker (process or Ray actor) was lost, with the case's declared difference.
    A declaration naming this very variant (`edge: stale@empty_batch`) or sample (`when:`) makes a native crash
    (`crashed`) the expected difference; a spec-wide declaration (about numbers), a timeout or an eqcheck error does not."""
    result = CaseResult(id=case.id, spec=case.spec.path, status=ERROR, targets=[t.label for t in targets], message=message)
    killed = re.search(r"killed by (SIG[A-Z0-9]+)", message)
    failure = declarations.Failure(declarations.CRASH, message, killed and killed.group(1)) if crashed else None
    if failure is not None:
        result.details["measured"] = declarations.observed([], failure)
    expected = case.expected_difference
    if expected:
        result.expected = declarations.record(expected)
        if expected.fingerprinted:  # a declared crash matches by its signal; anything else declared is contradicted
            result.status, result.message = declarations.case_status(ERROR, message, expected, [], failure, False)
            return result
        edge = getattr(case, "edge", None)
        named = (edge is not None and expected.names_variant(edge)) or (getattr(case, "sample", None) is not None and expected.when)
        if crashed and named:
            result.status = EXPECTED_DIFFERENCE
    return result


def order_results(results: list[CaseResult], cases: list) -> list[CaseResult]:
    """Results in the order of `cases` (workers finish out of order); unknown ids keep their place at the end."""
    position: dict[str, int] = {}
    for i, case in enumerate(cases):
        position.setdefault(case.id, i)
    return sorted(results, key=lambda r: position.get(r.id, len(position)))
