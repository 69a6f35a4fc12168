"""--executor ray: cases spread over a Ray cluster, behind the executor interface (start, environment, run, close).

Each Ray actor builds one `CaseRunner`, imports the frameworks once and resolves every op, then runs *batches*
of cases (one spec's cases together, at most `BATCH` of them) as the driver hands them out; the cases travel
once, through the object store, and a batch is a list of indexes. Results stream back batch by batch into the
same reporter as local workers (progress, JSON, JUnit), and `order_results` restores case order.

- An actor (or its node) that dies turns the cases of the batch it held into `error` rows naming the cause; a
  fresh actor takes its place. A batch running past `timeout` x its case count gets its actor killed, same rows.
  The run never waits on a lost actor: every wait has a deadline.
- After a case whose status is `error`, the actor is replaced and the rest of its batch runs elsewhere (as local
  workers are recycled: a MindSpore kernel error can poison later ops in the same process).
- A spec error inside an actor is raised again in the driver as the same EqcheckError (exit 2).
- `--resources torch=GPU:1`: each actor asks Ray for the resources of both targets (it runs both sides of a
  case), so it is placed on a node that has them all. Splitting the two sides of a case over two actors on
  different nodes is not done here (docs/scale-out.md); across machines without a shared cluster use
  `--export-side` / `--against`.

The driver imports Ray but never a framework.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from typing import Iterator

from eqcheck.errors import EqcheckError, TargetUnavailable
from eqcheck.execution.workers import (
    DEFAULT_TIMEOUT_S, STARTUP_TIMEOUT_S, _error_message, error_row, raise_error_message,
)
from eqcheck.verdict.results import ERROR, CaseResult

BATCH = 4  # cases per Ray task: big enough to amortise a task round trip, small enough to stream progress


def import_ray():
    """Ray, or exit 2 saying how to get it (it is an optional extra)."""
    try:
        import ray
    except ImportError as exc:
        raise EqcheckError(f"--executor ray needs Ray, which is not installed here ({exc})", field="--executor",
                           hint="pip install 'eqcheck[ray]' (Ray >= 2.9), or run with the local executor") from None
    return ray


def parse_resources(text: str | None, targets) -> dict[str, float]:
    """'torch=GPU:1,mindspore=NPU:1' -> the Ray resources one actor needs to run both targets (summed per resource)."""
    from eqcheck.errors import EqcheckError

    wanted: dict[str, float] = {}
    names = {n for t in targets for n in (t.name, t.label, t.framework)}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        target, _, request = part.partition("=")
        resource, _, amount = request.partition(":")
        if target.strip() not in names or not resource.strip():
            raise EqcheckError(f"'{part}' is not TARGET=RESOURCE:AMOUNT for one of {', '.join(sorted(names))}",
                               field="--resources", hint="e.g. --resources torch=GPU:1")
        try:
            value = float(amount or 1)
        except ValueError:
            raise EqcheckError(f"'{part}': the amount '{amount}' is not a number", field="--resources") from None
        if value <= 0:
            raise EqcheckError(f"'{part}': the amount must be positive", field="--resources")
        wanted[resource.strip()] = wanted.get(resource.strip(), 0.0) + value
    return wanted


class CaseActor:
    """One Ray actor: a CaseRunner with both frameworks imported once, running batches of case indexes."""

    def __init__(self, targets, seed: int, weights_file: str | None, threads: int):
        os.environ.setdefault("GLOG_v", "3")
        self.targets, self.seed, self.weights_file, self.threads = targets, seed, weights_file, threads
        self.cases: list = []
        self.runner = None

    def start(self, cases: list) -> tuple:
        from eqcheck.execution.runner import CaseRunner

        import json

        self.cases = cases
        try:
            self.runner = CaseRunner(self.targets, seed=self.seed, weights_file=self.weights_file, threads=self.threads)
            self.runner.start()
            self.runner.preflight(cases)
            # plain types only: torch's version string is a TorchVersion
            return ("ready", json.loads(json.dumps(self.runner.environment(), default=str)), socket.gethostname())
        except EqcheckError as exc:
            return ("eqcheck_error", _error_message(exc))
        except Exception:  # noqa: BLE001 - reported to the driver, which fails the run with it
            return ("startup_failed", traceback.format_exc(limit=8))

    def run_batch(self, indexes: list[int]) -> list[tuple]:
        """('result', CaseResult) per case; stops after an `error` case (the driver replaces this actor)."""
        out = []
        for index in indexes:
            try:
                result = self.runner.run(self.cases[index])
            except EqcheckError as exc:
                out.append(("eqcheck_error", _error_message(exc)))
                return out
            except Exception:  # noqa: BLE001 - an eqcheck bug on one case: an error row, then a fresh actor
                out.append(("internal", index, traceback.format_exc(limit=8)))
                return out
            out.append(("result", result))
            if result.status == ERROR:
                return out
        return out

    def pid(self) -> int:
        return os.getpid()


def batches(cases: list) -> list[list[int]]:
    """Case indexes, one spec's cases together (each process pays an op's first call once), at most BATCH a batch."""
    out: list[list[int]] = []
    by_spec: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        by_spec.setdefault(case.spec.path, []).append(index)
    for indexes in by_spec.values():
        out.extend(indexes[i:i + BATCH] for i in range(0, len(indexes), BATCH))
    return out


class RayExecutor:
    """Runs cases on Ray actors; see the module docstring."""

    def __init__(self, targets, seed: int, weights_file: str | None = None, jobs: int = 0, timeout: float | None = None,
                 threads: int = 1, address: str | None = None, resources: str | None = None):
        self.ray = import_ray()
        self.targets, self.seed, self.weights_file, self.threads = list(targets), seed, weights_file, threads
        self.jobs = int(jobs)
        self.timeout = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
        self.address = address
        self.resources = parse_resources(resources, self.targets)
        self._owns_cluster = False
        self._cases: list = []
        self._actors: list = []  # started or starting
        self._environment: dict = {}
        self.hosts: set[str] = set()  # where actors ran
        self.actor_count = 0
        self.restarts = 0

    # ---- lifecycle ------------------------------------------------------------------------------

    def _connect(self) -> None:
        ray = self.ray
        if ray.is_initialized():
            return  # a caller's cluster (tests, notebooks): use it, leave it running
        import logging

        try:
            ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR, include_dashboard=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise TargetUnavailable(f"cannot reach the Ray cluster at {self.address or 'a new local instance'}: {exc}",
                                    field="--address", hint="start one with `ray start --head`, or omit --address") from None
        self._owns_cluster = True

    def _actor_options(self) -> dict:
        options = {"max_restarts": 0, "max_task_retries": 0, "num_cpus": self.threads}
        custom = dict(self.resources)
        if "CPU" in custom:
            options["num_cpus"] = custom.pop("CPU")
        if "GPU" in custom:
            options["num_gpus"] = custom.pop("GPU")
        if custom:
            options["resources"] = custom
        return options

    def _spawn(self):
        actor = self.ray.remote(CaseActor).options(**self._actor_options()).remote(
            self.targets, self.seed, self.weights_file, self.threads)
        ready = actor.start.remote(self._cases_ref)
        self._actors.append(actor)
        return actor, ready

    def start(self, cases: list) -> None:
        """Connect (or start a local cluster), start the actors and wait until each has imported the frameworks."""
        self._connect()
        self._cases = list(cases)
        self._cases_ref = self.ray.put(self._cases)
        count = self.jobs or max(1, int(self.ray.cluster_resources().get("CPU", 1) // max(self.threads, 1)))
        count = min(count, len(batches(self._cases))) or 1
        self.actor_count = count
        starting = {ready: actor for actor, ready in (self._spawn() for _ in range(count))}
        self._idle: list = []
        try:
            while starting:
                ready, _ = self.ray.wait(list(starting), num_returns=1, timeout=STARTUP_TIMEOUT_S)
                if not ready:
                    raise _startup_timeout()
                self._idle.append(self._started(ready[0], starting.pop(ready[0])))
        except BaseException:
            self.close()
            raise

    def _started(self, ref, actor):
        """The actor whose start() answered `ref`, ready; exit 2 if it could not start."""
        ray = self.ray
        try:
            message = ray.get(ref)
        except ray.exceptions.RayError as exc:
            raise TargetUnavailable(f"a Ray actor died while importing the frameworks: {_first_line(exc)}",
                                    field="--executor") from None
        if message[0] == "eqcheck_error":
            raise_error_message(message[1])
        if message[0] == "startup_failed":
            raise TargetUnavailable(f"a Ray actor failed to start: {message[1].strip().splitlines()[-1]}", field="--executor")
        self._environment = self._environment or message[1]
        self.hosts.add(message[2])
        return actor

    def environment(self) -> dict:
        return {**self._environment, "ray": {"address": self.address or "local", "actors": self.actor_count,
                                              "restarts": self.restarts, "hosts": sorted(self.hosts),
                                              "resources": self.resources}}

    def close(self) -> None:
        actors, self._actors = self._actors, []
        for actor in actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass
        if self._owns_cluster:
            self.ray.shutdown()
            self._owns_cluster = False

    def _retire(self, actor) -> None:
        if actor in self._actors:
            self._actors.remove(actor)
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass

    # ---- running --------------------------------------------------------------------------------

    def run(self, cases: list) -> Iterator[CaseResult]:
        if [c.id for c in cases] != [c.id for c in self._cases]:
            raise ValueError("run() needs the cases start() was given")
        ray = self.ray
        pending = batches(self._cases)
        in_flight: dict = {}  # batch ref -> (actor, indexes, deadline)
        starting: dict = {}  # start ref -> replacement actor
        try:
            while pending or in_flight:
                while self._idle and pending:
                    actor, indexes = self._idle.pop(), pending.pop(0)
                    ref = actor.run_batch.remote(indexes)
                    in_flight[ref] = (actor, indexes, time.monotonic() + self.timeout * len(indexes))
                waiting = list(in_flight) + list(starting)
                if not waiting:
                    raise TargetUnavailable("no Ray actor is left to run the remaining cases", field="--executor")
                now = time.monotonic()
                deadline = min((d for _, _, d in in_flight.values()), default=now + STARTUP_TIMEOUT_S)
                ready, _ = ray.wait(waiting, num_returns=1, timeout=max(0.0, deadline - now))
                if not ready and not in_flight:
                    raise _startup_timeout()
                for ref in ready:
                    if ref in starting:
                        self._idle.append(self._started(ref, starting.pop(ref)))
                        continue
                    actor, indexes, _ = in_flight.pop(ref)
                    yield from self._collect(ref, actor, indexes, pending, starting)
                now = time.monotonic()
                for ref, (actor, indexes, deadline) in list(in_flight.items()):
                    if now >= deadline:
                        del in_flight[ref]
                        self._retire(actor)
                        self._replace(starting, pending)
                        for index in indexes:
                            yield error_row(self._cases[index], self.targets,
                                            f"timed out: its batch of {len(indexes)} ran past {self.timeout:g} s a case; "
                                            "the Ray actor was killed")
        finally:
            self.close()

    def _replace(self, starting: dict, pending: list) -> None:
        """A fresh actor for a retired one, while there is work left for it."""
        if not pending:
            return
        self.restarts += 1
        actor, ready = self._spawn()
        starting[ready] = actor

    def _collect(self, ref, actor, indexes: list[int], pending: list, starting: dict) -> Iterator[CaseResult]:
        """The results of one finished (or lost) batch; the cases it did not reach go back to the queue."""
        ray = self.ray
        try:
            messages = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the actor, its worker process or its node is gone
            self._retire(actor)
            self._replace(starting, pending)
            for index in indexes:
                yield error_row(self._cases[index], self.targets,
                                f"the Ray actor running this case was lost: {_first_line(exc)}")
            return
        done = 0
        recycle = False
        for message in messages:
            kind = message[0]
            if kind == "eqcheck_error":
                raise_error_message(message[1])
            if kind == "internal":
                last = message[2].strip().splitlines()[-1] if message[2].strip() else "unknown error"
                yield error_row(self._cases[message[1]], self.targets, f"eqcheck failed inside the Ray actor: {last}")
                recycle = True
            else:
                recycle = message[1].status == ERROR
                yield message[1]
            done += 1
        if done < len(indexes):
            pending.insert(0, indexes[done:])
        if recycle:
            self._retire(actor)
            self._replace(starting, pending)
        else:
            self._idle.append(actor)


def _startup_timeout() -> TargetUnavailable:
    return TargetUnavailable(f"no Ray actor finished importing the frameworks within {STARTUP_TIMEOUT_S:g} s",
                             field="--executor", hint="check that the cluster's nodes have the resources asked for")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
