"""One run from its RunSettings: the cases they select, the executor they ask for, and every result handed to the
observers (--strict-logs, the gate, the progress bar, the JSON writer, the console). `eqcheck run` and `eqcheck watch`
are click functions over this; a case goes from here to the report and never back to cli.py.

An observer's hooks, each a no-op in `Observer`, are called in the order the observers are given, except `finish`,
called in reverse (the last to see a result finishes first: the view renders the report before the gate adds its
baseline diff and decides the exit code):

    select(cases) -> cases      before anything runs (the gate's --shard)
    settings() -> dict          the report's `settings` entries an observer owns
    start(environment)          the executor imported the frameworks
    on_result(result)           one per case, as each finishes (in finishing order)
    stop()                      no more results (also on Ctrl-C or a spec error)
    annotate(document)          the report is built (cases in case order), not yet written
    finish(document, code) -> code    a complete run: render, write the extra formats, change the exit code
    interrupted(document, done, total)   Ctrl-C: the partial report

The report itself is built by a function the caller passes (report/document.py's build_document): this layer
never imports report/ or gate/.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from eqcheck.errors import EqcheckError
from eqcheck.execution.settings import RunSettings

EXIT_INTERRUPTED = 130


@dataclass
class Loaded:
    specs: list
    cases: list
    explored: dict | None  # --explore: per spec, the samples run and not run (the report's `explore`)


def load_cases(paths, *, selection: str | None = None, dtypes: str | None = None, edges: bool = False,
               boundary: bool = False, explore: bool = False) -> Loaded:
    """The specs under `paths` and their selected cases: the sweep, then torch's samples (explore), the edge variants
    (edges), the boundary variants (boundary), then -k."""
    from eqcheck.cases import load_specs
    from eqcheck.cases.boundary import with_boundary
    from eqcheck.cases.edges import with_edges
    from eqcheck.cases.selection import compile_selection
    from eqcheck.cases.sweep import expand
    from eqcheck.dtypes import FLOAT_DTYPES

    dtype_list = None
    if dtypes:
        dtype_list = tuple(d.strip() for d in dtypes.split(",") if d.strip())
        for d in dtype_list:
            if d not in FLOAT_DTYPES:
                raise EqcheckError(f"unknown dtype '{d}' (choose from {', '.join(FLOAT_DTYPES)})", field="--dtype")
    matches = compile_selection(selection)
    specs = load_specs(list(paths))
    explored, counts = {}, None
    if explore:
        from eqcheck.cases.explore import explore_cases

        explored, counts = explore_cases(specs, dtype_list)
    cases = [case for spec in specs for case in expand(spec, dtype_list) + explored.get(spec.name, [])]
    cases = with_edges(cases) if edges else cases
    cases = [case for case in (with_boundary(cases, specs) if boundary else cases) if matches(case.id)]
    if not cases:
        raise EqcheckError(f"no case id matches -k '{selection}'" if selection else "the specs define no cases",
                           field="-k" if selection else "PATHS")
    return Loaded(specs, cases, counts)


class Observer:
    """A no-op for every hook (module docstring); an observer overrides the ones it needs."""

    def select(self, cases: list) -> list:
        return cases

    def settings(self) -> dict[str, Any]:
        return {}

    def start(self, environment: dict[str, Any]) -> None:
        pass

    def on_result(self, result) -> None:
        pass

    def stop(self) -> None:
        pass

    def annotate(self, document: dict) -> None:
        pass

    def finish(self, document: dict, code: int) -> int:
        return code

    def interrupted(self, document: dict, done: int, total: int) -> None:
        pass


class StrictLogs(Observer):
    """--strict-logs: a case during which a kernel logged an error line fails (execution/native_logs.py)."""

    def on_result(self, result) -> None:
        from eqcheck.execution import native_logs

        native_logs.enforce_strict(result)


def exit_code(results: list) -> int:
    """1 if any case failed, erred, passed against its declaration or was nondeterministic; else 0."""
    from eqcheck.verdict.results import FAILING

    return 1 if any(r.status in FAILING for r in results) else 0


class RunSession:
    """One `eqcheck run` (or one warm pool of `eqcheck watch`): targets and seed resolved once, then `run`."""

    def __init__(self, settings: RunSettings, *, targets: str = "torch,mindspore", device: str = "cpu",
                 export_side: str | None = None, against: str | None = None):
        from eqcheck.backends.targets import parse_targets
        from eqcheck.cases import draws

        self.started = time.perf_counter()
        self.export_side, self.against = export_side, against
        self._targets, self._device = targets, device
        self.split_settings: dict[str, Any] = {}  # export_side | against, in the report's settings
        self.manifest: dict | None = None  # --against: the folder's manifest
        self.executor = None
        self._executor_open = contextlib.ExitStack()
        self.cases: list = []
        self.explored: dict | None = None
        if not self.split:  # a split run's targets and seed come with its folder (split_targets)
            settings = settings.replace(targets=tuple(parse_targets(targets, device)), seed=draws.resolve_seed(settings.seed))
        self.settings = settings

    @property
    def split(self) -> bool:
        """One target runs here, the other is recorded (--export-side) or replayed (--against)."""
        return bool(self.export_side or self.against)

    # ---- before the run -------------------------------------------------------------------------

    def case_selection(self) -> dict[str, Any]:
        """load_cases' keywords from the settings: --explore brings the boundary variants with it."""
        s = self.settings
        return {"selection": s.selection, "dtypes": s.dtypes, "edges": bool(s.edges),
                "boundary": bool(s.boundary or s.explore), "explore": bool(s.explore)}

    def load(self, paths=None) -> list:
        """The selected cases of `paths` (default: the settings'), with the run's overrides of their specs' keys."""
        loaded = load_cases(self.settings.paths if paths is None else paths, **self.case_selection())
        self.explored = loaded.explored
        return self.settings.apply(loaded.cases)

    def launch(self, executor=None):
        """The executor (the settings' own unless one is given), launched: worker processes import the frameworks
        while the specs load. Closed by `close`, whatever ends the session."""
        self.executor = self._executor_open.enter_context(executor or self.settings.make_executor())
        return self.executor

    def close(self) -> None:
        self._executor_open.close()

    def __enter__(self) -> "RunSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prepare(self) -> list:
        """Launch (where the targets are known already), load the cases, settle a split run's targets and seed."""
        s = self.settings
        if not self.split and s.executor == "local":
            self.launch()
        cases = self.load()
        if self.split:
            from eqcheck.cases import draws
            from eqcheck.execution.sides import split_targets

            targets, seed, self.split_settings, self.manifest = split_targets(
                self._targets, self._device, export_side=self.export_side, against=self.against,
                weights_file=s.weights_file, seed=s.seed)
            self.settings = s.replace(targets=tuple(targets), seed=draws.resolve_seed(seed))
        if s.executor != "ray" and (s.address or s.resources):
            raise EqcheckError("--address and --resources need --executor ray", field="--executor")
        self.cases = cases
        return cases

    # ---- the run ----------------------------------------------------------------------------------

    def run(self, observers: list[Observer], build_document: Callable[..., dict]) -> int:
        """Run the prepared cases; every result goes to the observers; the exit code (130 on Ctrl-C)."""
        for observer in observers:
            self.cases = observer.select(self.cases)
        cases = self.cases
        if self.against:
            from eqcheck.execution.sides import check_against

            check_against(self.against, self.manifest, seed=self.settings.seed, settings=self.settings.shared(), cases=cases)
        executor = self.executor or self.launch()
        executor.start(cases)
        for observer in observers:
            observer.start(executor.environment())
        results: list = []
        report = lambda complete: self._report(results, cases, observers, build_document, complete=complete)
        try:
            for result in executor.run(cases):
                for observer in observers:
                    observer.on_result(result)
                results.append(result)
        except KeyboardInterrupt:
            executor.close()  # stop worker processes before reporting
            partial = report(False)
            for observer in observers:
                observer.interrupted(partial, len(results), len(cases))
            return EXIT_INTERRUPTED
        except BaseException as exc:
            if isinstance(exc, EqcheckError) and results:
                report(False)  # keep what was computed before the spec error
            else:
                self._stop(observers)
            raise
        return self._finish(report(True), results, observers)

    def rerun(self, results: list, cases: list, seconds: float, observers: list[Observer],
              build_document: Callable[..., dict]) -> int:
        """`eqcheck watch`: one re-run's results through the observers, as a complete report; its exit code."""
        for result in results:
            for observer in observers:
                observer.on_result(result)
        document = self._report(results, cases, observers, build_document, complete=True, seconds=seconds)
        return self._finish(document, results, observers)

    def _report(self, results: list, cases: list, observers: list[Observer], build_document: Callable[..., dict], *,
                complete: bool, seconds: float | None = None) -> dict:
        """The observers stopped, the report built (cases in case order) and annotated by them."""
        from eqcheck.execution.workers import order_results  # workers finish out of order; reports keep case order
        from eqcheck.spec.allowlist import allowed_modules

        self._stop(observers)
        results[:] = order_results(results, cases)
        modules = allowed_modules()
        settings = {**self.settings.report(), **({"allowed_modules": list(modules)} if modules else {}),
                    **{k: v for observer in observers for k, v in observer.settings().items()}, **self.split_settings}
        document = build_document(results, environment=self.executor.environment(), seed=self.settings.seed,
                                  settings=settings, complete=complete, explore=self.explored,
                                  wall_time_s=time.perf_counter() - self.started if seconds is None else seconds)
        for observer in observers:
            observer.annotate(document)
        return document

    @staticmethod
    def _stop(observers: list[Observer]) -> None:
        for observer in observers:
            observer.stop()

    @staticmethod
    def _finish(document: dict, results: list, observers: list[Observer]) -> int:
        code = exit_code(results)
        for observer in reversed(observers):
            code = observer.finish(document, code)
        return code


class ExportManifest(Observer):
    """--export-side: once every case file is written, the manifest completes the folder (execution/sides.py)."""

    def __init__(self, session: RunSession, host_environment: Callable[[], dict]):
        self.session = session
        self.host_environment = host_environment

    def finish(self, document: dict, code: int) -> int:
        import platform

        from eqcheck.execution.sides import write_manifest

        session = self.session
        recorded, ran = session.settings.targets[0], session.executor.environment()
        write_manifest(session.export_side, target=recorded, seed=session.settings.seed, settings=session.settings.shared(),
                       cases=session.cases, environment={
                           **self.host_environment(), "host": platform.node(), "versions": ran.get("versions", {}),
                           "devices": {recorded.label: ran.get("devices", {}).get(recorded.label, [])}})
        return code
