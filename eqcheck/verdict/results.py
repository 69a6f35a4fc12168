"""What running a case produces: plain records the reports render. No framework objects survive in here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eqcheck.verdict.compare import Deviation

# Case statuses, in the order the summary lists them.
PASS = "pass"
FAIL = "fail"
ERROR = "error"
EXPECTED_DIFFERENCE = "expected_difference"
UNEXPECTED_PASS = "unexpected_pass"  # declared as differing, yet it passed: the spec is stale
UNSUPPORTED = "unsupported"
NONDETERMINISTIC = "nondeterministic"  # a side gave bitwise different results for identical calls (--repeat)
ACCEPTS_INVALID = "accepts_invalid"  # --explore error input: torch refuses it, MindSpore returns a value
STATUSES = (PASS, FAIL, ERROR, EXPECTED_DIFFERENCE, UNEXPECTED_PASS, UNSUPPORTED, NONDETERMINISTIC, ACCEPTS_INVALID)
FAILING = (FAIL, ERROR, UNEXPECTED_PASS, NONDETERMINISTIC)  # any of these makes the run exit 1


@dataclass(frozen=True)
class Diagnosis:
    """A failing row's pattern: the line shown, and what it found as data."""

    text: str
    kind: str  # the hint that recognised it (sign_flip, constant_ratio ...), a NaN/Inf pattern
    #            (nonfinite_produced, nonfinite_propagated, nonfinite_where_finite, nonfinite_both), shape or none
    side: str | None = None  # the target label the pattern is on, where it is one side's


@dataclass
class OutputResult:
    name: str
    shape: list[int]
    dtypes: dict[str, str]  # target label -> dtype
    deviation: Deviation | None
    ignored: str | None = None  # reason the spec gives for not comparing it
    kind: str = "output"  # output | grad (w.r.t. an input or canonical parameter) | state (a buffer after the call)
    # The error budget (eqcheck/verdict/attribution.py): each side's distance from float64, own errors, the
    # budget verdict and the precision note. Present when the case ran in float64 (a failing row, --reference).
    attribution: dict[str, Any] | None = None
    strict_precision: bool = False  # --strict-precision: a precision note fails the row
    diagnosis: str | None = None  # a failing row: what pattern the two arrays show (eqcheck/verdict/diagnosis.py)
    diagnosis_kind: str | None = None  # which pattern, as data (Diagnosis.kind): pages read this, not the wording
    diagnosis_side: str | None = None  # the target label the pattern is on, where it is one side's

    @property
    def within_noise(self) -> bool:
        """Outside tolerance, but no further apart than the error budget allows (docs/verdicts.md)."""
        return bool(self.attribution and self.attribution.get("within_noise"))

    @property
    def precision_note(self) -> str | None:
        return (self.attribution or {}).get("precision_note")

    @property
    def passed(self) -> bool:
        if self.ignored is not None:
            return True
        if self.strict_precision and self.precision_note:
            return False
        return (self.deviation is not None and self.deviation.passed) or self.within_noise

    @property
    def verdict(self) -> str:
        """pass | fail | pass (within <dtype> noise) | fail (precision outlier) | ignored."""
        if self.ignored is not None:
            return "ignored"
        if self.strict_precision and self.precision_note:
            return "fail (precision outlier)"
        if self.deviation is not None and self.deviation.passed:
            return "pass"
        return self.attribution["verdict"] if self.within_noise else "fail"


@dataclass
class CaseResult:
    id: str
    spec: str  # spec file path
    status: str
    targets: list[str]
    sides: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> op, init, call, inputs
    outputs: list[OutputResult] = field(default_factory=list)
    weights: list[dict] = field(default_factory=list)
    message: str | None = None
    expected: dict | None = None  # the matching expected_difference {reason, link}
    duration_s: float = 0.0
    # Raw flattened outputs per target label (output name -> array), for golden files and repro;
    # never written to the JSON report.
    arrays: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    # Extra JSON-safe sections copied into the case record: mode, gradients, reference, trials.
    details: dict[str, Any] = field(default_factory=dict)
