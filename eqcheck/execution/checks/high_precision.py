"""Float64 rows at float64 precision: a float64 case of an elementwise op has no wider float to re-run in, so its
failing forward rows are judged in float64 ulps against mpmath at 40 digits (verdict/exact.py), by the same rule as
float32 rows against float64 (verdict.attribution.elementwise). A float64 kernel that is only float32-accurate is
~1e8 float64 ulps away and fails as kernel accuracy; torch.testing's float64 table (rtol 1e-7) would pass it."""

from __future__ import annotations

from eqcheck.cases.sweep import Case
from eqcheck.execution.checks.reference import structure_of
from eqcheck.execution.trial import Trial
from eqcheck.verdict import attribution, exact, rounding
from eqcheck.verdict.results import CaseResult


def entry(case: Case) -> str | None:
    """The OpInfo entry whose mpmath formula applies: an elementwise op called on its inputs alone (no arguments that
    would change the function, no nested argument layout)."""
    if case.dtype != "float64" or structure_of(case) != "elementwise":
        return None
    torch = case.spec.sides["torch"]
    if case.init_args("torch") or case.call_args("torch") or torch.args is not None:
        return None
    name = rounding.entry_of(torch.op, case.spec.explore.opinfo if case.spec.explore else None)
    return name if exact.has(name) else None


def wanted(case: Case, result: CaseResult) -> bool:
    return entry(case) is not None and any(o.kind == "output" and o.deviation is not None and not o.passed
                                           for o in result.outputs)


def judge(runner, trial: Trial, result: CaseResult) -> None:
    case = trial.case
    found = exact.reference(entry(case), [trial.inputs[inp.name] for inp in case.spec.inputs if not inp.keyword])
    labels = [t.label for t in runner.targets]
    result.details["reference"] = {"dtype": f"mpmath ({exact.DIGITS} digits)", "rows_judged": 0}
    if found is None:
        result.details["reference"]["message"] = "the inputs are not all float: no arbitrary-precision reference"
        return
    truth, sensitivity = found
    for out in result.outputs:
        if out.kind != "output" or out.deviation is None or out.passed or out.name not in result.arrays.get(labels[0], {}):
            continue
        arrays = {label: result.arrays[label][out.name] for label in labels}
        if any(a.shape != truth.shape for a in arrays.values()):
            continue
        dev = out.deviation
        out.attribution = attribution.elementwise(dev.max_abs, dev.passed, dev.nonfinite_mismatch, arrays, labels[0],
                                                  truth, {label: None for label in labels}, sensitivity, case.dtype,
                                                  source=f"mpmath {exact.DIGITS} digits")
        result.details["reference"]["rows_judged"] += 1
