"""`Report`: one run's JSON document as a Python object (what `eqcheck.compare` returns), with the views `run` has."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any, Iterator

from eqcheck.report import document as doc


class Report:
    """The same document `eqcheck run --json` writes (same schema), plus the ways to look at it.

    `print(report)` renders the tables `eqcheck run` prints; a notebook shows the HTML report.
    """

    def __init__(self, document: dict[str, Any], histograms: dict[str, dict[str, dict]] | None = None,
                 arrays: dict[str, dict[str, dict[str, Any]]] | None = None):
        self.document = document
        self._histograms = histograms or {}
        # case id -> target label -> row name -> array, from an in-process run (assert_equivalent's element indices)
        self.arrays = arrays or {}

    @property
    def passed(self) -> bool:
        """True when `eqcheck run` would exit 0: every case passed or differed as declared."""
        return doc.exit_code(self.document) == 0

    @property
    def cases(self) -> list[dict[str, Any]]:
        """One record per case, as in the JSON report's `cases`."""
        return self.document["cases"]

    @property
    def summary(self) -> dict[str, Any]:
        return self.document["summary"]

    @property
    def first_divergent(self) -> str | None:
        """The first paired layer (module path) that deviates beyond its budget, forward before backward, in the first
        case that names one; None for op pairs and for models whose layers all agree."""
        for case in self.cases:
            for direction in ("forward", "backward"):
                name = ((case.get("layers") or {}).get(direction) or {}).get("first_divergent")
                if name:
                    return name
        return None

    def to_json(self, path: str | Path) -> None:
        """Write the JSON report atomically (`eqcheck show`, `diff` and `merge` read it)."""
        doc.write_atomic(path, self.document)

    def to_html(self, path: str | Path) -> None:
        """Write the self-contained HTML report (`--html`)."""
        from eqcheck.report import html

        html.write(str(path), self.document, self._histograms)

    def renderables(self, quiet: bool = False) -> Iterator[Any]:
        from eqcheck.report.console import document_renderables

        return document_renderables(self.document, quiet)

    def __rich_console__(self, console, options) -> Iterator[Any]:
        yield from self.renderables()

    def __str__(self) -> str:
        from rich.console import Console

        from eqcheck.report.console import PLAIN_WIDTH

        buffer = io.StringIO()
        terminal = sys.stdout.isatty()
        console = Console(file=buffer, force_terminal=terminal, width=None if terminal else PLAIN_WIDTH,
                          no_color=not terminal, highlight=False, emoji=False)
        for renderable in self.renderables():
            console.print(renderable)
        return buffer.getvalue().rstrip("\n")

    def __repr__(self) -> str:
        s = self.summary
        return (f"<eqcheck Report: {'passed' if self.passed else 'FAILED'}, {s['total']} cases, {s['passed']} passed, "
                f"{s['failed']} failed, {s['errors']} errors>")

    def _repr_html_(self) -> str:
        from eqcheck.report import html

        return html.render(self.document, self._histograms)
