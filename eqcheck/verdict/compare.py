"""Deviation metrics between a reference output and a candidate output, and the pass/fail verdict.

Pure numpy, no printing. ``compare`` walks both arrays once, chunk by chunk, so that comparing two
2**27-element float32 tensors needs a few MiB of scratch memory instead of several full-size
temporaries, and costs well under 3x a bare ``np.max(np.abs(a - b))``.

Every element is widened to float64 before any arithmetic, so the metrics are never polluted by
float32/float16 rounding (``1.0`` vs ``1.0 + 2**-23`` in float32 reports a max_abs of exactly
``2**-23``). numpy has no bfloat16: such tensors reach this module as float32 (see
``eqcheck.dtypes.numpy_dtype``), which widens exactly; an ``ml_dtypes`` bfloat16 array is accepted
too and widened the same way.

The verdict for one element is ``within_tolerance``; a case passes iff no element fails it.
Integer and bool outputs (no float side) must be exactly equal whatever the tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eqcheck.dtypes import Tolerance
from eqcheck.spec.model import TensorArg

__all__ = ["CHUNK_SIZE", "Deviation", "compare", "within_tolerance"]

#: Elements processed per step. 2**15 float64 scratch buffers (256 KiB each, five of them) stay in
#: a core's L2 cache; measured on the 2-core dev box, 2**14..2**16 are all within a few percent and
#: 2**17 and above get slower as buffers spill out of L2. Tests pass ``chunk_size=`` to move it.
CHUNK_SIZE = 2**15

# Smallest normal float64: max(m, _TINY) turns the relative error's 0/0 (m == 0, where |r - c| is 0
# too) into 0/_TINY == 0 without a mask. Not the subnormal 5e-324: a process with denormals-are-zero
# set (torch.set_flush_denormal, some native kernels) reads that as 0, and one 0/0 = NaN in a chunk
# made its max_rel NaN, which skipped the chunk's mismatch count (a failing output judged passing).
_TINY = 2.2250738585072014e-308


# --------------------------------------------------------------------------------------------------
# The rule


def within_tolerance(reference: Any, candidate: Any, tolerance: Tolerance) -> np.ndarray:
    """Element-wise verdict: a bool array, True where the candidate agrees with the reference.

    Element ``i`` passes iff either

    * both values are finite and ``|r_i - c_i| <= atol + rtol * max(|r_i|, |c_i|)``, or
    * both are non-finite with the identical pattern: both NaN, or the same-signed infinity.

    For a float row whose largest finite value is below 1, atol is multiplied by that value (the row at its own scale).

    A NaN on one side only, an infinity facing a finite value, and ``+Inf`` vs ``-Inf`` all fail.

    The relative term scales with ``max(|r|, |c|)``, not with one side, because neither framework is
    ground truth: swapping reference and candidate gives the same verdict, so it does not matter
    which framework the spec lists first. ``torch.testing.assert_close(actual, expected)`` uses
    ``|a - e| <= atol + rtol * |e|`` (asymmetric: ``e`` is trusted). Since
    ``max(|r|, |c|) <= |e| + |r - c|``, our bound is at most ``rtol * |r - c|`` looser than torch's
    for the same ``rtol``/``atol`` -- with rtol around 1e-6..1e-2 a negligible difference -- and never
    tighter. With ``rtol = atol = 0`` it is exact equality.

    Arithmetic is float64 (inputs are widened first), vectorized over whatever chunk is passed;
    ``compare`` applies the same expression, ``atol + rtol * max(|r|, |c|)``, evaluated in the same
    order, to each chunk, so its ``mismatched`` count is exactly the number of False entries here.
    """
    r = np.asarray(reference, dtype=np.float64)
    c = np.asarray(candidate, dtype=np.float64)
    rtol, atol = float(tolerance.rtol), float(tolerance.atol)
    with np.errstate(all="ignore"):
        d = np.abs(r - c)
        m = np.maximum(np.abs(r), np.abs(c))
        exact = _kind(np.asarray(reference).dtype) == "int" and _kind(np.asarray(candidate).dtype) == "int"
        finite_m = m[np.isfinite(m)]
        scale = float(finite_m.max()) if finite_m.size else 0.0
        if not exact and atol > 0 and scale < 1:  # the row judged at its own scale (see compare)
            atol *= scale
        ok = d <= np.add(np.multiply(m, rtol), atol)
        ok &= np.isfinite(m)  # m is finite iff both sides are (a NaN propagates through maximum)
        ok |= r == c  # equal finite values, and same-signed infinities
        ok |= np.isnan(r) & np.isnan(c)
    return ok


# --------------------------------------------------------------------------------------------------
# Result


def json_safe(value: Any) -> Any:
    """Plain JSON values (the report is written with allow_nan=False): NaN/Inf as strings, numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, Tolerance):
        return json_safe(value.as_dict())
    if isinstance(value, TensorArg):  # a spec's tensor-valued argument, as the spec wrote it
        return {"tensor": json_safe(value.values), "dtype": value.dtype}
    return value


@dataclass(frozen=True)
class Deviation:
    """How far a candidate output is from the reference output, and whether that is acceptable.

    Finite-value metrics (max_abs .. cosine) are taken over elements where both sides are finite;
    non-finite disagreements are counted in ``nonfinite_mismatch`` (and in ``mismatched``).
    """

    shape: tuple[int, ...]
    dtypes: tuple[str, str]
    max_abs: float
    mean_abs: float
    max_rel: float
    mean_rel: float
    rms: float
    cosine: float | None
    mismatched: int
    size: int
    nonfinite_mismatch: int
    worst_index: tuple[int, ...] | None  # the worst *failing* element (largest |r-c| / bound); else the max_abs one
    worst_values: tuple[float, float] | None
    tolerance: Tolerance
    passed: bool
    reason: str | None
    worst_factor: float | None = None  # |r-c| / (atol + rtol*max(|r|,|c|)) at worst_index: > 1 where it fails
    max_abs_index: tuple[int, ...] | None = None  # the element with the largest |r-c|, failing or not
    max_abs_values: tuple[float, float] | None = None
    atol_scaled_from: float | None = None  # the table's atol when the row was judged at its own scale (atol x its largest value)

    @property
    def mismatched_fraction(self) -> float:
        if self.size:
            return self.mismatched / self.size
        return 0.0 if self.passed else 1.0

    def as_dict(self) -> dict:
        """Plain JSON-safe dict: lists for tuples, Python numbers, non-finite floats as "nan"/"inf"/"-inf"."""
        out = {
            "shape": self.shape,
            "dtypes": self.dtypes,
            "max_abs": self.max_abs,
            "mean_abs": self.mean_abs,
            "max_rel": self.max_rel,
            "mean_rel": self.mean_rel,
            "rms": self.rms,
            "cosine": self.cosine,
            "mismatched": self.mismatched,
            "mismatched_fraction": self.mismatched_fraction,
            "size": self.size,
            "nonfinite_mismatch": self.nonfinite_mismatch,
            "worst_index": self.worst_index,
            "worst_values": self.worst_values,
            "worst_factor": self.worst_factor,
            "max_abs_index": self.max_abs_index,
            "max_abs_values": self.max_abs_values,
            "tolerance": self.tolerance,
            **({"atol_scaled_from": self.atol_scaled_from} if self.atol_scaled_from is not None else {}),
            "passed": self.passed,
            "reason": self.reason,
        }
        return json_safe(out)


# --------------------------------------------------------------------------------------------------
# Comparison


def _kind(dtype: np.dtype) -> str:
    if dtype == np.bool_ or np.issubdtype(dtype, np.integer):
        return "int"
    if np.issubdtype(dtype, np.floating) or dtype.name == "bfloat16":  # ml_dtypes.bfloat16
        return "float"
    raise TypeError(f"cannot compare arrays of dtype {dtype.name}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _percent(k: int, n: int) -> str:
    pct = 100.0 * k / n
    return f"{pct:.2f}%" if pct >= 0.01 else f"{pct:.2g}%"


class _Accumulator:
    """Running sums over the both-finite elements, plus the worst element seen so far."""

    __slots__ = (
        "n_finite", "sum_abs", "max_abs", "worst_flat", "sum_rel", "max_rel",
        "dd", "rr", "cc", "mismatched", "nonfinite", "first_nonfinite",
        "rtol", "atol", "rel_safe", "exact", "m", "t", "b", "fail_factor", "fail_gap", "fail_flat", "scale",
    )

    def __init__(self, tolerance: Tolerance, exact: bool, chunk: int):
        self.n_finite = 0
        self.sum_abs = 0.0
        self.max_abs = -1.0
        self.worst_flat: int | None = None
        self.sum_rel = 0.0
        self.max_rel = 0.0
        self.dd = 0.0
        self.rr = 0.0
        self.cc = 0.0
        self.mismatched = 0  # finite elements failing the rule (all differing elements in exact mode)
        self.nonfinite = 0
        self.first_nonfinite: int | None = None
        self.fail_factor = 0.0  # the largest |r-c| / bound over failing elements, its |r-c|, and where
        self.fail_gap = 0.0
        self.fail_flat: int | None = None
        self.scale = 0.0  # the largest |r| or |c| over both-finite elements: the row's own magnitude
        self.rtol = float(tolerance.rtol)
        self.atol = float(tolerance.atol)
        # If every relative error fl(d/m) of a chunk is <= rel_safe, then d <= rtol*m holds exactly
        # for each element, hence d <= fl(atol + fl(rtol*m)) (rounding is monotonic and d is a
        # double): fl(d/m) >= (d/m)(1 - 2**-53) while d/m is normal, the 2**-50 margin absorbs that
        # and the rounding of rel_safe itself; a subnormal d/m is < 2**-1022 <= rtol.
        self.rel_safe = self.rtol * (1.0 - 2.0**-50) if self.rtol >= 2.0**-1000 else -1.0
        self.exact = exact
        self.m = np.empty(chunk, dtype=np.float64)
        self.t = np.empty(chunk, dtype=np.float64)
        self.b = np.empty(chunk, dtype=np.bool_)

    def finite(self, rv, cv, dv, sum_abs, base, count, mask, raw_r, raw_c) -> None:
        """Fold in one chunk whose ``count`` both-finite elements are flagged by ``mask`` (None: all).

        rv, cv: float64 values (overwritten: their absolute values); dv: |rv - cv|; sum_abs: its
        sum; base: flat index of the chunk's first element. Positions outside ``mask`` hold zeros
        in rv, cv and dv, so they add nothing to any sum and can never fail the rule.
        """
        k = dv.shape[0]
        mx = float(dv.max())
        if mx > self.max_abs:
            # a zero-filled position can only win when the chunk's finite part agrees exactly:
            # then report the first finite element rather than a masked one
            j = int(np.argmax(mask)) if (mask is not None and mx == 0.0) else int(dv.argmax())
            self.max_abs = mx
            self.worst_flat = base + j
        self.n_finite += count
        self.sum_abs += float(sum_abs)
        dot = np.dot
        self.dd += float(dot(dv, dv))
        self.rr += float(dot(rv, rv))
        self.cc += float(dot(cv, cv))
        m = self.m[:k]
        t = self.t[:k]
        np.abs(rv, out=rv)
        np.abs(cv, out=cv)
        np.maximum(rv, cv, out=m)
        top = float(m.max())
        if top > self.scale:
            self.scale = top
        np.maximum(m, _TINY, out=m)
        np.divide(dv, m, out=t)  # relative error
        rel_max = float(t.max())
        if rel_max > self.max_rel:
            self.max_rel = rel_max
        self.sum_rel += float(np.add.reduce(t))
        if self.exact:
            b = self.b[:k]
            np.not_equal(raw_r, raw_c, out=b)
            self.mismatched += int(np.count_nonzero(b))
        elif mx > self.atol and rel_max > self.rel_safe:
            # Skipped when the chunk provably passes: atol + rtol*m >= atol covers mx <= atol, and
            # rel_max <= rel_safe implies |r - c| <= rtol*m exactly (see __init__). Otherwise count,
            # with within_tolerance's expression and evaluation order. (m's _TINY floor only touches
            # m == 0 where |r - c| == 0, which passes either way.)
            b = self.b[:k]
            np.multiply(m, self.rtol, out=t)
            np.add(t, self.atol, out=t)
            np.greater(dv, t, out=b)
            failing = int(np.count_nonzero(b))
            if failing:
                self.mismatched += failing
                with np.errstate(divide="ignore", invalid="ignore"):
                    factor = np.where(b, dv / t, -1.0)  # a zero bound (atol = rtol = 0) gives inf
                top = factor.max()
                j = int(np.argmax(np.where(factor == top, dv, -1.0)))  # ties (inf): the larger |r - c|
                better = self.fail_flat is None or top > self.fail_factor or (top == self.fail_factor and dv[j] > self.fail_gap)
                if better:
                    self.fail_factor, self.fail_gap, self.fail_flat = float(top), float(dv[j]), base + j

    def nonfinite_chunk(self, rv, cv, dv, base) -> None:
        """A chunk holding a NaN or Inf: count pattern disagreements, then fold in its finite part."""
        k = dv.shape[0]
        both = np.isfinite(rv)
        both &= np.isfinite(cv)
        count = int(np.count_nonzero(both))
        if count == k:  # all finite after all: a float64 overflow, |r - c| == inf
            self.finite(rv, cv, dv, np.add.reduce(dv), base, k, None, None, None)
            return
        odd = np.flatnonzero(~both)
        ro, co = rv[odd], cv[odd]
        agree = ro == co  # same-signed infinities
        agree |= np.isnan(ro) & np.isnan(co)
        if not agree.all():
            disagree = odd[~agree]
            self.nonfinite += int(disagree.size)
            if self.first_nonfinite is None:
                self.first_nonfinite = base + int(disagree[0])
        if count == 0:
            return
        rv[odd] = 0.0
        cv[odd] = 0.0
        dv[odd] = 0.0
        self.finite(rv, cv, dv, np.add.reduce(dv), base, count, both, None, None)


def _chunk_step(shape: tuple[int, ...], chunk: int, contiguous: bool) -> int:
    """Elements per step: ``chunk``, or for strided input a whole number of leading-axis rows."""
    if contiguous or len(shape) < 2:
        return chunk
    row = math.prod(shape[1:])
    return (chunk // row) * row if 0 < row <= chunk else chunk


def _flat_chunks(a: np.ndarray, step: int):
    """Yield (start, a's C-order elements [start, start+step) as a 1-d array), never copying all of a."""
    n = a.size
    if a.flags.c_contiguous:
        flat = a.reshape(-1)
        for s in range(0, n, step):
            yield s, flat[s:s + step]
        return
    row = math.prod(a.shape[1:]) if a.ndim >= 2 else 1
    if a.ndim >= 1 and 0 < row and step % row == 0:
        rows = step // row  # copy a block of rows (a transposed or sliced tensor): fast strided copy
        for i in range(0, a.shape[0], rows):
            yield i * row, np.ascontiguousarray(a[i:i + rows]).reshape(-1)
    else:  # a single row larger than a step: element-wise flat iteration, one step at a time
        flat = a.flat
        for s in range(0, n, step):
            yield s, flat[s:s + step]


def _shape_mismatch(reference, candidate, tolerance: Tolerance) -> Deviation:
    nan = float("nan")
    return Deviation(
        shape=tuple(reference.shape),
        dtypes=(reference.dtype.name, candidate.dtype.name),
        max_abs=nan, mean_abs=nan, max_rel=nan, mean_rel=nan, rms=nan, cosine=None,
        mismatched=int(reference.size), size=int(reference.size), nonfinite_mismatch=0,
        worst_index=None, worst_values=None, tolerance=tolerance, passed=False,
        reason=f"shape {tuple(reference.shape)} vs {tuple(candidate.shape)}",
    )


def compare(
    reference: np.ndarray,
    candidate: np.ndarray,
    tolerance: Tolerance,
    *,
    chunk_size: int | None = None,
    _scaled: Tolerance | None = None,
) -> Deviation:
    """Measure how far ``candidate`` is from ``reference`` and judge it against ``tolerance``.

    One pass over the data in chunks of ``chunk_size`` (default ``CHUNK_SIZE``) elements, sums
    accumulated in float64. Never raises on disagreeing inputs: a shape mismatch is a failing
    Deviation. Raises TypeError for dtypes that are neither float, integer nor bool.

    A float row whose largest value is below 1 is judged at its own scale: atol times that value
    (``Deviation.atol_scaled_from`` keeps the table's atol); rtol is unchanged.
    """
    reference = np.asarray(reference)
    candidate = np.asarray(candidate)
    if tuple(reference.shape) != tuple(candidate.shape):
        return _shape_mismatch(reference, candidate, tolerance)
    exact = _kind(reference.dtype) == "int" and _kind(candidate.dtype) == "int"
    size = int(reference.size)
    chunk = int(chunk_size or CHUNK_SIZE)
    if chunk < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk}")
    chunk = max(1, min(chunk, size))

    acc = _Accumulator(tolerance, exact, chunk)
    r64 = np.empty(chunk, dtype=np.float64)
    c64 = np.empty(chunk, dtype=np.float64)
    d64 = np.empty(chunk, dtype=np.float64)
    copyto, subtract, absolute, add_reduce, isfinite = np.copyto, np.subtract, np.abs, np.add.reduce, math.isfinite

    with np.errstate(all="ignore"):
        if size:
            step = _chunk_step(
                reference.shape, chunk, reference.flags.c_contiguous and candidate.flags.c_contiguous
            )
            for (start, rc), (_, cc) in zip(_flat_chunks(reference, step), _flat_chunks(candidate, step)):
                k = rc.shape[0]
                rv, cv, dv = (r64, c64, d64) if k == chunk else (r64[:k], c64[:k], d64[:k])
                copyto(rv, rc, casting="unsafe")
                copyto(cv, cc, casting="unsafe")
                subtract(rv, cv, out=dv)
                absolute(dv, out=dv)
                s = add_reduce(dv)
                if isfinite(s):  # no NaN/Inf on either side (any would make the sum non-finite)
                    acc.finite(rv, cv, dv, s, start, k, None, rc, cc)
                else:
                    acc.nonfinite_chunk(rv, cv, dv, start)

    if not exact and 0 < tolerance.atol and acc.scale < 1 and not _scaled:
        # A row judged at its own scale: an absolute tolerance larger than the row's values decides nothing (a
        # gradient of magnitude 1e-9 would pass any content), so atol shrinks with the row's largest value below 1.
        scaled = Tolerance(rtol=tolerance.rtol, atol=tolerance.atol * acc.scale)
        if acc.max_abs > scaled.atol:
            return compare(reference, candidate, scaled, chunk_size=chunk_size, _scaled=tolerance)
        acc.atol = scaled.atol
        return _finish(reference, candidate, scaled, acc, exact, size, tolerance)
    return _finish(reference, candidate, tolerance, acc, exact, size, _scaled)


def _finish(reference, candidate, tolerance, acc: _Accumulator, exact: bool, size: int,
            unscaled: Tolerance | None = None) -> Deviation:
    nf = acc.n_finite
    if nf:
        max_abs = acc.max_abs
        mean_abs = acc.sum_abs / nf
        max_rel = acc.max_rel
        mean_rel = acc.sum_rel / nf
        rms = math.sqrt(acc.dd / nf)
    else:
        max_abs = mean_abs = max_rel = mean_rel = rms = 0.0

    cosine: float | None = None
    if acc.rr > 0.0 and acc.cc > 0.0:
        # r.c from |r - c|^2 = |r|^2 + |c|^2 - 2 r.c: saves a dot per chunk; the absolute error on
        # the cosine stays O(eps * (|r|^2 + |c|^2) / (|r| |c|)), i.e. ~1e-16 for same-scale outputs.
        rc = 0.5 * ((acc.rr + acc.cc) - acc.dd)
        cosine = rc / (math.sqrt(acc.rr) * math.sqrt(acc.cc))
        if cosine == cosine:  # clip rounding overshoot, keep a NaN from overflowed sums
            cosine = min(1.0, max(-1.0, cosine))

    def element(flat):
        if flat is None:
            return None, None
        index = tuple(int(i) for i in np.unravel_index(flat, reference.shape))
        return index, (float(reference[index]), float(candidate[index]))

    max_abs_index, max_abs_values = element(acc.worst_flat)
    worst_factor = None
    if acc.first_nonfinite is not None:
        worst_index, worst_values = element(acc.first_nonfinite)
        worst_factor = float("inf")
    elif acc.fail_flat is not None:
        worst_index, worst_values = element(acc.fail_flat)
        worst_factor = acc.fail_factor
    else:
        worst_index, worst_values = max_abs_index, max_abs_values
        if worst_values is not None and not exact:
            r, c = worst_values
            bound = acc.atol + acc.rtol * max(abs(r), abs(c))
            gap = abs(r - c)
            worst_factor = gap / bound if bound > 0 else (0.0 if gap == 0 else float("inf"))

    mismatched = acc.mismatched + acc.nonfinite
    passed = mismatched == 0
    reason = None
    if not passed:
        if exact:
            reason = f"integer values differ at {acc.mismatched} of {_plural(size, 'element')}"
        else:
            parts = []
            if acc.nonfinite:
                parts.append(f"NaN/Inf pattern differs at {_plural(acc.nonfinite, 'element')}")
            if acc.mismatched:
                parts.append(
                    f"{acc.mismatched} of {_plural(size, 'element')} ({_percent(acc.mismatched, size)})"
                    f" exceed{'s' if acc.mismatched == 1 else ''} atol+rtol*max(|r|,|c|)"
                )
            reason = "; ".join(parts)

    return Deviation(
        shape=tuple(int(s) for s in reference.shape),
        dtypes=(reference.dtype.name, candidate.dtype.name),
        max_abs=float(max_abs),
        mean_abs=float(mean_abs),
        max_rel=float(max_rel),
        mean_rel=float(mean_rel),
        rms=float(rms),
        cosine=cosine,
        mismatched=int(mismatched),
        size=size,
        nonfinite_mismatch=int(acc.nonfinite),
        worst_index=worst_index,
        worst_values=worst_values,
        tolerance=tolerance,
        passed=passed,
        reason=reason,
        worst_factor=worst_factor,
        max_abs_index=max_abs_index,
        max_abs_values=max_abs_values,
        atol_scaled_from=None if unscaled is None else float(unscaled.atol),
    )
