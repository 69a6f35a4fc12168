"""The CI-gate side of `eqcheck run`: --shard, --golden/--save-golden, --baseline, --junit, --markdown, --html and
the GitHub step summary. A GateSession is one of the run's observers (execution/session.py: select, settings, start,
on_result, annotate, finish); without any of these flags every hook is a no-op. Rendering goes through the report/
modules and the consoles `run` passes in.
"""

from __future__ import annotations

import os
from typing import Any

from eqcheck.gate import golden
from eqcheck.errors import EqcheckError
from eqcheck.execution.session import Observer
from eqcheck.verdict.results import CaseResult


class GateSession(Observer):
    def __init__(self, *, seed: int, out=None, err=None, baseline: str | None = None, rel_change: float = 10.0, save_golden: str | None = None,
                 golden_dir: str | None = None, junit: str | None = None, markdown: str | None = None,
                 html: str | None = None, shard: tuple[int, int] | None = None):
        from eqcheck.report import document as doc

        self.seed = seed
        self.out, self.err = out, err  # the run's consoles: the baseline diff and the golden drift line
        self.rel_change = rel_change
        self.junit, self.markdown, self.html = junit, markdown, html
        self.shard = shard
        self.shard_record: dict[str, Any] | None = None
        self.baseline_path = baseline
        # Bad inputs are exit 2 before any case runs.
        self.baseline = doc.read(baseline) if baseline else None
        self.checker = golden.GoldenChecker(golden_dir, seed=seed) if golden_dir else None
        self.save_golden = save_golden
        self.writer: golden.GoldenWriter | None = None
        self.histograms: dict[str, dict] = {}
        self.cases: dict[str, Any] = {}
        self.diff: dict | None = None

    # ---- before the run ---------------------------------------------------------------------------

    def select(self, cases: list) -> list:
        from eqcheck.gate import shard

        cases, self.shard_record = shard.select(cases, self.shard)
        self.cases = {c.id: c for c in cases}
        return cases

    def settings(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.shard_record:
            extra["shard"] = self.shard_record
        if self.checker:
            extra["golden"] = str(self.checker.folder)
        return extra

    def start(self, environment: dict[str, Any]) -> None:
        if self.save_golden:
            self.writer = golden.GoldenWriter(self.save_golden, seed=self.seed, environment=environment)

    # ---- per case -----------------------------------------------------------------------------------

    def on_result(self, result: CaseResult) -> None:
        case = self.cases.get(result.id)
        if not result.arrays or case is None:
            return
        if self.checker:
            kinds = {o.name: o.kind for o in result.outputs}
            tolerance_of = lambda name: case.grad_tolerance() if kinds.get(name) == "grad" else case.tolerance(name)
            section = self.checker.check(result.id, result.arrays, tolerance_of, seed=_case_seed(result, self.seed))
            if section is not None:
                result.details["golden"] = section
        if self.writer:
            self.writer.add(result.id, result.arrays, seed=_case_seed(result, self.seed))
        if self.html:
            from eqcheck.report.html import histograms_for

            self.histograms[result.id] = histograms_for(result)

    # ---- after the run ------------------------------------------------------------------------------

    def annotate(self, document: dict) -> None:
        """Top-level sections of the JSON report (called before it is written)."""
        if self.checker:
            document["golden"] = {**self.checker.header(), **golden.summarize(document["cases"])}
        if self.writer:
            self.writer.close()

    def finish(self, document: dict, code: int) -> int:
        """Write the extra formats, render the baseline diff; the exit code of the run."""
        from eqcheck.report import markdown as md

        out, err = self.out, self.err
        if self.baseline is not None:
            from eqcheck.gate.diff import diff_documents
            from eqcheck.report.diff_view import render_diff

            self.diff = diff_documents(self.baseline, document, rel_change=self.rel_change,
                                       old_name=self.baseline_path, new_name="this run")
            render_diff(out, self.diff)
            code = 1 if self.diff["regression"] else 0  # the gate is "nothing got worse than the baseline"
        if golden.drifted(document):
            code = 1
            pairs = golden.drifted(document)
            err.print(f"golden drift: {len(pairs)} (case, target) pairs differ from the stored outputs in "
                      f"{self.checker.folder}", highlight=False)
        if self.junit:
            from eqcheck.report import junit

            junit.write(self.junit, document)
        if self.markdown or os.environ.get(md.STEP_SUMMARY_ENV):
            text = md.run_summary(document, self.diff)
            if self.markdown:
                md.write(self.markdown, text)
            md.append_step_summary(text)
        if self.html:
            from eqcheck.report import html

            html.write(self.html, document, self.histograms)
        return code


def _case_seed(result: CaseResult, seed: int) -> int:
    """The seed whose data produced result.arrays: --trials keeps the worst trial's outputs."""
    return int((result.details.get("trials") or {}).get("worst_seed", seed))


def check_exclusive(golden_dir: str | None, save_golden: str | None) -> None:
    if golden_dir and save_golden and golden_dir == save_golden:
        raise EqcheckError("--golden and --save-golden name the same folder: the run would compare against what it is "
                           "overwriting", field="--save-golden", hint="save into another folder")
