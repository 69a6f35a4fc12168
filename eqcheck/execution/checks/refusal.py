"""--explore error inputs: torch's OpInfo `error_inputs` are inputs torch must refuse. Does MindSpore refuse them too?

Both refusing is a pass; torch refusing while MindSpore returns a value is `accepts_invalid` (reported and counted per
spec; the exit code is unaffected, like `unsupported`: nothing MindSpore computes on valid input is wrong); torch
accepting its own error input is an error (the installed torch no longer behaves as its test says)."""

from __future__ import annotations

import re

from eqcheck.errors import EqcheckError
from eqcheck.execution.failures import short_error
from eqcheck.verdict.compare import json_safe
from eqcheck.verdict.results import ACCEPTS_INVALID, ERROR, PASS


def run_refusal(runner, case, result, seed: int) -> None:
    """Call each target on the error input; the case's status says who refused."""
    error_type, error_regex = case.sample.error
    inputs = runner.source.inputs(case, seed)
    refusals: dict[str, str | None] = {}
    for target in runner.targets:
        backend = runner.backends[target.label]
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
