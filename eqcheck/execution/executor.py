"""How cases get run in this process (`--jobs 0`, for debugging); workers.py runs them isolated, the default."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # worker and Ray parents import this module without the runner (and numpy)
    from eqcheck.cases.sweep import Case
    from eqcheck.execution.runner import CaseRunner
    from eqcheck.verdict.results import CaseResult


class Executor(ABC):
    """Runs a run's cases somewhere. `launch` and `close` bracket its processes (no-ops where it has none); as a
    context manager it launches on entry and closes on exit, whatever ends the block."""

    def launch(self) -> None:
        """Start what the cases will run on ahead of `start` (worker processes importing the frameworks)."""

    def close(self) -> None:
        """Stop what `launch` or `start` started; safe to call twice."""

    def __enter__(self) -> "Executor":
        self.launch()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def start(self, cases: list[Case]) -> None:
        """Take the run's cases; return once they can run (a spec error is raised here, before any case runs)."""

    @abstractmethod
    def environment(self) -> dict: ...

    @abstractmethod
    def run(self, cases: list[Case]) -> Iterator[CaseResult]:
        """Yield one result per case as each finishes; a SpecError stops the run."""


class InProcessExecutor(Executor):
    """Runs every case in this process: the frameworks are imported once, cases run back to back."""

    def __init__(self, runner: CaseRunner):
        self.runner = runner

    def start(self, cases: list[Case]) -> None:
        import faulthandler

        if not faulthandler.is_enabled():  # -j 0: a native crash ends the run; at least say where
            faulthandler.enable()
        self.runner.start()
        self.runner.preflight(cases)

    def environment(self) -> dict:
        return self.runner.environment()

    def run(self, cases: list[Case]) -> Iterator[CaseResult]:
        for case in cases:
            yield self.runner.run(case)
