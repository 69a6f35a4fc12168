"""--boundary: when a side refuses a boundary variant (raises while building or calling), ask the other side too.

Both refusing is agreement: the case passes, its message and `details.boundary.refused` give each side's error.
Only one refusing is a finding: the case stays an `error`, its message says which side accepted the inputs; an
`edge_differences` entry for the variant's kind that covers it makes it an `expected_difference` instead.
(--edges treats the reference refusing as `unsupported` instead: its variants are outside the op's domain by design.)
"""

from __future__ import annotations

from eqcheck.cases.sweep import Case
from eqcheck.execution.failures import CaseFailure
from eqcheck.verdict.results import ERROR, FAIL, PASS, CaseResult


def judge(runner, case: Case, result: CaseResult, failure: CaseFailure, seed: int) -> None:
    """Turn a side's refusal into agreement (both refuse) or a one-sided refusal; other failures stay as they are."""
    refusing = next((t for t in runner.targets if t.label == failure.target), None)
    if failure.status != ERROR or refusing is None:
        return
    other = next(t for t in runner.targets if t is not refusing)
    answer = refusal(runner, case, other, seed)
    if answer is None:
        result.message = f"only {refusing.label} refuses this boundary variant ({failure.message}); {other.label} returns a value"
        declared = case.expected_difference
        if declared is not None and declared.edge == case.edge.kind:
            result.status = FAIL  # a declared difference: the runner reports it as expected_difference
        return
    result.status = PASS
    result.message = f"both sides refuse this boundary variant: {failure.message}; {answer}"
    result.details.setdefault("boundary", {})["refused"] = {refusing.label: failure.message, other.label: answer}


def refusal(runner, case: Case, target, seed: int) -> str | None:
    """`target`'s error when it builds and calls the case on its own (its own initial weights: only whether it
    accepts the inputs matters), None when it returns a value."""
    backend = runner.backends[target.label]
    try:
        inputs = runner.source.inputs(case, seed)
        built = runner.step(target, case, "build", lambda: runner.build(target, case, seed))
        args, kwargs, _ = runner._arguments(case, target, backend, inputs)
        value = runner.step(target, case, "call", lambda: backend.call(built, args, kwargs))
        runner.step(target, case, "call", lambda: runner.flatten(backend, value, target.label))
    except CaseFailure as exc:
        backend.recover()
        return exc.message
    return None
