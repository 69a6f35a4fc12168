"""How cases get run in this process (`--jobs 0`, for debugging); workers.py runs them isolated, the default."""

from __future__ import annotations

from typing import Iterator, Protocol

from eqcheck.cases.sweep import Case
from eqcheck.verdict.results import CaseResult
from eqcheck.execution.runner import CaseRunner


class Executor(Protocol):
    def environment(self) -> dict: ...

    def run(self, cases: list[Case]) -> Iterator[CaseResult]:
        """Yield one result per case as each finishes; a SpecError stops the run."""


class InProcessExecutor:
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
