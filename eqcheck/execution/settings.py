"""One record of what a run was asked to do, built once from the command line and handed to the executor, the
split-run manifest and the report.

Adding an option is one field here (and its click option): `spec=True` makes it replace the spec key of the same
name in every case (and the two halves of a split run must agree on it); `report=False` keeps it out of the
report's `settings` (how a run executes, not what it computes, so reports stay comparable).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

ALWAYS, IF_SET, NEVER = "always", "if set", "never"  # when a field appears in the report's settings


def _setting(default: Any = None, *, spec: bool = False, shared: bool = False, report: str = IF_SET):
    return field(default=default, metadata={"spec": spec, "shared": shared or spec, "report": report})


@dataclass(frozen=True)
class RunSettings:
    paths: tuple[str, ...] = _setting((), report=ALWAYS)
    seed: int | None = _setting(report=NEVER)  # the report keeps it at the top level
    targets: tuple = _setting((), report=NEVER)  # backends.targets.Target records; reported as labels
    selection: str | None = _setting(report=ALWAYS)
    dtypes: str | None = _setting(shared=True, report=ALWAYS)
    weights_file: str | None = _setting(report=ALWAYS)
    inputs: str | None = _setting(shared=True)  # --inputs FILE: inputs by name from real data (cases/inputs_file.py)
    threads: int = _setting(1, report=ALWAYS)
    edges: bool | None = _setting(shared=True)  # True or None, as recorded in manifests
    boundary: bool | None = _setting(shared=True)  # --boundary (cases/boundary.py); True or None
    explore: bool | None = _setting(shared=True)  # --explore (cases/explore.py, with the boundary variants); True or None
    # replace the spec's own keys (None: each spec keeps its own)
    grad: bool | None = _setting(spec=True)
    reference: str | None = _setting(spec=True)
    trials: int | None = _setting(spec=True)
    error_budget: bool | None = _setting(spec=True)
    strict_precision: bool | None = _setting(spec=True)
    repeat: int | None = _setting(spec=True)
    strict_logs: bool | None = _setting()  # a case whose kernel logged an error fails (execution/native_logs.py)
    # how cases are executed
    jobs: int | None = _setting(report=NEVER)  # 0: in this process (debugging); None here means the same
    timeout: float | None = _setting(report=NEVER)
    executor: str = _setting("local", report=NEVER)  # reported only when not local (below)
    fresh: bool | None = _setting(report=NEVER)  # each case in a worker process of its own (execution/workers.py)
    address: str | None = _setting(report=NEVER)
    resources: str | None = _setting(report=NEVER)

    @classmethod
    def from_options(cls, paths, options: dict) -> "RunSettings":
        """The record from `run`'s keyword options (those named like a field; the rest are the gate's)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in options.items() if k in names and v is not None}
        if values.get("edges"):  # edge variants are compared twice (nondeterminism shows on odd inputs)
            values["repeat"] = max(values.get("repeat") or 1, 2)
        else:
            values.pop("edges", None)
        if values.get("executor", "local") == "local":  # (Ray: no --jobs means an actor per free share of the cluster)
            values.setdefault("jobs", 1)  # a native crash costs one case: cases run in a worker unless -j 0 says otherwise
        for flag in ("boundary", "explore"):
            if not values.get(flag):
                values.pop(flag, None)
        return cls(paths=tuple(paths), **values)

    def replace(self, **changes) -> "RunSettings":
        return dataclasses.replace(self, **changes)

    def spec_overrides(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.metadata["spec"] and getattr(self, f.name) is not None}

    def shared(self) -> dict[str, Any]:
        """What both halves of a split run must agree on (recorded in the manifest)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata["shared"]}

    def report(self) -> dict[str, Any]:
        """The report's `settings` entries this record owns (the gate and split runs add theirs)."""
        out: dict[str, Any] = {"targets": [t.label for t in self.targets]}
        for f in dataclasses.fields(self):
            value, when = getattr(self, f.name), f.metadata["report"]
            if when == ALWAYS or (when == IF_SET and value is not None):
                out[f.name] = list(value) if isinstance(value, tuple) else value
        if self.executor != "local":
            out["executor"] = self.executor
        return out

    def apply(self, cases: list) -> list:
        """The cases with this run's overrides of their specs' keys; the cases carry them, worker processes included."""
        if self.inputs:
            from eqcheck.cases.inputs_file import with_input_file

            cases = with_input_file(cases, self.inputs)
        changes = self.spec_overrides()
        if not changes:
            return cases
        specs = {}
        for case in cases:
            if id(case.spec) not in specs:
                specs[id(case.spec)] = dataclasses.replace(case.spec, **changes)
        return [dataclasses.replace(case, spec=specs[id(case.spec)]) for case in cases]

    def make_executor(self, keep_warm: bool = False):
        """The executor these settings ask for: this process, worker processes or a Ray cluster; `keep_warm`: worker
        processes kept between runs (eqcheck watch, execution/watch.py)."""
        common = dict(seed=self.seed, weights_file=self.weights_file, threads=self.threads)
        if keep_warm:
            from eqcheck.execution.workers import WorkerPoolExecutor

            return WorkerPoolExecutor(self.targets, jobs=self.jobs or 1, timeout=self.timeout, keep_warm=True, **common)
        if self.executor == "ray":
            from eqcheck.execution.ray_executor import RayExecutor

            return RayExecutor(self.targets, jobs=self.jobs or 0, timeout=self.timeout, address=self.address,
                               resources=self.resources, **common)
        if self.jobs or self.timeout is not None or self.fresh:
            from eqcheck.execution.workers import WorkerPoolExecutor

            return WorkerPoolExecutor(self.targets, jobs=self.jobs or 1, timeout=self.timeout, fresh=bool(self.fresh), **common)
        from eqcheck.execution.executor import InProcessExecutor
        from eqcheck.execution.runner import CaseRunner

        return InProcessExecutor(CaseRunner(self.targets, **common))
