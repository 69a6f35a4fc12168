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

Every side brings an estimate of its own rounding that a bug cannot inflate (docs/verdicts.md has the table):
its own float64 run; a float64 stand-in built from its framework's primitives (eqcheck/backends/standins), credited
only if the stand-in is the kernel up to that rounding (|side - S| <= own); for a multilinear op, the structural bound
gamma_n * sum|t| of verdict/rounding.py (`bound`), element by element and with no K, since it is rigorous for any
summation order; and, where none of these applies, nothing measured: the side is then judged as a precision outlier
at most (|A - B| <= PRECISION_OUTLIER_RATIO x the other side's own error, with a note). Crediting a side with its
distance to the other side's float64 result would let any bug pass, so no rule here does.

An own error counts only if it is the same function's rounding: the side's float64 run is PRECISION_OUTLIER_RATIO
times closer to the reference than its float32 run (MindSpore's CPU `ops.std` returns float64 tensors holding
float32-computed values: own error 0; rand_like's two runs are independent draws), and it is rounding-sized -- below
the structural bound where there is one, else at most sqrt(eps) x the largest reference value or within
PRECISION_OUTLIER_RATIO of what the other, independent implementation shows (a formula that cancels on both sides,
such as sinc's gradient near 0). Elementwise kernels are judged in ulps instead (`elementwise`).

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

from eqcheck.verdict import rounding
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


def _gap(a, b) -> np.ndarray:
    """|a - b| element by element in float64; NaN where either is not finite."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.where(np.isfinite(a) & np.isfinite(b), np.abs(a - b), np.nan)


def _largest(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else 0.0


def _times(ratio: float) -> str:
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def plausible_fallback(dtype: str, scale: float) -> float:
    """The largest own error that counts as rounding where no structure bounds it: sqrt(eps) x the largest reference
    value (rounding costs digits, not half of them)."""
    return float(np.sqrt(_EPS.get(dtype, _EPS["float32"])) * scale)


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
    bound: np.ndarray | None = None,
    structure: str | None = None,
) -> dict[str, Any]:
    """The budget record of one row; `outputs` holds the two sides' results in the case dtype, `standin` the
    (case dtype, float64) results of the float64 stand-in of a side that refused float64 (backends/standins),
    `bound` the structural rounding bound of each element of a multilinear op (verdict/rounding.py)."""
    distance = {label: max_abs(arr, reference) for label, arr in outputs.items()}
    finite_ref = np.abs(np.asarray(reference, dtype=np.float64))
    finite_ref = finite_ref[np.isfinite(finite_ref)]
    scale = float(finite_ref.max()) if finite_ref.size else 0.0
    eps = _EPS.get(dtype, _EPS["float32"])
    if bound is not None and np.shape(bound) != np.shape(reference):
        bound = None
    # Rounding loses digits, not half of them: a larger "own error" is a side whose float32 path computes
    # something its float64 path does not (a dtype-specific kernel bug), and must not pass as noise. Where the
    # op's structure gives a rigorous bound, that bound decides, element by element; elsewhere sqrt(eps) x scale.
    # An elementwise kernel gets no sqrt(eps) floor: its rounding is a few ulps (verdict/rounding.py), so only an
    # error the other implementation shares counts (both kernels beyond ULP_THRESHOLD: see elementwise below).
    plausible = 0.0 if structure == "elementwise" else plausible_fallback(dtype, scale)

    # A side's float64 run measures its own rounding only if it is the same function: at least
    # PRECISION_OUTLIER_RATIO times closer to the reference than its float32 run (float64 is ~5e8 times more precise,
    # so a faithful one is far closer). A kernel that computes "float64" in float32 (own error 0), a different
    # function, or a random draw (rand_like: both runs are independent draws) fails this.
    def same_function(error: float, off: float) -> bool:
        return off * PRECISION_OUTLIER_RATIO <= error if error > 0 else off == 0

    runs = {label: (max_abs(outputs[label], arr), max_abs(arr, reference)) for label, arr in own_float64.items()
            if arr is not None and np.shape(arr) == np.shape(outputs[label])}  # label -> (own error, float64 vs reference)
    measured = {label: error for label, (error, off) in runs.items() if same_function(error, off)}
    # Total cancellation: a side whose float64 row is below the float32 rounding of its own float32 row computes a row
    # that is zero at this precision (HF ViT's key-bias gradient: softmax ignores a shift of the keys, so the exact
    # gradient is 0 and every float32 value is rounding noise). Its own error is then the noise level itself, not a
    # fraction of the reference's scale; with no other measured side, only the noise levels can be compared.
    cancelled = {label for label in runs if _largest(np.abs(outputs[label])) > 0 and _largest(
        np.abs(np.asarray(own_float64[label], np.float64))) <= rounding.unit_roundoff(dtype) * _largest(
        np.abs(np.asarray(outputs[label], np.float64)))}

    def rounding_sized(label: str, error_elements: np.ndarray) -> bool:
        if bound is not None:
            with np.errstate(invalid="ignore"):
                return bool(np.all((error_elements <= bound) | ~np.isfinite(error_elements)))
        # Unknown structure: an error the other, independent implementation in the same dtype shows as well (within
        # PRECISION_OUTLIER_RATIO) is the computation's own cancellation (sinc's gradient near 0), not a float32 bug.
        others = [error for other, error in measured.items() if other != label]
        if not others and label in cancelled:  # nothing to corroborate it: the row is zero at this precision
            return True
        return _largest(error_elements) <= max([plausible] + [PRECISION_OUTLIER_RATIO * e for e in others])

    own, rejected, own_elements = {}, {}, {}
    for label, (error, off) in runs.items():
        elements = _gap(outputs[label], own_float64[label])
        if same_function(error, off) and rounding_sized(label, elements):
            own[label], own_elements[label] = error, elements
        else:
            rejected[label] = {"own_error": error, "float64_vs_reference": off}
    from_standin = {}
    for label, (low, high) in (standin or {}).items():
        if label in own or label in rejected or np.shape(low) != np.shape(outputs[label]) or np.shape(high) != np.shape(low):
            continue
        # The stand-in's rounding is the side's only if the stand-in is the side's kernel up to that rounding: a
        # kernel bug larger than it breaks this, and no allowance is given.
        error, off, kernel = max_abs(low, high), max_abs(high, reference), max_abs(outputs[label], low)
        if same_function(error, off) and rounding_sized(label, _gap(low, high)) and kernel <= error:
            own[label], own_elements[label] = error, _gap(outputs[label], high)
            from_standin[label] = {"own_error": error, "kernel_vs_standin": kernel}
        else:
            rejected[label] = {"own_error": error, "float64_vs_reference": off, "kernel_vs_standin": kernel,
                               "source": "stand-in"}
    # A side with no float64 run of its own (nor a stand-in) is credited the structural bound: rigorous for any
    # summation order, so it holds on every CPU, and no bug larger than rounding can hide under it.
    from_structure = {}
    if bound is not None:
        for label in outputs:
            if label not in own and label not in rejected:
                own[label], own_elements[label] = float(np.max(bound, initial=0.0)), bound
                from_structure[label] = {"bound": own[label]}
    # No structure, no stand-in, no float64 of its own: the side is judged as a precision outlier at most. Its distance
    # from float64 is at most |A - B| + the other side's own error, so |A - B| <= PRECISION_OUTLIER_RATIO x that own
    # error means "the same function, at most that many times less precise" -- what a measured side gets as a
    # precision note, not a failure (--strict-precision fails it). A bug larger than that fails.
    implied = {}
    if bound is None and structure is None and len(own) == 1 and not rejected:
        (other, other_error), = own.items()
        for label in outputs:
            if label not in own and other_error > 0:
                implied[label] = {"bound": PRECISION_OUTLIER_RATIO * other_error, "from": other}
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
    implied_ratio = None
    if implied and not within and not deviation_passed and nonfinite_mismatch == 0:
        (label, credit), = implied.items()
        implied_ratio = deviation_max_abs / (noise + credit["bound"])
        within = implied_ratio <= 1.0
    bound_ratio = None
    if from_structure and len(own_elements) == len(outputs) and nonfinite_mismatch == 0 and not deviation_passed:
        # Element by element, no K: |A - B| <= |A - exact| + |B - exact|, each side's term measured against its own
        # float64 run or bounded by the structure (the bound includes the float64 reference's own rounding).
        a, b = (outputs[label] for label in outputs)
        allowed = sum(own_elements[label] for label in outputs)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(allowed > 0, _gap(a, b) / allowed, np.where(_gap(a, b) > 0, np.inf, 0.0))
        ratios = ratios[np.isfinite(np.asarray(a, np.float64)) & np.isfinite(np.asarray(b, np.float64))]
        bound_ratio = float(ratios.max()) if ratios.size else 0.0
        within = bound_ratio <= 1.0
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
        **({"own_error_from_structure": from_structure, "bound_ratio": bound_ratio} if from_structure else {}),
        **({"own_error_implied": implied, "implied_ratio": implied_ratio} if implied else {}),
        **({"structural_bound": float(np.max(bound, initial=0.0))} if bound is not None else {}),
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
    if cancelled & set(own):
        record["cancelled"] = sorted(cancelled & set(own))
        record["statement"] = (f"the exact row is 0 at {dtype} precision ({', '.join(record['cancelled'])}'s float64 run "
                               f"is below its {dtype} rounding): only noise levels are compared; " + record["statement"])
    if implied and within and noise and deviation_max_abs > NOISE_K * noise:
        (label, credit), = implied.items()
        times = deviation_max_abs / noise
        record["precision_note"] = (f"precision outlier at most: {label} has no float64 run; it differs from "
                                    f"{credit['from']} by {_times(times)} {credit['from']}'s own error, so it is at most "
                                    f"{_times(times + 1)} further from float64")
    if within:
        record["verdict"] = noise_verdict(dtype)
    elif reference_off:
        record["within_noise"] = True
        record["verdict"] = f"pass ({far}'s own {dtype} error: {near} matches float64)"
    return json_safe(record)


def elementwise(
    deviation_max_abs: float,
    deviation_passed: bool,
    nonfinite_mismatch: int,
    outputs: dict[str, np.ndarray],
    reference_label: str,
    reference: np.ndarray,
    own_float64: dict[str, np.ndarray | None],
    sensitivity: np.ndarray | None,
    dtype: str,
    source: str | None = None,
) -> dict[str, Any]:
    """The budget record of a forward row of an elementwise op (verdict/rounding.py), judged in ulps.

    Each side is measured against the float64 result of the same (exactly representable) inputs, element by
    element, in units of `ulp(f) + u * sensitivity`, where `sensitivity` = sum_k |x_k df/dx_k| (float64 finite
    differences, execution/checks/reference.py): an accurate kernel computes f(x(1 + d))(1 + e) with |d|, |e| of a
    few u (mixed forward-backward stability, Higham 2nd ed. section 1.5), so near a zero of f (log near 1, digamma
    near 1.46) it may lose relative accuracy, elsewhere not. Both sides within ULP_THRESHOLD: "within noise". The
    reference side alone beyond it: a precision note, as for the other rows. `source` names a reference other than
    the reference side's float64 run (mpmath, for float64 rows). The candidate beyond it: the row
    fails as kernel accuracy, naming each side's ulps. Both sides beyond it: the formula itself cancels (tanhshrink's
    x - tanh(x) near 0 loses the same digits on both), so the row is judged as any other row against each side's own
    float64 run, with no rounding floor: an error counts only as far as the other implementation shares it."""
    unit_floor = rounding.ulp(reference, dtype)
    if sensitivity is not None and np.shape(sensitivity) == np.shape(reference):
        unit = unit_floor + rounding.unit_roundoff(dtype) * np.abs(np.asarray(sensitivity, np.float64))
    else:
        unit = unit_floor
    plain = {label: rounding.ulps(arr, reference, dtype) for label, arr in outputs.items()}
    adjusted = {label: np.where(np.isfinite(u), u * unit_floor / unit, u) for label, u in plain.items()}
    worst = {label: float(np.max(u, initial=0.0)) for label, u in adjusted.items()}
    beyond = [label for label, w in worst.items() if w > rounding.ULP_THRESHOLD]
    labels = list(outputs)
    candidate = next(label for label in labels if label != reference_label) if len(labels) > 1 else labels[0]
    record: dict[str, Any] = {
        "reference": source or f"{reference_label} float64",
        "structure": "elementwise",
        "ulps": worst,
        "ulps_plain": {label: float(np.max(u, initial=0.0)) for label, u in plain.items()},
        "ulp_threshold": rounding.ULP_THRESHOLD,
        "distance": {label: max_abs(arr, reference) for label, arr in outputs.items()},
        "within_noise": False,
        "own_error": {},
        "k": NOISE_K,
        "noise_ratio": None,
    }
    record["outlier"] = next((label for label in beyond if label != reference_label), beyond[0] if beyond else None)
    described = ", ".join(f"{label} {_ulps(worst[label])}" for label in labels)
    if not beyond:
        record["statement"] = f"both within {rounding.ULP_THRESHOLD:g} ulps of float64 ({described})"
        record.update(within_noise=not deviation_passed, verdict=noise_verdict(dtype))
    elif beyond == [reference_label] and record["distance"][reference_label] <= plausible_fallback(dtype, max(
            float(np.max(np.abs(np.asarray(reference, np.float64)[np.isfinite(reference)]), initial=0.0)), 1.0)):
        # a less accurate reference kernel, not another function: rounding-sized (half the digits at most), as the
        # reference-side rule of `attribute` (a tampered recorded torch output, 0.01 off, fails)
        record["statement"] = f"{reference_label} is {_ulps(worst[reference_label])} from float64, {candidate} within " \
                              f"{rounding.ULP_THRESHOLD:g}"
        record["precision_note"] = f"precision outlier: {reference_label}'s {dtype} kernel is " \
                                   f"{_ulps(worst[reference_label])} from float64 ({candidate} {_ulps(worst[candidate])})"
        record.update(within_noise=not deviation_passed, verdict=f"pass ({reference_label}'s own {dtype} error: "
                                                                  f"{candidate} matches float64)")
    elif len(beyond) == len(labels) > 1:
        shared = attribute(deviation_max_abs, deviation_passed, nonfinite_mismatch, outputs, reference_label, reference,
                           own_float64, dtype, structure="elementwise")
        shared.update(structure="elementwise", ulps=worst, ulp_threshold=rounding.ULP_THRESHOLD,
                      statement=f"both kernels beyond {rounding.ULP_THRESHOLD:g} ulps of float64 ({described}): "
                                + shared["statement"])
        return shared
    else:
        record["kernel_accuracy"] = {label: worst[label] for label in beyond}
        record["statement"] = (f"kernel accuracy: {' and '.join(beyond)} beyond {rounding.ULP_THRESHOLD:g} ulps of "
                               f"float64 ({described})")
    return json_safe(record)


def _ulps(value: float) -> str:
    if not np.isfinite(value):
        return "not finite where float64 is (or the reverse)"
    return f"{value:.0f} ulps" if value >= 10 else f"{value:.1f} ulps"
