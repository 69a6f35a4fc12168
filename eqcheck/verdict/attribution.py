"""float64 attribution: which side is off, and is a deviation just float32 noise? Pure numpy.

For each forward output of a float32/float16/bfloat16 case, the case runs again in float64 on every side
that can (the same canonical weights and input *values*, upcast exactly, so only the arithmetic differs):

* `distance[side]`  = max |side(dtype) - reference(float64)|, where the reference is torch in float64
  (the first target of the torch framework; MindSpore's float64 run when no torch target can);
* `own_error[side]` = max |side(dtype) - side(float64)|: the side's own rounding error, measured against
  its own float64 run (absent when the side refuses float64, e.g. MindSpore's GRUCell).

Rule (K = NOISE_K). An output that fails its tolerance is reported "pass (within float32 noise)" iff

    max |A - B|  <=  K * max(own_error[A], own_error[B])        and the NaN/Inf patterns agree.

Why own errors and not the distances to one reference: |A - B| <= distance[A] + distance[B] always holds
(triangle inequality), so a rule on distances would pass *any* pair, a wrong function included. Against
each side's own float64 run, |A - B| <= own[A] + own[B] + |A64 - B64| <= 2 max(own) + |A64 - B64|: two
implementations of the same function (A64 ~ B64) can never exceed K = 2, while a different function keeps
|A64 - B64| and fails once that exceeds the float32 noise. K = 2 is therefore the smallest K that never
raises a false alarm on a same-function pair, and anything larger only hides real differences (docs/beyond-forward.md
lists the ratio max|A-B| / max(own) measured over the shipped configs). A side without its own float64
run is credited with its distance to the reference as its own error only while that distance is within
K x the measured side's own error (it is then as accurate as float32 allows; a different function is not);
otherwise it contributes no allowance and the measurable side must explain the deviation alone. Nor does
a side whose float64 run is no closer to the reference than its float32 run (`own_error_rejected`): measured
here, MindSpore's CPU `ops.std` returns float64 tensors holding float32-computed values (own error 0), and a
side computing a different function would otherwise pass its own difference off as noise.

The outlier: `ratio` = the larger distance / the smaller one (floored at half an ulp of the largest
reference value in the case dtype, so an exactly-rounded side gives a finite ratio); at OUTLIER_RATIO or
above the farther side is named ("mindspore is 90x further from the float64 reference than torch").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eqcheck.verdict.compare import _json_safe

NOISE_K = 2.0
OUTLIER_RATIO = 2.0
_EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| over the elements finite on both sides, in float64 (0 when none is)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(all="ignore"):
        d = np.abs(a - b)
    d = d[np.isfinite(a) & np.isfinite(b)]
    return float(d.max()) if d.size else 0.0


def _times(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def attribute(
    deviation_max_abs: float,
    deviation_passed: bool,
    nonfinite_mismatch: int,
    outputs: dict[str, np.ndarray],
    reference_label: str,
    reference: np.ndarray,
    own_float64: dict[str, np.ndarray | None],
    dtype: str,
) -> dict[str, Any]:
    """The attribution record of one output; `outputs` holds the two sides' results in the case dtype."""
    distance = {label: max_abs(arr, reference) for label, arr in outputs.items()}
    own, rejected = {}, {}
    for label, arr in own_float64.items():
        if arr is None:
            continue
        error, off = max_abs(outputs[label], arr), max_abs(arr, reference)
        # A side's float64 run measures its own rounding error only if it is closer to the reference than its
        # float32 run: a kernel that computes "float64" in float32 (own error 0) or a different function fails this.
        if off < error:
            own[label] = error
        else:
            rejected[label] = {"own_error": error, "float64_vs_reference": off}
    # A side with no usable float64 run of its own (MindSpore's GRUCell refuses float64) is credited with its
    # distance to the reference as its rounding error, but only while that distance is within K x the measured
    # noise: then it is as accurate as float32 arithmetic allows; further out it gets no allowance at all.
    estimated = {}
    if own:
        measured = max(own.values())
        for label in outputs:
            if label not in own and distance[label] <= NOISE_K * measured:
                estimated[label] = distance[label]
    noise = max([*own.values(), *estimated.values()]) if own else None
    finite_ref = np.abs(np.asarray(reference, dtype=np.float64))
    finite_ref = finite_ref[np.isfinite(finite_ref)]
    floor = 0.5 * _EPS.get(dtype, _EPS["float32"]) * (float(finite_ref.max()) if finite_ref.size else 0.0)
    (far, d_far), (near, d_near) = sorted(distance.items(), key=lambda kv: -kv[1])
    denominator = max(d_near, floor)
    ratio = d_far / denominator if denominator > 0 else (1.0 if d_far == 0 else float("inf"))
    outlier = far if ratio >= OUTLIER_RATIO and d_far > 0 else None
    within = bool(
        not deviation_passed and nonfinite_mismatch == 0 and noise is not None and noise > 0
        and deviation_max_abs <= NOISE_K * noise
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
        "own_error_estimated": estimated,
        "noise": noise,
        "k": NOISE_K,
        "noise_ratio": (deviation_max_abs / noise) if noise else None,
        "ratio": ratio if np.isfinite(ratio) else "inf",
        "outlier": outlier,
        "within_noise": within,
        "statement": statement,
    }
    if within:
        record["verdict"] = "pass (within float32 noise)"
    return _json_safe(record)
