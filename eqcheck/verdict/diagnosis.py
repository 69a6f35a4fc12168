"""A diagnosis line for a failing row: which known pattern the two arrays show. Pure numpy.

`HINTS` is an ordered list of small functions `(ref, cand, context) -> str | Diagnosis | None`; `diagnose` tries
them in order and the first that recognises its pattern names it ("no pattern found" otherwise, an honest answer).
`diagnosis_of` also says which pattern as data (`Diagnosis.kind`: the hint's name, unless it returned its own). A
hint sees both sides' arrays (same shape) and a `Context`: the row's name and kind, the side labels, the case
dtype and the case's inputs by canonical name. A new hint is one function added with `register` (see
eqcheck/verdict/nonfinite.py's NaN/Inf patterns); a hint that raises is skipped, never ends the run.

"Matches" below means agreement within a loose, dtype-sized fraction of the row's scale (MATCH_RTOL): a
hint explains the gross difference that failed the row, not the last bits.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from eqcheck.verdict.nonfinite import nonfinite_hint
from eqcheck.verdict.results import Diagnosis

NO_PATTERN = "no pattern found"
# Relative to the row's largest magnitude: the agreement a hint needs once its pattern is undone.
MATCH_RTOL = {"float16": 1e-2, "bfloat16": 5e-2, "float32": 1e-4, "float64": 1e-6}
MAX_BLOCKS = 4  # reorder hint: up to 4 blocks per axis (GRU's 3 gates, LSTM's 4), all 24 orders
MAX_REORDER_SIZE = 1 << 22  # larger rows skip the permutation search (it copies the array per order)


@dataclass(frozen=True)
class Context:
    """What a hint may look at besides the two arrays."""

    name: str  # the row: out, grad:weight, state:running_mean ...
    kind: str = "output"  # output | grad | state
    labels: tuple[str, str] = ("reference", "candidate")  # the sides' target labels, ref first
    dtype: str = "float32"  # the case dtype
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # the case's inputs by canonical name

    @property
    def rtol(self) -> float:
        return MATCH_RTOL.get(self.dtype, MATCH_RTOL["float32"])


Hint = Callable[[np.ndarray, np.ndarray, Context], "str | Diagnosis | None"]


def _num(x: float) -> str:
    return f"{x:.6g}"


def _finite(a: np.ndarray) -> bool:
    return bool(np.isfinite(a).all())


def _matches(a: np.ndarray, b: np.ndarray, ctx: Context, scale: float | None = None) -> bool:
    """a and b agree within ctx.rtol of the row's scale (the larger magnitude of either)."""
    if a.shape != b.shape or not (_finite(a) and _finite(b)):
        return False
    if scale is None:
        scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    return float(np.abs(a - b).max(initial=0.0)) <= ctx.rtol * scale


# --------------------------------------------------------------------------------------------------
# The hints, in the order `diagnose` tries them


def one_side_constant(ref, cand, ctx: Context) -> str | None:
    """One side all zeros or one constant value while the other varies (a gradient that never flowed)."""
    for (side, a), (other, b) in (((ctx.labels[0], ref), (ctx.labels[1], cand)), ((ctx.labels[1], cand), (ctx.labels[0], ref))):
        if a.size < 2 or not _finite(a):
            continue
        if np.ptp(a) == 0 and not (np.isfinite(b).all() and np.ptp(b) == 0):
            value = float(a.flat[0])
            what = "all zeros" if value == 0 else f"constant ({_num(value)})"
            return f"{side}'s {ctx.name} is {what} while {other}'s varies"
    return None


def nonfinite_one_side(ref, cand, ctx: Context) -> str | None:
    """NaN or Inf on one side where the other side is finite."""
    parts = []
    for side, a, b in ((ctx.labels[0], ref, cand), (ctx.labels[1], cand, ref)):
        only = ~np.isfinite(a) & np.isfinite(b)
        if only.any():
            nan, inf = int(np.count_nonzero(np.isnan(a) & only)), int(np.count_nonzero(np.isinf(a) & only))
            first = tuple(int(i) for i in np.unravel_index(int(np.argmax(only)), a.shape))
            counts = " and ".join(f"{n} {w}" for n, w in ((nan, "NaN"), (inf, "Inf")) if n)
            parts.append(f"{side} has {counts} where the other side is finite (first at {first})")
    return "; ".join(parts) or None


def sign_flip(ref, cand, ctx: Context) -> str | None:
    """Equal magnitudes, opposite signs (everywhere, or on a subset such as the negative inputs)."""
    if not (_finite(ref) and _finite(cand)) or not _matches(np.abs(ref), np.abs(cand), ctx):
        return None
    scale = max(float(np.abs(ref).max(initial=0.0)), 1e-300)
    flipped = (np.sign(ref) * np.sign(cand) < 0) & (np.abs(ref) > ctx.rtol * scale)
    n, total = int(np.count_nonzero(flipped)), int(np.count_nonzero(np.abs(ref) > ctx.rtol * scale))
    if n == 0:
        return None
    if n == total:
        return f"sign flip: {ctx.labels[1]} = -{ctx.labels[0]} (magnitudes match)"
    return f"sign flip at {n} of {total} elements (magnitudes match)"


def _ratio_name(q: float) -> str | None:
    """A readable origin of a constant ratio: N or 1/N (a sum vs a mean), N/(N-1) or (N-1)/N (a divisor off by one,
    ddof), or either under a square root (a standard deviation). None when q is none of these."""
    def near(value: float, exact: float, n: int) -> bool:  # neighbouring N/(N-1) lie ~1/N^2 apart
        return abs(value - exact) <= min(1e-5, 0.25 / (n * n)) * abs(exact)

    for root in (False, True):
        p = q * q if root else q
        if p <= 0:
            continue
        wrap = (lambda text: f"sqrt({text})") if root else (lambda text: text)
        std = " under a square root (a standard deviation)" if root else ""
        n = round(p)
        if n >= 2 and near(p, n, 1):
            return f"{wrap(str(n))}: a sum vs a mean over {n} elements?{std}"
        n = round(1 / p)
        if n >= 2 and near(p, 1 / n, 1):
            return f"{wrap(f'1/{n}')}: a mean vs a sum over {n} elements?{std}"
        if p > 1 and (n := round(p / (p - 1))) >= 2 and near(p, n / (n - 1), n):
            return f"{wrap(f'{n}/{n - 1}')}, N = {n}: an N vs N-1 divisor (ddof, unbiased){std}?"
        if p < 1 and (n := round(1 / (1 - p))) >= 2 and near(p, (n - 1) / n, n):
            return f"{wrap(f'{n - 1}/{n}')}, N = {n}: an N-1 vs N divisor (ddof, unbiased){std}?"
    return None


def constant_ratio(ref, cand, ctx: Context) -> str | None:
    """cand = q * ref for one q != 1 (a mean vs a sum, an N vs N-1 divisor, a wrong scale). A single element
    (a reduced loss) always has "a" ratio: named only when q has a recognisable form."""
    if not (_finite(ref) and _finite(cand)) or ref.size < 1:
        return None
    denominator = float(np.dot(ref.ravel(), ref.ravel()))
    if denominator == 0:
        return None
    q = float(np.dot(ref.ravel(), cand.ravel())) / denominator  # least squares
    if q == 0 or abs(q - 1) <= ctx.rtol or abs(q + 1) <= ctx.rtol or not _matches(q * ref, cand, ctx):
        return None
    name = _ratio_name(q)
    if ref.size == 1 and name is None:
        return None
    return f"constant ratio: {ctx.labels[1]} = {_num(q)} x {ctx.labels[0]}" + (f" ({name})" if name else "")


def constant_offset(ref, cand, ctx: Context) -> str | None:
    """cand = ref + c for one c != 0."""
    if not (_finite(ref) and _finite(cand)) or ref.size < 2:
        return None
    diff = cand.astype(np.float64) - ref.astype(np.float64)
    c = float(np.median(diff))
    scale = max(float(np.abs(ref).max(initial=0.0)), float(np.abs(cand).max(initial=0.0)))
    if abs(c) <= ctx.rtol * scale or not _matches(ref + c, cand, ctx):
        return None
    return f"constant offset: {ctx.labels[1]} = {ctx.labels[0]} + {_num(c)}"


def reordered(ref, cand, ctx: Context) -> str | None:
    """A match after swapping two axes of equal length, or after reordering equal blocks along one axis
    (gate order: GRU's r, z, n and LSTM's i, f, g, o blocks)."""
    if ref.ndim == 0 or ref.size > MAX_REORDER_SIZE or not (_finite(ref) and _finite(cand)):
        return None
    scale = max(float(np.abs(ref).max(initial=0.0)), float(np.abs(cand).max(initial=0.0)))
    if not _matches(np.sort(ref, axis=None), np.sort(cand, axis=None), ctx, scale):
        return None  # any reordering keeps the multiset of values: one sort rules them all out
    if _matches(ref, cand, ctx, scale):
        return None  # already alike at this resolution (one element of 8,640 off): a swap that also matches explains nothing
    for i, j in itertools.combinations(range(ref.ndim), 2):
        if ref.shape[i] == ref.shape[j] > 1 and _matches(np.swapaxes(ref, i, j), cand, ctx, scale):
            return f"matches after swapping axes {i} and {j} (a transposed layout)"
    for axis, length in enumerate(ref.shape):
        for blocks in range(2, MAX_BLOCKS + 1):
            if length % blocks or length == blocks == 1:
                continue
            parts = np.split(ref, blocks, axis=axis)
            for order in itertools.permutations(range(blocks)):
                if order == tuple(range(blocks)):
                    continue
                if _matches(np.concatenate([parts[k] for k in order], axis=axis), cand, ctx, scale):
                    return (f"matches after reordering {blocks} blocks along axis {axis}: {ctx.labels[1]} holds "
                            f"{ctx.labels[0]}'s blocks in order {list(order)} (gate or chunk order?)")
    return None


def _same_shape_inputs(ref, ctx: Context):
    return [(name, x) for name, x in ctx.inputs.items()
            if np.shape(x) == ref.shape and np.issubdtype(np.asarray(x).dtype, np.floating)]


def negative_inputs(ref, cand, ctx: Context) -> str | None:
    """Differences only where an element-wise input is negative (an activation's negative slope)."""
    if not (_finite(ref) and _finite(cand)):
        return None
    scale = max(float(np.abs(ref).max(initial=0.0)), float(np.abs(cand).max(initial=0.0)))
    differs = np.abs(ref.astype(np.float64) - cand) > ctx.rtol * scale
    if not differs.any():
        return None
    for name, x in _same_shape_inputs(ref, ctx):
        negative = np.asarray(x) < 0
        if negative.any() and not (differs & ~negative).any():
            mask = negative & (ref != 0)
            slope = ""
            if mask.any():
                q = cand[mask].astype(np.float64) / ref[mask]
                if np.ptp(q) <= ctx.rtol * max(abs(float(q.mean())), 1.0):
                    slope = f"; there {ctx.labels[1]} = {_num(float(q.mean()))} x {ctx.labels[0]} (a different negative slope?)"
            return f"differences only where {name} < 0 ({int(np.count_nonzero(differs))} elements){slope}"
    return None


def tied_values(ref, cand, ctx: Context) -> str | None:
    """Integer indices that differ only where they point at equal input values (sort/topk/argmax ties)."""
    if not (np.issubdtype(ref.dtype, np.integer) and np.issubdtype(cand.dtype, np.integer)) or ref.ndim == 0:
        return None
    for name, x in ctx.inputs.items():
        x = np.asarray(x)
        if x.ndim != ref.ndim:
            continue
        for axis in range(x.ndim):
            if any(x.shape[d] != ref.shape[d] for d in range(x.ndim) if d != axis):
                continue
            if ref.min(initial=0) < 0 or max(ref.max(initial=0), cand.max(initial=0)) >= x.shape[axis] or cand.min(initial=0) < 0:
                continue
            picked_ref = np.take_along_axis(x, ref.astype(np.int64), axis=axis)
            picked_cand = np.take_along_axis(x, cand.astype(np.int64), axis=axis)
            if np.array_equal(picked_ref, picked_cand, equal_nan=True):
                n = int(np.count_nonzero(ref != cand))
                return f"indices differ at {n} elements, all among tied values of input {name} along axis {axis} (tie order)"
    return None


# nonfinite_hint (NaN/Inf propagated vs swallowed, which side; eqcheck/verdict/nonfinite.py) comes first: it only
# speaks when the non-finite patterns differ, and says more there than the one-side and constant hints.
HINTS: list[Hint] = [nonfinite_hint, one_side_constant, nonfinite_one_side, sign_flip, constant_ratio, constant_offset, reordered,
                     negative_inputs, tied_values]


NONFINITE_HINTS = (nonfinite_hint, nonfinite_one_side)  # speak only on a row whose NaN/Inf pattern differs


def register(hint: Hint, before: Hint | None = None) -> Hint:
    """Add a hint to HINTS (at the end, or just before another); returns it, so it can decorate."""
    if hint not in HINTS:
        HINTS.insert(HINTS.index(before) if before in HINTS else len(HINTS), hint)
    return hint


def diagnose(ref: Any, cand: Any, context: Context, hints: list[Hint] | None = None) -> str:
    """The line of the first hint that recognises its pattern in (ref, cand), or NO_PATTERN."""
    return diagnosis_of(ref, cand, context, hints).text


def diagnosis_of(ref: Any, cand: Any, context: Context, hints: list[Hint] | None = None) -> Diagnosis:
    """The first hint that recognises its pattern in (ref, cand), as a Diagnosis; kind `none` for NO_PATTERN."""
    ref, cand = np.asarray(ref), np.asarray(cand)
    if ref.shape != cand.shape:
        return Diagnosis(f"shapes differ: {list(ref.shape)} vs {list(cand.shape)}", "shape")
    if not np.issubdtype(ref.dtype, np.integer):
        ref = ref.astype(np.float64)
    if not np.issubdtype(cand.dtype, np.integer):
        cand = cand.astype(np.float64)
    for hint in HINTS if hints is None else hints:
        try:
            with np.errstate(all="ignore"):
                found = hint(ref, cand, context)
        except Exception:  # noqa: BLE001 - a hint that trips over odd data explains nothing; the next one may
            continue
        if found:
            return found if isinstance(found, Diagnosis) else Diagnosis(found, hint.__name__)
    return Diagnosis(NO_PATTERN, "none")
