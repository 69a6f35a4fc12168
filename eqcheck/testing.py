"""`assert_equivalent`: `eqcheck.compare` as an assertion for pytest, failing with a message in the convention of
`torch.testing.assert_close` plus eqcheck's verdict line (error budget, first diverging layer)."""

from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from eqcheck.api import Inputs, compare
from eqcheck.report.handle import Report

__all__ = ["assert_equivalent", "failure_message"]
SHOWN_ROWS = 3  # failing rows spelled out per case; a model's gradients can fail by the dozen


def assert_equivalent(torch_side: Callable[..., Any], mindspore_side: Callable[..., Any], inputs: Inputs, **options: Any) -> Report:
    """Compare as `eqcheck.compare(torch_side, mindspore_side, inputs, **options)` does; raise AssertionError unless
    every case passes (or differs as declared). Returns the Report when it passes.

    The message names each failing case and row like `torch.testing.assert_close` ("Mismatched elements: k / n (p %)",
    the greatest absolute and relative difference with their index and what was allowed), then eqcheck's verdict:
    the error budget's judgement and the first layer to deviate.
    """
    __tracebackhide__ = True  # pytest shows the assertion, not this frame
    report = compare(torch_side, mindspore_side, inputs, **options)
    if not report.passed:
        raise AssertionError(failure_message(report))
    unsupported = [c for c in report.cases if c["status"] == "unsupported"]
    if unsupported and len(unsupported) == len(report.cases) and "pytest" in sys.modules:
        import pytest  # as the pytest plugin reports a spec's case: a target that cannot run it is a skip, not a pass

        pytest.skip(f"unsupported: {unsupported[0]['message']}")
    return report


def failure_message(report: Report) -> str:
    """The assertion text for a report that did not pass: one block per failing case."""
    blocks = []
    for case in report.cases:
        if case["status"] in ("pass", "expected_difference"):
            continue
        lines = [f"{case['id']}: {case['status']}" + (f": {case['message']}" if case.get("message") else "")]
        arrays = report.arrays.get(case["id"], {})
        measured = [row for row in case["outputs"] if not row.get("ignored") and row.get("max_abs") is not None]
        failing = [row for row in measured if not row.get("passed")]
        # a model failed by its layers alone: the rows outside tolerance that the budget passed show how far apart it is
        failing = failing or [row for row in measured if row.get("tolerance_verdict") == "fail"]
        for row in failing[:SHOWN_ROWS]:
            lines.append("")
            lines.append(f"{_row_title(row)} ({'x'.join(map(str, row['shape'])) or 'scalar'}, {'/'.join(row['dtypes'].values())}) "
                         "are not close!")
            lines.extend(_close_lines(row, [side.get(row["name"]) for side in arrays.values()]))
            lines.append(_verdict_line(row))
        if len(failing) > SHOWN_ROWS:
            lines.append(f"... and {len(failing) - SHOWN_ROWS} more failing rows: "
                         + ", ".join(row["name"] for row in failing[SHOWN_ROWS:]) + " (report.cases has them all)")
        layer = _layer_line(case)
        if layer:
            lines.append(layer)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + f"\n\neqcheck: {_summary(report)}"


def _row_title(row: dict) -> str:
    kind = row.get("kind", "output")
    if kind == "grad":
        return f"Gradients {row['name']!r}"
    return f"{'State' if kind == 'state' else 'Outputs'} {row['name']!r}"


def _index(index: Any) -> str:
    return "(" + ", ".join(map(str, index)) + ("," if len(index) == 1 else "") + ")" if index is not None else "(?)"


def _close_lines(row: dict, pair: list[Any]) -> list[str]:
    """torch.testing.assert_close's three lines, from the row and (in-process) both arrays."""
    tolerance = row.get("tolerance") or {}
    mismatched, size = row.get("mismatched", 0), row.get("size", 0)
    lines = [f"Mismatched elements: {mismatched} / {size} ({100.0 * mismatched / size if size else 100.0:.1f}%)"]
    if row.get("nonfinite_mismatch"):
        lines[0] += f", of which {row['nonfinite_mismatch']} NaN/Inf where the other side is finite or differs"
    rel_index = None
    if len(pair) == 2 and all(isinstance(a, np.ndarray) for a in pair) and pair[0].size and pair[0].shape == pair[1].shape:
        a, b = (np.asarray(x, dtype=np.float64) for x in pair)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), np.finfo(np.float64).tiny)
        rel = np.where(np.isfinite(rel), rel, -1.0)
        rel_index = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
    lines.append(f"Greatest absolute difference: {row['max_abs']} at index {_index(row.get('max_abs_index'))} "
                 f"(up to {tolerance.get('atol')} allowed)")
    lines.append(f"Greatest relative difference: {row['max_rel']} at index {_index(rel_index)} "
                 f"(up to {tolerance.get('rtol')} allowed)")
    return lines


def _verdict_line(row: dict) -> str:
    """eqcheck's judgement of the row: the tolerance, then the error budget (float64 re-runs) and the outlier."""
    parts = [f"tolerance: {row.get('tolerance_verdict', 'fail')}", f"error budget: {row.get('budget_verdict', 'unavailable')}"]
    statement = (row.get("attribution") or {}).get("statement")
    if statement:
        parts.append(statement)
    if row.get("diagnosis") and not row["diagnosis"].startswith("no pattern"):
        parts.append(row["diagnosis"])
    return "eqcheck verdict: " + row.get("verdict", "fail") + " (" + "; ".join(parts) + ")"


def _layer_line(case: dict) -> str | None:
    for direction in ("forward", "backward"):
        section = (case.get("layers") or {}).get(direction) or {}
        name = section.get("first_divergent")
        if name:
            row = next((r for r in section.get("rows", []) if r["name"] == name), {})
            return f"first layer to deviate ({direction}): {name}" + (f" ({row['type']})" if row.get("type") else "")
    return None


def _summary(report: Report) -> str:
    s = report.summary
    return (f"{s['total']} cases: {s['passed']} passed, {s['failed']} failed, {s['errors']} errors"
            + (f", first layer to deviate: {report.first_divergent}" if report.first_divergent else ""))
