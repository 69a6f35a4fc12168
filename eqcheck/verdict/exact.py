"""Arbitrary-precision references for elementwise functions (mpmath, installed with torch through sympy): what a
float64 row is judged against, since no wider float exists to re-run it in. Pure; docs/verdicts.md.

`reference(entry, inputs)` evaluates the function of an OpInfo entry (verdict/structure.json) at 40 significant digits
on each element of the (broadcast) float64 inputs and returns the correctly rounded float64 result together with the
sensitivity sum_k |x_k df/dx_k| (a central difference at that precision), the two arrays
verdict.attribution.elementwise needs. Entries without a formula here return None: their float64 rows keep the table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np

DIGITS = 40
STEP = "1e-20"  # relative step of the central difference: error ~1e-40 truncation, ~1e-20 cancellation, both negligible


@lru_cache(maxsize=1)
def _functions() -> dict[str, Callable]:
    import mpmath as mp

    def log_abs_gamma(x):
        return mp.log(abs(mp.gamma(x)))

    return {
        "exp": mp.exp, "exp2": lambda x: mp.power(2, x), "expm1": mp.expm1, "log": mp.log, "log1p": mp.log1p,
        "log2": lambda x: mp.log(x, 2), "log10": mp.log10, "sqrt": mp.sqrt, "rsqrt": lambda x: 1 / mp.sqrt(x),
        "reciprocal": lambda x: 1 / x, "sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "asin": mp.asin, "acos": mp.acos,
        "atan": mp.atan, "sinh": mp.sinh, "cosh": mp.cosh, "tanh": mp.tanh, "asinh": mp.asinh, "acosh": mp.acosh,
        "atanh": mp.atanh, "erf": mp.erf, "erfc": mp.erfc, "erfinv": mp.erfinv, "lgamma": log_abs_gamma,
        "digamma": mp.digamma, "sigmoid": lambda x: 1 / (1 + mp.exp(-x)), "sinc": lambda x: mp.sincpi(x),
        "nn.functional.softplus": lambda x: mp.log1p(mp.exp(x)), "nn.functional.silu": lambda x: x / (1 + mp.exp(-x)),
        "nn.functional.mish": lambda x: x * mp.tanh(mp.log1p(mp.exp(x))),
        "nn.functional.logsigmoid": lambda x: -mp.log1p(mp.exp(-x)),
        "nn.functional.softsign": lambda x: x / (1 + abs(x)), "nn.functional.tanhshrink": lambda x: x - mp.tanh(x),
        "atan2": mp.atan2, "hypot": mp.hypot, "special.erfcx": lambda x: mp.exp(x * x) * mp.erfc(x),
        "special.ndtr": lambda x: mp.ncdf(x), "special.i0e": lambda x: mp.exp(-abs(x)) * mp.besseli(0, x),
        "special.i1e": lambda x: mp.exp(-abs(x)) * mp.besseli(1, x), "special.i1": lambda x: mp.besseli(1, x),
        "i0": lambda x: mp.besseli(0, x), "special.entr": lambda x: -x * mp.log(x) if x > 0 else (0 if x == 0 else -mp.inf),
    }


def has(entry: str) -> bool:
    return entry in _functions()


def reference(entry: str, inputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """(the float64 result rounded correctly, sum_k |x_k df/dx_k|) per element, or None where the entry has no formula
    or an input is not float."""
    fn = _functions().get(entry)
    if fn is None or not inputs or not all(np.issubdtype(np.asarray(a).dtype, np.floating) for a in inputs):
        return None
    import mpmath as mp

    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in inputs))
    value = np.empty(arrays[0].shape)
    sensitivity = np.zeros(arrays[0].shape)
    with mp.workdps(DIGITS):
        step = mp.mpf(STEP)
        for index in np.ndindex(*arrays[0].shape):
            xs = [mp.mpf(float(a[index])) for a in arrays]
            value[index] = _float(_call(fn, xs))
            for k, x in enumerate(xs):
                if x == 0:
                    continue  # x df/dx vanishes at x = 0
                hi = _call(fn, xs[:k] + [x * (1 + step)] + xs[k + 1:])
                lo = _call(fn, xs[:k] + [x * (1 - step)] + xs[k + 1:])
                term = (hi - lo) / (2 * step) if hi is not None and lo is not None else None
                sensitivity[index] += abs(_float(term)) if term is not None else 0.0
    return value, np.where(np.isfinite(sensitivity), sensitivity, 0.0)


def _call(fn, xs):
    try:
        out = fn(*xs)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    import mpmath as mp

    return None if isinstance(out, mp.mpc) else out


def _float(value) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (OverflowError, ValueError):
        return float("nan")
