"""The error budget: is a deviation just rounding noise, and which side is off? Pure numpy.

A row (forward output, gradient or state) that fails its tolerance table is judged again against float64
re-runs of the same case (the same canonical weights, input values and cotangents, upcast exactly, so only
the arithmetic differs):

* `distance[side]`  = max |side(dtype) - reference(float64)|, where the reference is torch in float64
  (the first target of the torch framework; MindSpore's float64 run when no torch target can);
* `own_error[side]` = max |side(dtype) - side(float64)|: the side's own rounding error, measured against
  its own float64 run (absent when the side refuses float64, e.g. MindSpore's CPU GRUCell or Conv2d).

Rule (K = NOISE_K). A row that fails its tolerance passes its error budget, "pass (within <dtype> noise)", iff

    max |A - B|  <=  K * max(own_error[A], own_error[B])        and the NaN/Inf patterns agree.

Why own errors and not the distances to one reference: |A - B| <= distance[A] + distance[B] always holds
(triangle inequality), so a rule on distances would pass *any* pair, a wrong function included. Against
each side's own float64 run, |A - B| <= own[A] + own[B] + |A64 - B64| <= 2 max(own) + |A64 - B64|: two
implementations of the same function (A64 ~ B64) can never exceed K = 2, while a different function keeps
|A64 - B64| and fails once that exceeds the rounding noise. K = 2 is therefore the smallest K that never
raises a false alarm on a same-function pair, and anything larger only hides real differences (docs/verdicts.md).

A side whose kernel refuses float64 can be measured on a stand-in built from its framework's own primitives
(eqcheck/backends/standins), run in the case dtype (S) and float64 (S64): own = |S - S64|, credited only if the
stand-in is the kernel up to that rounding (|side - S| <= own) and S64 is closer to the reference than S.
A side that cannot run float64 and has no such stand-in brings no allowance of its own: the measurable side must explain the whole
deviation (crediting it with its distance to the other side's float64 result would let any bug pass). Nor
does a side whose float64 run is no closer to the reference than its float32 run (`own_error_rejected`):
MindSpore's CPU `ops.std` returns float64 tensors holding float32-computed values (own error 0), and a side
whose float64 path computes something else would otherwise pass its own difference off as noise. Nor, for
the same reason the other way round, a side whose "own error" exceeds sqrt(eps) x the largest reference
value: rounding costs digits, not half of them, and a kernel bug present only in the float32 path would
otherwise count as that side's noise.

The reference side off: when the side whose float64 run is the reference is PRECISION_OUTLIER_RATIO times
further from it than the other side, the deviation is the reference side's own float32 error (the other side
computes the float64 answer), and the row passes as "pass (torch's own float32 error: mindspore matches
float64)" with a precision note (a failure under --strict-precision), if that error is rounding-sized (at most
sqrt(eps) x max(largest reference value, 1)). No bug of the other side can hide there: it would have to be ten
times smaller than the reference side's distance to its own float64 run.

The outlier: `ratio` = the larger distance / the smaller one (floored at half an ulp of the largest
reference value in the case dtype, so an exactly-rounded side gives a finite ratio); at OUTLIER_RATIO or
above the farther side is named in the statement, and at PRECISION_OUTLIER_RATIO or above the row carries a
precision note ("mindspore is 48x further from float64 than torch"), a failure under --strict-precision --
unless that side's own float64 run is off as well, or it is further from float64 than sqrt(eps) x the largest
reference value (it lost more than half the dtype's digits): then it computes another function, not a less
precise one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eqcheck.verdict.compare import json_safe

NOISE_K = 2.0
OUTLIER_RATIO = 2.0  # name the farther side in the statement
PRECISION_OUTLIER_RATIO = 10.0  # a visible note on the row; a failure with --strict-precision
_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| over the elements finite on both sides, in float64 (0 when none is); inf for different shapes
    (paired layers whose outputs differ: never broadcast into a distance that means nothing)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    with np.errstate(all="ignore"):
        d = np.abs(a - b)
    d = d[np.isfinite(a) & np.isfinite(b)]
    return float(d.max()) if d.size else 0.0


def _times(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def noise_verdict(dtype: str) -> str:
    """The verdict of a row outside its tolerance but within its error budget, named after the case dtype."""
    return f"pass (within {dtype} noise)"


def attribute(
    deviation_max_abs: float,
    deviation_passed: bool,
    nonfinite_mismatch: int,
    outputs: dict[str, np.ndarray],
    reference_label: str,
    reference: np.ndarray,
    own_float64: dict[str, np.ndarray | None],
    dtype: str,
    standin: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """The budget record of one row; `outputs` holds the two sides' results in the case dtype, `standin` the
    (case dtype, float64) results of the float64 stand-in of a side that refused float64 (backends/standins)."""
    distance = {label: max_abs(arr, reference) for label, arr in outputs.items()}
    finite_ref = np.abs(np.asarray(reference, dtype=np.float64))
    finite_ref = finite_ref[np.isfinite(finite_ref)]
    scale = float(finite_ref.max()) if finite_ref.size else 0.0
    eps = _EPS.get(dtype, _EPS["float32"])
    # Rounding loses digits, not half of them: a larger "own error" is a side whose float32 path computes
    # something its float64 path does not (a dtype-specific kernel bug), and must not pass as noise.
    plausible = np.sqrt(eps) * scale
    own, rejected = {}, {}
    for label, arr in own_float64.items():
        if arr is None or np.shape(arr) != np.shape(outputs[label]):
            continue
        error, off = max_abs(outputs[label], arr), max_abs(arr, reference)
        # A side's float64 run measures its own rounding error only if it is closer to the reference than its
        # float32 run: a kernel that computes "float64" in float32 (own error 0) or a different function fails this.
        if (off < error or (off == 0 and error == 0)) and error <= plausible:
            own[label] = error
        else:
            rejected[label] = {"own_error": error, "float64_vs_reference": off}
    from_standin = {}
    for label, (low, high) in (standin or {}).items():
        if label in own or label in rejected or np.shape(low) != np.shape(outputs[label]) or np.shape(high) != np.shape(low):
            continue
        # The stand-in's rounding is the side's only if the stand-in is the side's kernel up to that rounding: a
        # kernel bug larger than it breaks this, and no allowance is given.
        error, off, kernel = max_abs(low, high), max_abs(high, reference), max_abs(outputs[label], low)
        if (off < error or (off == 0 and error == 0)) and error <= plausible and kernel <= error:
            own[label] = error
            from_standin[label] = {"own_error": error, "kernel_vs_standin": kernel}
        else:
            rejected[label] = {"own_error": error, "float64_vs_reference": off, "kernel_vs_standin": kernel,
                               "source": "stand-in"}
    noise = max(own.values()) if own else None
    floor = 0.5 * eps * scale
    (far, d_far), (near, d_near) = sorted(distance.items(), key=lambda kv: -kv[1])
    denominator = max(d_near, floor)
    ratio = d_far / denominator if denominator > 0 else (1.0 if d_far == 0 else float("inf"))
    outlier = far if ratio >= OUTLIER_RATIO and d_far > 0 else None
    within = bool(
        not deviation_passed and nonfinite_mismatch == 0 and noise is not None and noise > 0
        and deviation_max_abs <= NOISE_K * noise
    )
    # The reference side's own float32 error: the other side is PRECISION_OUTLIER_RATIO times closer to the
    # float64 reference than the side whose float64 run *is* that reference, so the deviation is that side's
    # float32 error (torch's LayerNorm gradient over one feature: 3e-5 where the answer is 0, MindSpore 6e-14).
    # It must be rounding-sized: at most sqrt(eps) x max(largest reference value, 1), the 1 for results that are
    # exactly 0 (a tampered or wrong reference side, 0.01 off on atan2, stays a failure).
    reference_off = bool(
        not deviation_passed and nonfinite_mismatch == 0 and not within and far == reference_label
        and d_far > 0 and ratio >= PRECISION_OUTLIER_RATIO and d_far <= np.sqrt(eps) * max(scale, 1.0)
    )
    if outlier:
        statement = f"{far} is {_times(ratio)} further from the float64 reference than {near}"
    else:
        statement = f"{far} and {near} are about equally far from the float64 reference ({_times(ratio)})"
    record = {
        "reference": f"{reference_label} float64",
        "distance": distance,
        "own_error": own,
        "own_error_rejected": rejected,
        "own_error_from_standin": from_standin,
        "noise": noise,
        "k": NOISE_K,
        "budget": NOISE_K * noise if noise is not None else None,
        "noise_ratio": (deviation_max_abs / noise) if noise else None,
        "ratio": ratio if np.isfinite(ratio) else "inf",
        "outlier": outlier,
        "within_noise": within,
        "statement": statement,
    }
    # A precision outlier computes the same function less accurately; a side whose own float64 run is off too
    # (rejected above) computes something else, which the failing verdict and its diagnosis already say.
    # Nor is a side that lost more than half the dtype's digits (a side without float64 cannot be checked above).
    if outlier and ratio >= PRECISION_OUTLIER_RATIO and (reference_off or far not in rejected and d_far <= plausible):
        record["precision_note"] = f"precision outlier: {far} is {_times(ratio)} further from float64 than {near}"
    if within:
        record["verdict"] = noise_verdict(dtype)
    elif reference_off:
        record["within_noise"] = True
        record["verdict"] = f"pass ({far}'s own {dtype} error: {near} matches float64)"
    return json_safe(record)
