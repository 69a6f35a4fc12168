"""Dtype names eqcheck understands, their numpy forms and default tolerances."""

from __future__ import annotations

from dataclasses import dataclass

from eqcheck._lazy import numpy as np  # imported on first use: `list` and `validate` never load numpy

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8")
ALL_DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool",)


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def as_dict(self) -> dict:
        return {"rtol": self.rtol, "atol": self.atol}


# torch.testing.assert_close defaults: the numbers most users already trust.
DEFAULT_TOLERANCES = {
    "float16": Tolerance(rtol=1e-3, atol=1e-5),
    "bfloat16": Tolerance(rtol=1.6e-2, atol=1e-5),
    "float32": Tolerance(rtol=1.3e-6, atol=1e-5),
    "float64": Tolerance(rtol=1e-7, atol=1e-7),
}
EXACT = Tolerance(rtol=0.0, atol=0.0)
# Gradients chain several rounded products and reductions per element (a weight gradient sums over the batch),
# so they get their own, looser table, like JAX's test utilities. Measured over the shipped configs (docs/beyond-forward.md,
# "Gradients"); a spec's `grad_tolerance:` replaces an entry.
GRAD_TOLERANCES = {
    "float16": Tolerance(rtol=1e-2, atol=1e-3),
    "bfloat16": Tolerance(rtol=5e-2, atol=1e-2),
    "float32": Tolerance(rtol=1e-5, atol=1e-5),
    "float64": Tolerance(rtol=1e-7, atol=1e-7),
}


def is_float(name: str) -> bool:
    return name in FLOAT_DTYPES


def numpy_dtype(name: str) -> np.dtype:
    """numpy has no bfloat16: such data is generated and carried as float32, then cast by each backend."""
    if name == "bfloat16":
        return np.dtype(np.float32)
    return np.dtype(name)


def default_tolerance(name: str) -> Tolerance:
    return DEFAULT_TOLERANCES.get(name, EXACT)
