"""--repeat N: each side called N times on the same inputs, in this process; its results must be bitwise identical.

A side that disagrees with itself (memory it never wrote, a racy reduction) makes the comparison with the other side
meaningless, so the case gets its own status, `nondeterministic`, with the side and the count in the message.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from eqcheck.verdict.results import CaseResult

Outputs = list[tuple[str, np.ndarray]]


def bitwise_difference(first: Outputs, again: Outputs) -> tuple[str, int, int] | None:
    """(output name, elements whose bits differ, its size) for the first output two calls disagree on, else None."""
    if [name for name, _ in first] != [name for name, _ in again]:
        return "the output structure", 1, 1
    for (name, a), (_, b) in zip(first, again):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return name, max(a.size, 1), max(a.size, 1)
        if a.tobytes() != b.tobytes():
            bytes_a = np.ascontiguousarray(a).view(np.uint8).reshape(a.size, -1)
            bytes_b = np.ascontiguousarray(b).view(np.uint8).reshape(b.size, -1)
            return name, int((bytes_a != bytes_b).any(axis=1).sum()), a.size
    return None


def check_repeats(result: CaseResult, label: str, what: str, first: Outputs, call_again: Callable[[], Outputs],
                  repeat: int) -> None:
    """Call `call_again` repeat-1 times; record the first call that differs bitwise from `first` under details."""
    record: dict[str, Any] = result.details.setdefault("determinism", {"repeat": repeat, "sides": {}})
    side = record["sides"].setdefault(label, {"identical": True})
    if not side["identical"]:
        return  # already caught on an earlier pass (outputs before gradients)
    for call in range(2, repeat + 1):
        difference = bitwise_difference(first, call_again())
        if difference is not None:
            name, differing, size = difference
            side.update(identical=False, what=what, output=name, differing=differing, size=size, call=call)
            return


def nondeterminism_message(result: CaseResult) -> str | None:
    """'mindspore: 2 identical calls differ at 17 of 32 elements (out)' for each side that disagreed with itself."""
    record = result.details.get("determinism") or {}
    lines = [
        f"{label}: {side['call']} identical calls differ at {side['differing']} of {side['size']} elements "
        f"({side['what']} {side['output']})"
        for label, side in record.get("sides", {}).items() if not side["identical"]
    ]
    return "; ".join(lines) or None
