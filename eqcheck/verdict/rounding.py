"""How much rounding a computation can explain, from its structure. Pure numpy; docs/verdicts.md.

Two structures are known and each gives a bound that holds on any CPU, whatever order a kernel sums in:

* **Multilinear** ops (convolutions, matmul, linear, einsum, sums; their gradients are multilinear too): every
  output element is a sum of n products of inputs, weights or cotangents. Whatever the summation order, blocking
  or fused multiply-adds, the float result obeys Higham's bound (Accuracy and Stability of Numerical Algorithms,
  2nd ed., eq. 3.5 and §4.2)

      |fl(sum t_i) - sum t_i|  <=  gamma_n * sum |t_i|,     gamma_n = n u / (1 - n u),  u = eps / 2,

  where `sum |t_i|` is the same op evaluated in float64 on absolute inputs, weights and cotangents, and n is the
  op evaluated on ones (the number of products in each sum). `allowance` turns those two float64 runs into the
  element-wise bound: a side that cannot run float64 (MindSpore's CPU convolutions) is credited exactly that, and
  a side that can is held to it (an "own error" above it is not rounding).

* **Elementwise** kernels (torch's UnaryUfuncInfo / BinaryUfuncInfo entries: each output element is f of one
  element per input): no accumulation, so an accurate float32 kernel is a few ulps from the exact result on
  exactly representable inputs (glibc, SLEEF u10/u35 and MKL's LA functions document 1-4 ulps). A side further
  than ULP_THRESHOLD ulps from float64 is a kernel-accuracy defect, not noise (benchmarks/ulp_evidence.py).

Any other op has no structural bound here; its rows keep the fallback in verdict/attribution.py.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from eqcheck.dtypes import Tolerance

# ulps from the float64 result (plus the input's sensitivity) beyond which an elementwise float kernel is inaccurate,
# not rounded. libm (glibc), SLEEF (u35) and MKL (LA) document at most 4 for their float32 elementary functions, and
# benchmarks/ulp_evidence.py measures torch's at <= 1.9; torch's special functions reach 7.3 (erfcx), 6.4 (digamma)
# and 5.4 (i0e). 8 is the power of two above every accurate kernel measured; a float16 computation lands at ~10,000.
ULP_THRESHOLD = 8.0

_PRECISION = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}  # significand bits, hidden bit included
_MIN_EXPONENT = {"float16": -14, "bfloat16": -126, "float32": -126, "float64": -1022}  # smallest normal = 2**e
_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
        "float64": 1.7976931348623157e308}


def unit_roundoff(dtype: str) -> float:
    """u = eps / 2: the largest relative error of one rounding to nearest in `dtype`."""
    return 2.0 ** -_PRECISION.get(dtype, 24)


def gamma(n, dtype: str):
    """Higham's gamma_n = n u / (1 - n u) (element-wise over an array of term counts); inf once n u >= 1."""
    nu = np.asarray(n, dtype=np.float64) * unit_roundoff(dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(nu < 1, nu / (1 - nu), np.inf)


def allowance(absolute: np.ndarray, counts: np.ndarray, dtype: str) -> np.ndarray:
    """The rounding bound of each element of a multilinear op computed in `dtype`: gamma_n * sum|t|, with
    `absolute` the op on absolute values and `counts` the op on ones, both in float64. One more gamma_n in
    float64 covers the float64 reference's own rounding, so the bound is against the exact result."""
    absolute = np.abs(np.asarray(absolute, dtype=np.float64))
    counts = np.maximum(np.rint(np.abs(np.asarray(counts, dtype=np.float64))), 1.0)
    return (gamma(counts, dtype) + gamma(counts, "float64")) * absolute


def ulp(reference, dtype: str) -> np.ndarray:
    """The spacing of `dtype` numbers in the binade of each reference value (2**(e - p + 1) for |x| in
    [2**e, 2**(e+1))), never below the subnormal spacing."""
    p, emin = _PRECISION.get(dtype, 24), _MIN_EXPONENT.get(dtype, -126)
    r = np.abs(np.asarray(reference, dtype=np.float64))
    with np.errstate(all="ignore"):
        _, e = np.frexp(np.where(np.isfinite(r) & (r > 0), r, 1.0))  # r = m 2**e, 0.5 <= m < 1
    return np.ldexp(1.0, np.maximum(e - 1, emin) - p + 1)


def ulps(values, reference, dtype: str) -> np.ndarray:
    """How many `dtype` ulps each value is from the float64 reference. 0 where both agree on a non-finite value
    or where the reference overflows `dtype` and the value is the infinity it rounds to; a value in the
    subnormal range facing a subnormal reference counts 0 (flushing denormals is a hardware mode, not an error);
    inf where one side is non-finite and the other not."""
    v = np.asarray(values, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    v, r = np.broadcast_arrays(v, r)
    tiny = 2.0 ** _MIN_EXPONENT.get(dtype, -126)
    with np.errstate(all="ignore"):
        rounded = np.where(np.abs(r) > _MAX.get(dtype, _MAX["float32"]), np.copysign(np.inf, r), r)
        out = np.abs(v - r) / ulp(r, dtype)
        out = np.where((np.abs(v) < tiny) & (np.abs(r) < tiny), 0.0, out)
        same = (v == rounded) | (np.isnan(v) & np.isnan(r))
        out = np.where(same, 0.0, out)
        out = np.where(~same & ~(np.isfinite(v) & np.isfinite(r)), np.inf, out)
    return out


def elementwise_tolerance(dtype: str) -> Tolerance:
    """The first, cheap step for an elementwise row: |A - B| <= ULP_THRESHOLD u max(|A|, |B|) (at most that many ulps,
    since an ulp is between u|x| and 2u|x|), no absolute slack. A row further apart goes to
    its float64 re-runs, where each side is measured in ulps (verdict.attribution.elementwise; a flushed subnormal
    counts 0 there)."""
    return Tolerance(rtol=ULP_THRESHOLD * unit_roundoff(dtype), atol=0.0)


# --------------------------------------------------------------------------------------------------
# Which ops have which structure (data, keyed by torch's OpInfo entry name)


@lru_cache(maxsize=1)
def _table() -> dict:
    with open(Path(__file__).with_name("structure.json"), encoding="utf-8") as f:
        return json.load(f)


def entry_of(torch_op: str, opinfo: str | None = None) -> str:
    """The OpInfo entry name of a spec's torch op: `torch.tanh`, `torch.Tensor.tanh` -> `tanh`,
    `torch.nn.functional.elu` -> `nn.functional.elu`, an alias `torch.special.expm1` -> `expm1`, a module class
    `torch.nn.ELU` -> its functional entry."""
    name = opinfo or torch_op.removeprefix("torch.").removeprefix("Tensor.")
    if not opinfo and name.startswith("nn.") and name.rsplit(".", 1)[1][:1].isupper():  # a module class
        return _table()["modules"].get(name.rsplit(".", 1)[1], name)
    return _table()["aliases"].get(name, name)  # torch.special.expm1 is expm1's kernel


def structure(torch_op: str | None, opinfo: str | None = None) -> str | None:
    """'elementwise', 'multilinear' or None (no structural bound known) for a spec's torch op."""
    if not torch_op:
        return None
    entry = entry_of(torch_op, opinfo)
    table = _table()
    if entry in table["elementwise"]:
        return "elementwise"
    if entry in table["multilinear"]:
        return "multilinear"
    return None
