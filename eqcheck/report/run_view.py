"""What `eqcheck run` and `eqcheck watch` show and write as they go: observers of execution/session.py (the progress
bar, the JSON writer, the rendered report and the closing lines)."""

from __future__ import annotations

import contextlib
import time
from typing import Callable

from eqcheck.execution.session import Observer
from eqcheck.report import console as view
from eqcheck.report import document as doc


class Progress(Observer):
    """A transient bar on a terminal while the cases run (console.progress_bar)."""

    def __init__(self, err, *, enabled: bool):
        self.err, self.enabled = err, enabled
        self.total = 0
        self._bar = contextlib.ExitStack()
        self._advance: Callable[[str], None] = lambda case_id: None

    def select(self, cases: list) -> list:
        self.total = len(cases)
        return cases

    def start(self, environment: dict) -> None:
        self._advance = self._bar.enter_context(view.progress_bar(self.err, self.total, self.enabled))

    def on_result(self, result) -> None:
        self._advance(result.id)

    def stop(self) -> None:
        self._bar.close()


class JsonWriter(Observer):
    """--json: the report written atomically once built and annotated, partial reports included."""

    def __init__(self, path: str):
        self.path = path

    def annotate(self, document: dict) -> None:
        doc.write_atomic(self.path, document)


class RunView(Observer):
    """The report rendered once the run ends, and what the run wrote where."""

    def __init__(self, out, err, *, quiet: bool, json_path: str | None):
        self.out, self.err, self.quiet, self.json_path = out, err, quiet, json_path

    def finish(self, document: dict, code: int) -> int:
        view.render_document(self.out, document, quiet=self.quiet)
        if self.json_path and not self.quiet:
            self.out.print(f"report written to {self.json_path}")
        export = document["settings"].get("export_side")
        if export and not self.quiet:  # the first target ran here; the manifest completes the folder
            from eqcheck.execution.sides import MANIFEST

            self.out.print(f"{document['settings']['targets'][0]} side of {len(document['cases'])} cases recorded in "
                           f"{export} ({MANIFEST}); compare on another machine: eqcheck run ... --against {export}")
        return code

    def interrupted(self, document: dict, done: int, total: int) -> None:
        view.render_document(self.out, document, quiet=self.quiet)
        self.err.print(f"interrupted after {done} of {total} cases" + (f"; partial report in {self.json_path}" if self.json_path else ""))


class WatchView(Observer):
    """`eqcheck watch`: each re-run's report on a cleared terminal, its size and cost, and again how to drive it."""

    def __init__(self, out, *, quiet: bool, paths: list[str], jobs: int, spec_files: Callable[[], list[str]]):
        self.out, self.quiet, self.paths, self.jobs, self.spec_files = out, quiet, paths, jobs, spec_files
        self.saved_at: float | None = None  # when the change this re-run answers was saved

    def finish(self, document: dict, code: int) -> int:
        out = self.out
        if out.is_terminal:
            out.clear()
        view.render_document(out, document, quiet=self.quiet)
        cases = document["cases"]
        out.print(view.watch_status(len({c["spec"] for c in cases}), len(cases), document["summary"]["wall_time_s"],
                                    time.time() - self.saved_at if self.saved_at else None))
        if out.is_terminal:  # the screen was cleared: say again how to drive it
            out.print(view.watch_banner(len(self.spec_files()), self.paths, self.jobs))
        return code
