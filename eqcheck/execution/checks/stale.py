"""--boundary stale: the case runs right after a decoy run of the same op on other data (another seed), whose results
are dropped. Memory a kernel allocates but never writes then holds the decoy's values instead of lucky zeros, so an
unwritten output (a weight gradient over an empty batch) fails the comparison, or repeats as nondeterministic."""

from __future__ import annotations

import dataclasses

from eqcheck.cases.sweep import Case
from eqcheck.execution.failures import CaseFailure
from eqcheck.verdict.results import PASS, CaseResult

DECOY_SEED_OFFSET = 7919  # the decoy's seed: the case's plus this, so its inputs and weights differ from the case's


def run_decoy(runner, case: Case, seed: int) -> None:
    """Run the plain case (no overrides: a full batch where the variant empties it) on other data, both sides, every
    check the spec asks for; nothing of it is kept. Only where this process draws the data (not a recorded side)."""
    if not getattr(case.edge, "decoy", False) or not runner.source.extra_calls:
        return
    plain = dataclasses.replace(case, edge=None)
    scratch = CaseResult(id=plain.id, spec=plain.spec.path, status=PASS, targets=[t.label for t in runner.targets])
    try:
        runner._run(plain, scratch, seed + DECOY_SEED_OFFSET)
    except CaseFailure:
        for backend in runner.backends.values():
            backend.recover()
    finally:
        runner.source.close(plain)
