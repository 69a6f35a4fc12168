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
- `--resources torch=GPU:1`: per target. When both targets ask for the same resources (or none), one actor runs
  both sides of a case, asking for the sum. When they differ, each batch runs on a *lane* of two actors, each
  placed by Ray where its side's resources are: the first target's actor records every case (inputs, canonical
  weights, cotangents and each backend step, backends/recorded.py) and returns the records; Ray hands them through
  the object store to the second target's actor, which replays the first side and runs its own (execution/sides.py,
  as `--against`). The report is the one a single process gives.

The driver imports Ray but never a framework.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from typing import Iterator

from eqcheck.backends.targets import Target
from eqcheck.errors import EqcheckError, TargetUnavailable
from eqcheck.execution.executor import Executor
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


def parse_resources(text: str | None, targets) -> dict[str, dict[str, float]]:
    """'torch=GPU:1,mindspore=NPU:1' -> per target label, the Ray resources its side needs."""
    wanted: dict[str, dict[str, float]] = {t.label: {} for t in targets}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, request = part.partition("=")
        resource, _, amount = (x.strip() for x in request.partition(":"))
        matching = [t.label for t in targets if name.strip() in (t.name, t.label, t.framework)]
        if not matching or not resource:
            names = sorted({n for t in targets for n in (t.name, t.label, t.framework)})
            raise EqcheckError(f"'{part}' is not TARGET=RESOURCE:AMOUNT for one of {', '.join(names)}",
                               field="--resources", hint="e.g. --resources torch=GPU:1")
        try:
            value = float(amount or 1)
        except ValueError:
            raise EqcheckError(f"'{part}': the amount '{amount}' is not a number", field="--resources") from None
        if value <= 0:
            raise EqcheckError(f"'{part}': the amount must be positive", field="--resources")
        for label in matching[:1]:
            wanted[label][resource] = wanted[label].get(resource, 0.0) + value
    return wanted


def actor_options(resources: dict[str, float], threads: int) -> dict:
    """Ray actor options asking for `resources` (CPU and GPU by their own keywords); at least `threads` CPUs by default."""
    custom = dict(resources)
    options = {"max_restarts": 0, "max_task_retries": 0, "num_cpus": custom.pop("CPU", threads)}
    if "GPU" in custom:
        options["num_gpus"] = custom.pop("GPU")
    if custom:
        options["resources"] = custom
    return options


class CaseActor:
    """One Ray actor: a CaseRunner with its frameworks imported once, running batches of case indexes.

    role "both": both targets, as a local worker. Per-target resources split a case over two actors: role "record"
    runs the first target and returns each case's SideRecord (backends/recorded.py) through the object store;
    role "replay" answers the first target from those records and runs the second for real (execution/sides.py).
    """

    def __init__(self, role: str, targets, seed: int, weights_file: str | None, threads: int):
        os.environ.setdefault("GLOG_v", "3")
        self.role, self.targets, self.seed, self.weights_file, self.threads = role, targets, seed, weights_file, threads
        self.cases: list = []
        self.runner = None

    def start(self, cases: list, recorder: tuple | None = None) -> tuple:
        """('ready', environment, hosts), or the error that stops the run; a replaying actor waits for its recorder's."""
        import json

        from eqcheck.execution import sides
        from eqcheck.execution.runner import CaseRunner

        if recorder is not None and recorder[0] != "ready":
            return recorder
        self.cases = cases
        try:
            source = None
            if self.role == "replay":
                recorded = self.targets[0]
                source = sides.AgainstSide(self.seed, None, {
                    "target": {"name": recorded.name, "device": recorded.device, "label": recorded.label,
                               "framework": recorded.framework},
                    "environment": {"versions": recorder[1]["versions"], "devices": recorder[1]["devices"]}})
            self.runner = CaseRunner(self.targets, seed=self.seed, weights_file=self.weights_file, threads=self.threads,
                                     source=source)
            self.runner.start()
            self.runner.preflight(cases)
            hosts = (recorder[2] if recorder else []) + [socket.gethostname()]
            # plain types only: torch's version string is a TorchVersion
            return ("ready", json.loads(json.dumps(self.runner.environment(), default=str)), hosts)
        except EqcheckError as exc:
            return ("eqcheck_error", _error_message(exc))
        except Exception:  # noqa: BLE001 - reported to the driver, which fails the run with it
            return ("startup_failed", traceback.format_exc(limit=8))

    def run_batch(self, indexes: list[int], recorded: tuple | None = None) -> list[tuple] | tuple:
        """('result', CaseResult) per case, stopping at an `error` case after which the frameworks fail their health
        check (sent as 'last_result': the driver replaces this actor);
        a recording actor returns ('records', {case id: record bytes}) for the whole batch instead."""
        if recorded is not None:
            if recorded[0] != "records":
                return [recorded]
            self.runner.source.records = recorded[1]
        out = []
        for index in indexes:
            try:
                result = self.runner.run(self.cases[index])
            except EqcheckError as exc:
                out.append(("eqcheck_error", _error_message(exc)))
                break
            except Exception:  # noqa: BLE001 - an eqcheck bug on one case: an error row, then a fresh actor
                out.append(("internal", index, traceback.format_exc(limit=8)))
                break
            if result.status == ERROR and self.role != "record" and not self.runner.healthy():
                out.append(("last_result", result))  # a poisoned framework: the driver replaces this actor
                break
            out.append(("result", result))
        if self.role != "record":
            return out
        errors = [m for m in out if m[0] == "eqcheck_error"]
        if errors:
            return errors[0]
        records, self.runner.source.recorded = self.runner.source.recorded, {}
        return ("records", records)


def batches(cases: list) -> list[list[int]]:
    """Case indexes, one spec's cases together (each process pays an op's first call once), at most BATCH a batch."""
    out: list[list[int]] = []
    by_spec: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        by_spec.setdefault(case.spec.path, []).append(index)
    for indexes in by_spec.values():
        out.extend(indexes[i:i + BATCH] for i in range(0, len(indexes), BATCH))
    return out


class _Lane:
    """Where a batch runs: one actor with both targets, or (targets asking for different resources) a recording
    actor for the first target feeding, through the object store, a replaying actor that runs the second."""

    def __init__(self, executor: "RayExecutor"):
        ray, targets, cases = executor.ray, executor.targets, executor._cases_ref
        make = lambda role, side_targets, resources: ray.remote(CaseActor).options(
            **actor_options(resources, executor.threads)).remote(role, side_targets, executor.seed, executor.weights_file,
                                                                  executor.threads)
        if executor.split:
            first, second = targets
            recorder = make("record", [Target(first.name, first.device, "export"), Target(first.name, first.device, "mirror")],
                            executor.resources[first.label])
            replayer = make("replay", [Target(first.name, first.device, "replay"), second], executor.resources[second.label])
            self.actors = [recorder, replayer]
            self.ready = replayer.start.remote(cases, recorder.start.remote(cases))
        else:
            both = {}
            for wanted in executor.resources.values():
                for resource, amount in wanted.items():
                    both[resource] = both.get(resource, 0.0) + amount
            self.actors = [make("both", targets, both)]
            self.ready = self.actors[0].start.remote(cases)

    def submit(self, indexes: list[int]):
        if len(self.actors) == 2:
            recorder, replayer = self.actors
            return replayer.run_batch.remote(indexes, recorder.run_batch.remote(indexes))
        return self.actors[0].run_batch.remote(indexes)


class RayExecutor(Executor):
    """Runs cases on Ray actors; see the module docstring."""

    def __init__(self, targets, seed: int, weights_file: str | None = None, jobs: int = 0, timeout: float | None = None,
                 threads: int = 1, address: str | None = None, resources: str | None = None):
        self.ray = import_ray()
        self.targets, self.seed, self.weights_file, self.threads = list(targets), seed, weights_file, threads
        self.jobs = int(jobs)
        self.timeout = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
        self.address = address
        self.resources = parse_resources(resources, self.targets)
        # targets asking for different resources run on two actors (possibly two nodes); a recorded side cannot split
        first, second = (self.resources[t.label] for t in self.targets)
        self.split = first != second and not any(t.side for t in self.targets)
        self._owns_cluster = False
        self._cases: list = []
        self._lanes: list[_Lane] = []  # started or starting
        self._idle: list[_Lane] = []
        self._environment: dict = {}
        self.hosts: set[str] = set()  # where actors ran
        self.lane_count = 0
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

    def _spawn(self, starting: dict) -> None:
        lane = _Lane(self)
        self._lanes.append(lane)
        starting[lane.ready] = lane

    def start(self, cases: list) -> None:
        """Connect (or start a local cluster), start the actors and wait until each has imported the frameworks."""
        self._connect()
        self._cases = list(cases)
        self._cases_ref = self.ray.put(self._cases)
        per_lane = sum(actor_options(r, self.threads)["num_cpus"] for r in self.resources.values()) if self.split else self.threads
        count = self.jobs or max(1, int(self.ray.cluster_resources().get("CPU", 1) // max(per_lane, 1)))
        self.lane_count = count = min(count, len(batches(self._cases))) or 1
        starting: dict = {}
        for _ in range(count):
            self._spawn(starting)
        try:
            while starting:
                ready, _ = self.ray.wait(list(starting), num_returns=1, timeout=STARTUP_TIMEOUT_S)
                if not ready:
                    raise _startup_timeout()
                self._idle.append(self._started(ready[0], starting.pop(ready[0])))
        except BaseException:
            self.close()
            raise

    def _started(self, ref, lane: _Lane) -> _Lane:
        """The lane whose start answered `ref`, ready; exit 2 if it could not start."""
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
        self.hosts.update(message[2])
        return lane

    def environment(self) -> dict:
        return {**self._environment, "ray": {
            "address": self.address or "local", "actors": self.lane_count * (2 if self.split else 1),
            "split_sides": self.split, "restarts": self.restarts, "hosts": sorted(self.hosts),
            "resources": {label: wanted for label, wanted in self.resources.items() if wanted}}}

    def close(self) -> None:
        lanes, self._lanes, self._idle = self._lanes, [], []
        for lane in lanes:
            self._kill(lane)
        if self._owns_cluster:
            self.ray.shutdown()
            self._owns_cluster = False

    def _kill(self, lane: _Lane) -> None:
        for actor in lane.actors:
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception:  # noqa: BLE001 - already gone
                pass

    def _retire(self, lane: _Lane, starting: dict, pending: list) -> None:
        """Kill a lane's actors; a fresh lane takes its place while there is work left for it."""
        if lane in self._lanes:
            self._lanes.remove(lane)
        self._kill(lane)
        if pending:
            self.restarts += 1
            self._spawn(starting)

    # ---- running --------------------------------------------------------------------------------

    def run(self, cases: list) -> Iterator[CaseResult]:
        if [c.id for c in cases] != [c.id for c in self._cases]:
            raise ValueError("run() needs the cases start() was given")
        ray = self.ray
        pending = batches(self._cases)
        in_flight: dict = {}  # batch ref -> (lane, indexes, deadline)
        starting: dict = {}  # start ref -> replacement lane
        # a split lane runs each case twice in sequence (record, then replay against the other side)
        per_case = self.timeout * (2 if self.split else 1)
        try:
            while pending or in_flight:
                while self._idle and pending:
                    lane, indexes = self._idle.pop(), pending.pop(0)
                    in_flight[lane.submit(indexes)] = (lane, indexes, time.monotonic() + per_case * len(indexes))
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
                    lane, indexes, _ = in_flight.pop(ref)
                    yield from self._collect(ref, lane, indexes, pending, starting)
                now = time.monotonic()
                for ref, (lane, indexes, deadline) in list(in_flight.items()):
                    if now >= deadline:
                        del in_flight[ref]
                        self._retire(lane, starting, pending)
                        for index in indexes:
                            yield error_row(self._cases[index], self.targets,
                                            f"timed out: its batch of {len(indexes)} ran past {self.timeout:g} s a case; "
                                            "the Ray actor was killed")
        finally:
            self.close()

    def _collect(self, ref, lane: _Lane, indexes: list[int], pending: list, starting: dict) -> Iterator[CaseResult]:
        """The results of one finished (or lost) batch; the cases it did not reach go back to the queue."""
        ray = self.ray
        try:
            messages = ray.get(ref)
        except ray.exceptions.RayError as exc:  # an actor, its worker process or its node is gone
            self._retire(lane, starting, pending)
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
                recycle = kind == "last_result"
                yield message[1]
            done += 1
        if done < len(indexes):
            pending.insert(0, indexes[done:])
        if recycle:
            self._retire(lane, starting, pending)
        else:
            self._idle.append(lane)


def _startup_timeout() -> TargetUnavailable:
    return TargetUnavailable(f"no Ray actor finished importing the frameworks within {STARTUP_TIMEOUT_S:g} s",
                             field="--executor", hint="check that the cluster's nodes have the resources asked for")


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"[:300]
