"""Why two outputs disagree on NaN/Inf: which side propagates non-finite values and which swallows them."""

from __future__ import annotations

from typing import Any

import numpy as np

from eqcheck.verdict.results import Diagnosis


def _kinds(values: np.ndarray) -> str:
    """'NaN', '+Inf', '-Inf' present among non-finite values, most frequent first."""
    counts = {"NaN": int(np.isnan(values).sum()), "+Inf": int((values == np.inf).sum()), "-Inf": int((values == -np.inf).sum())}
    return "/".join(k for k, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n)


def _read(context: Any) -> tuple[str, str, bool | None]:
    get = context.get if isinstance(context, dict) else (lambda key, default=None: getattr(context, key, default))
    a, b = get("labels", None) or ("reference", "candidate")
    nonfinite = get("inputs_nonfinite", None)
    inputs = get("inputs", None)
    if nonfinite is None and inputs:
        nonfinite = any(np.asarray(v).dtype.kind == "f" and not np.isfinite(v).all() for v in inputs.values())
    return a, b, nonfinite


def nonfinite_hint(ref: Any, cand: Any, context: dict[str, Any]) -> Diagnosis | None:
    """One sentence naming the NaN/Inf pattern of a disagreement, or None if the non-finite values agree; its kind and
    side are the first part's (the reference side's, when both sides have one).

    context: a mapping or an object (eqcheck.verdict.diagnosis.Context) with `labels` (reference, candidate target
    labels) and either `inputs_nonfinite` or `inputs` (the case's input arrays): whether the inputs held NaN/Inf
    decides between "propagated" and "produced by the op itself".
    """
    try:
        r = np.asarray(ref, dtype=np.float64)
        c = np.asarray(cand, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if r.shape != c.shape or not r.size:
        return None
    a, b, inputs_nonfinite = _read(context)
    rn, cn = ~np.isfinite(r), ~np.isfinite(c)
    only_r, only_c = rn & ~cn, cn & ~rn
    both = rn & cn & ~((np.isnan(r) & np.isnan(c)) | (r == c))
    if not (only_r.any() or only_c.any() or both.any()):
        return None
    parts, found = [], []
    for mask, has, lacks in ((only_r, a, b), (only_c, b, a)):
        k = int(mask.sum())
        if not k:
            continue
        values = (r if has == a else c)[mask]
        first = tuple(int(j) for j in np.argwhere(mask)[0])
        if inputs_nonfinite:
            found.append(("nonfinite_propagated", has))
            parts.append(f"{has} propagates {_kinds(values)} that {lacks} swallows (finite there) at {k} of {r.size} elements (first at {first})")
        elif inputs_nonfinite is False:
            found.append(("nonfinite_produced", has))
            parts.append(f"{has} produces {_kinds(values)} from finite inputs where {lacks} stays finite at {k} of {r.size} elements (first at {first})")
        else:
            found.append(("nonfinite_where_finite", has))
            parts.append(f"{has} is {_kinds(values)} where {lacks} is finite at {k} of {r.size} elements (first at {first})")
    k = int(both.sum())
    if k:
        i = tuple(int(j) for j in np.argwhere(both)[0])
        found.append(("nonfinite_both", None))
        parts.append(f"both non-finite but different at {k} elements, e.g. {i}: {a} {r[i]} vs {b} {c[i]}")
    return Diagnosis("NaN/Inf: " + "; ".join(parts), *found[0])
