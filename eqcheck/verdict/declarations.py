"""A declared difference as a fingerprint: whether a covered case fails exactly as its declaration says, and the case
status that follows once its rows are judged. Pure numpy.

A declaration with a fingerprint (spec/model.py: `rows`, or a whole-case `symptom`) matches only when every failing
row is a declared row with the declared symptom, a `value` row within its bound (measured max_abs x margin); a case
that fails any other way (another row, another symptom, a larger deviation, a refusal instead of values) is `fail`,
with a message naming what changed. Rows the declaration does not name are judged as usual. A declaration without a
fingerprint covers the whole case: only configs/defaults/ (a default that differs) writes those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eqcheck.spec.model import ExpectedDifference
from eqcheck.verdict.results import ERROR, EXPECTED_DIFFERENCE, FAIL, PASS, UNEXPECTED_PASS, OutputResult

# The symptom vocabulary (spec/model.py ROW_SYMPTOMS, CASE_SYMPTOMS): what a failing row or case shows.
VALUE, NONFINITE, ZEROS, SHAPE, UNINITIALISED = "value", "nonfinite", "zeros", "shape", "uninitialised"
REFUSAL, CRASH = "refusal", "crash"
# `uninitialised` (memory a kernel leaves unwritten) is compared as a symptom: whatever the garbage reads as.
_GARBAGE = (VALUE, NONFINITE, ZEROS)


@dataclass(frozen=True)
class Measured:
    """What one failing row shows: its symptom and, for `value`, its max |diff|."""

    row: str
    symptom: str
    max_abs: float | None = None

    def describe(self) -> str:
        return f"{self.row}: {self.symptom}" + (f" max_abs {self.max_abs:.3g}" if self.max_abs is not None else "")


@dataclass(frozen=True)
class Failure:
    """A case that produced no rows to compare: the candidate refused (raised, or returned another structure) or its
    worker died (`signal`, e.g. SIGFPE)."""

    symptom: str  # REFUSAL or CRASH
    message: str
    signal: str | None = None

    def describe(self) -> str:
        return f"{self.symptom}" + (f" ({self.signal})" if self.signal else "") + f": {self.message}"


def measure(row: OutputResult, ref: Any = None, cand: Any = None) -> Measured:
    """The symptom of a failing row, from its deviation and (where the runner kept them) both sides' arrays."""
    d = row.deviation
    if d is None:
        return Measured(row.name, VALUE)
    if (d.reason or "").startswith("shape") or (ref is not None and cand is not None and np.shape(ref) != np.shape(cand)):
        return Measured(row.name, SHAPE)
    if d.nonfinite_mismatch:
        return Measured(row.name, NONFINITE)
    if ref is not None and cand is not None and np.size(cand) and not np.any(cand) and np.any(ref):
        return Measured(row.name, ZEROS)
    return Measured(row.name, VALUE, float(d.max_abs))


def failing_rows(rows: list[OutputResult], arrays: dict[str, dict[str, Any]], labels: tuple[str, str]) -> list[Measured]:
    """Every failing row of a case, measured; `arrays` is CaseResult.arrays (label -> row name -> array)."""
    side = lambda label, name: arrays.get(label, {}).get(name)
    return [measure(r, side(labels[0], r.name), side(labels[1], r.name)) for r in rows if not r.passed]


def record(declared: ExpectedDifference) -> dict[str, Any]:
    """The report's form of the declaration covering a case: reason, link, where it is written, and what an upgrade
    diff must not read as a change (an intermittent one; rows of uninitialised memory, compared as a symptom)."""
    garbage = [r.row for r in declared.rows if UNINITIALISED in r.symptoms]
    return {"reason": declared.reason, "link": declared.link, "declaration": declared.field,
            **({"intermittent": True} if declared.intermittent else {}), **({"uninitialised": garbage} if garbage else {})}


def exercised(declared: ExpectedDifference, rows: list[OutputResult]) -> bool:
    """Whether a case could have shown the declared difference: it has a row the fingerprint names (a run without
    --grad cannot show a gradient's), or the declaration is about the whole case."""
    names = {r.name for r in rows}
    return not declared.rows or any(p.row in names for p in declared.rows)


def observed(measured: list[Measured], failure: Failure | None) -> dict[str, Any] | None:
    """The JSON record of how a case failed (its `measured` section), from which `eqcheck findings --fingerprints`
    writes a declaration: None when nothing failed."""
    if failure is not None:
        return {"failure": {"symptom": failure.symptom, **({"signal": failure.signal} if failure.signal else {}),
                            "message": failure.message}}
    if not measured:
        return None
    return {"rows": [{"row": m.row, "symptom": m.symptom, **({"max_abs": m.max_abs} if m.max_abs is not None else {})}
                     for m in measured]}


def mismatch(declared: ExpectedDifference, measured: list[Measured], failure: Failure | None) -> str | None:
    """None when the case fails exactly as the fingerprint says; else what changed against it, in one sentence."""
    if declared.symptom is not None:
        if failure is None:
            rows = ", ".join(m.describe() for m in measured) or "none"
            return f"declared a {declared.describe()}, but both sides now return values (failing rows: {rows})"
        if failure.symptom != declared.symptom or (declared.signal and failure.signal != declared.signal):
            return f"declared a {declared.describe()}, measured a {failure.describe()}"
        return None
    if failure is not None:
        return f"declared rows ({declared.describe()}), but the case now ends in a {failure.describe()}"
    prints = {r.row: r for r in declared.rows}
    changed = []
    for m in measured:
        p = prints.get(m.row)
        if p is None:
            changed.append(f"{m.describe()} is not a declared row (declared: {', '.join(prints)})")
        elif m.symptom not in p.symptoms and not (UNINITIALISED in p.symptoms and m.symptom in _GARBAGE):
            changed.append(f"{m.describe()}, declared {' or '.join(p.symptoms)}")
        elif UNINITIALISED not in p.symptoms and p.bound is not None and m.max_abs is not None and not m.max_abs <= p.bound:
            changed.append(f"{m.row}: max_abs {m.max_abs:.3g} exceeds the declared bound {p.bound:.3g} "
                           f"(measured {p.max_abs:.3g} x margin {p.margin:g})")
    if not measured:
        return None
    return "; ".join(changed) or None


def case_status(status: str, message: str | None, expected: ExpectedDifference | None, measured: list[Measured],
                failure: Failure | None, declared_here: bool) -> tuple[str, str | None]:
    """The case status once its rows are judged (`status` pass, fail or error; `failure` set when it produced no rows):
    its declaration matched (expected_difference), contradicted (fail, naming what changed), or stale
    (unexpected_pass, where `declared_here`: the declaration is about exactly this case and not intermittent)."""
    if expected is None or status not in (PASS, FAIL, ERROR):
        return status, message
    if status == PASS:
        if declared_here:
            return UNEXPECTED_PASS, f"declared as differing ({expected.reason}), but every output passed: update the spec"
        return PASS, message
    if not expected.fingerprinted:  # a whole-case declaration (configs/defaults/): any failure of its rows
        return (EXPECTED_DIFFERENCE, message) if status == FAIL else (status, message)
    if status == ERROR and failure is None:  # an eqcheck error, a timeout: no measurement to hold against it
        return status, message
    changed = mismatch(expected, measured, failure)
    if changed is None:
        return EXPECTED_DIFFERENCE, message
    note = f"does not match its declaration ({expected.field or 'expected_difference'}: {expected.describe()}): {changed}"
    if status == ERROR:  # an error stays one: the declaration's verdict is a note on it
        return ERROR, f"{message}; {note}" if message else note
    return FAIL, note
