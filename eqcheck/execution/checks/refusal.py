"""Refusals: where a side raises on an input, does the other side refuse it too? Both refusing is agreement (a pass).

--explore error inputs (`run_refusal`): torch's OpInfo `error_inputs` are inputs torch must refuse. Torch refusing
while MindSpore returns a value is `accepts_invalid` (reported and counted per spec; the exit code is unaffected, like
`unsupported`: nothing MindSpore computes on valid input is wrong); torch accepting its own error input is an error
(the installed torch no longer behaves as its test says).

--boundary variants (`judge`): when a side raises while building or calling one, the other side is asked on its own.
Both refusing passes, its message and `details.boundary.refused` giving each side's error. The reference refusing
what the candidate accepts is `accepts_invalid`, as above; the candidate refusing what the reference accepts stays an
`error` (an `edge_differences` entry for the variant's kind that covers it makes it an `expected_difference`).
(--edges treats the reference refusing as `unsupported` instead: its variants are outside the op's domain by design.)
"""


from __future__ import annotations

import dataclasses
import re

from eqcheck.cases.sweep import Case
from eqcheck.errors import EqcheckError
from eqcheck.execution.failures import CaseFailure, short_error
from eqcheck.verdict.compare import json_safe
from eqcheck.verdict.results import ACCEPTS_INVALID, ERROR, FAIL, PASS, UNSUPPORTED, CaseResult


def run_refusal(runner, case, result, seed: int) -> None:
    """Call each target on the error input; the case's status says who refused."""
    error_type, error_regex = case.sample.error
    inputs = runner.source.inputs(case, seed)
    refusals: dict[str, str | None] = {}
    step_path = runner.step_path(case)
    for target in runner.targets:
        backend = runner.backends[target.label]
        if step_path is not None:  # an optimizer's error input: its constructor or a step refuses (its own path)
            result.sides[target.label] = {"op": case.spec.sides[target.framework].op,
                                          "init": json_safe(case.init_args(target.framework)), "call": {}}
            refusals[target.label] = refusal(runner, case, target, seed)
            continue
        try:
            built = runner.build(target, case, seed)
            args, kwargs, described = runner._arguments(case, target, backend, inputs)
            result.sides[target.label] = {"op": case.spec.sides[target.framework].op,
                                          "init": json_safe(case.init_args(target.framework)),
                                          "call": json_safe(case.call_args(target.framework)), "inputs": described}
            runner.flatten(backend, backend.call(built, args, kwargs), target.label)  # MindSpore raises on reading
            refusals[target.label] = None
        except EqcheckError:
            raise
        except Exception as exc:  # noqa: BLE001 - the refusal is the result
            refusals[target.label] = short_error(exc)
            backend.recover()
    reference, candidate = (t.label for t in runner.targets)
    expected = f"{error_type} matching {error_regex!r}" if error_regex else error_type
    result.details["refusal"] = {"expected": expected, **{label: refusals[label] for label in refusals}}
    if refusals[reference] is None:
        result.status = ERROR
        result.message = f"{reference} accepted an input its own error_inputs say it refuses ({expected})"
    elif refusals[candidate] is None:
        result.status = ACCEPTS_INVALID
        result.message = f"{candidate} returned a value where {reference} refuses the input: {refusals[reference]}"
    else:
        result.status = PASS
        matches = not error_regex or re.search(error_regex, refusals[reference] or "") is not None
        result.message = (f"both refuse; {reference}: {refusals[reference]}" + ("" if matches else f" (expected {expected})")
                          + f"; {candidate}: {refusals[candidate]}")


def judge(runner, case: Case, result: CaseResult, failure: CaseFailure, seed: int) -> None:
    """Turn a side's refusal into agreement (both refuse) or a one-sided refusal; other failures stay as they are."""
    refusing = next((t for t in runner.targets if t.label == failure.target), None)
    declared = case.expected_difference
    declared = declared if declared is not None and declared.edge in (case.edge.kind, case.edge.name) else None
    if failure.status != ERROR or refusing is None:
        if failure.status == ERROR and declared is not None:  # both ran, the outputs differ in structure, as declared
            result.status = FAIL
        return
    other = next(t for t in runner.targets if t is not refusing)
    answer = refusal(runner, case, other, seed)
    if answer is None:
        result.message = f"only {refusing.label} refuses this boundary variant ({failure.message}); {other.label} returns a value"
        if refusing is runner.targets[0]:  # the candidate computes a value where the reference refuses: accepts_invalid
            result.status = ACCEPTS_INVALID
            return
        missing = _missing_kernel(runner, dataclasses.replace(case, edge=None), refusing, seed)
        if missing is not None:  # it cannot run the plain case either: its refusal here says nothing about the variant
            result.status, result.message = UNSUPPORTED, f"{missing}; this variant's refusal: {failure.message}"
            result.details["failure_kind"] = "missing_kernel"
            return
        if declared is not None:
            result.status = FAIL  # a declared difference: the runner reports it as expected_difference
        return
    result.status = PASS
    result.message = f"both sides refuse this boundary variant: {failure.message}; {answer}"
    result.details.setdefault("boundary", {})["refused"] = {refusing.label: failure.message, other.label: answer}


def _missing_kernel(runner, case: Case, target, seed: int) -> str | None:
    """The unsupported message when `target` has no kernel for the plain case (MindSpore's Einsum on CPU), else None."""
    try:
        refusal(runner, case, target, seed, strict=True)
    except CaseFailure as failure:
        return failure.message if failure.status == UNSUPPORTED else None
    return None


def refusal(runner, case: Case, target, seed: int, strict: bool = False) -> str | None:
    """`target`'s error when it builds and calls the case on its own (its own initial weights: only whether it
    accepts the inputs matters), None when it returns a value."""
    backend = runner.backends[target.label]
    step_path = runner.step_path(case)
    try:
        if step_path is not None:  # an optimizer or schedule: its own path, one side alone
            step_path.attempt(runner, case, target, seed)
            return None
        inputs = runner.source.inputs(case, seed)
        built = runner.step(target, case, "build", lambda: runner.build(target, case, seed))
        args, kwargs, _ = runner._arguments(case, target, backend, inputs)
        value = runner.step(target, case, "call", lambda: backend.call(built, args, kwargs))
        runner.step(target, case, "call", lambda: runner.flatten(backend, value, target.label))
    except CaseFailure as exc:
        backend.recover()
        if strict:  # the caller wants the failure itself (its status: unsupported for a missing kernel)
            raise
        return exc.message
    return None
