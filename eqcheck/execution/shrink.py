"""Shrinking a failing case: the smallest variant that still fails the same way, found by re-running candidates.

Candidates, tried greedily until none is accepted (or the run budget is spent):
* a size parameter or sweep value (batch, *_size, *channels, *features, seq_len, …) halved: every shape that uses
  it shrinks together, so inputs and weights stay consistent;
* one input dimension halved on its own (an Edge dim override, as --edges' single-element variants use).
An explored sample (`sample=K`) has its own candidates: execution/shrink_samples.py.
A candidate is accepted when `same(result)` says it fails the way the original does (the caller's symptom rule,
eqcheck/report/findings.py); a candidate that cannot be built or run is simply not accepted.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Iterator

from eqcheck.cases.sweep import Case, Edge
from eqcheck.errors import EqcheckError
from eqcheck.verdict.results import CaseResult

SIZE_NAME = re.compile(r"(^|_)(batch|size|len|length|channels|features|hidden|seq|n|num_samples|width|height|depth)$|_size$")


def _with(case: Case, overrides: dict | None = None, dims: tuple = ()) -> Case:
    edge = case.edge or Edge("shrunk")
    merged = {**dict(edge.overrides), **(overrides or {})}
    kept = tuple(d for d in edge.dims if (d[0], d[1]) not in {(i, a) for i, a, _ in dims})
    return dataclasses.replace(case, edge=dataclasses.replace(edge, overrides=tuple(merged.items()), dims=kept + dims))


def candidates(case: Case) -> Iterator[tuple[Case, str]]:
    """Smaller variants of this case, each with a line saying what shrank."""
    values = case.values
    for name in [*case.spec.params, *dict(case.point)]:
        value = values.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 1 and SIZE_NAME.search(name):
            yield _with(case, {name: value // 2}), f"{name} {value} → {value // 2}"
    for index, inp in enumerate(case.spec.inputs):
        try:
            shape = case.input_shape(index)
        except EqcheckError:
            continue
        for axis, size in enumerate(shape):
            if size > 1:
                yield _with(case, dims=((index, axis, size // 2),)), f"{inp.name} axis {axis}: {size} → {size // 2}"


def shrink(run: Callable[[Case], CaseResult], case: Case, same: Callable[[CaseResult], bool],
           budget: int = 40, propose: Callable[[Case], Iterator[tuple[Case, str]]] = candidates,
           ) -> tuple[Case, list[str], int]:
    """The smallest accepted variant of `case`, the steps that led there, and how many candidates ran. `propose`
    gives the candidates (explored samples: execution/shrink_samples.py); one rejected is not tried again."""
    current, steps, tried, rejected = case, [], 0, set()
    progress = True
    while progress and tried < budget:
        progress = False
        for candidate, what in propose(current):
            if tried >= budget:
                break
            if what in rejected:
                continue
            tried += 1
            try:
                result = run(candidate)
            except EqcheckError:
                rejected.add(what)
                continue
            if same(result):
                current, progress = candidate, True
                steps.append(what)
                break
            rejected.add(what)
    return current, steps, tried
