"""Shared seeded inputs: framework-independent numpy, drawn in float64, identical bytes on every side."""

from __future__ import annotations

import zlib

import numpy as np

from eqcheck.dtypes import numpy_dtype
from eqcheck.spec.fields import join

DEFAULT_SEED = 20240611


def case_rng(seed: int, case_id: str, stream: str) -> np.random.Generator:
    """A generator per (seed, case, stream): selecting cases with -k never changes another case's data."""
    return np.random.default_rng([seed, zlib.crc32(case_id.encode()), zlib.crc32(stream.encode())])


def round_to_bfloat16(array: np.ndarray) -> np.ndarray:
    """Float32 values rounded (to nearest even) onto the bfloat16 grid, so both sides cast them exactly."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def draw(rng: np.random.Generator, kind: str, args: dict, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if kind == "normal":
        values = rng.normal(args["mean"], args["std"], shape)
    elif kind in ("uniform", "positive"):
        values = rng.uniform(args["low"], args["high"], shape)
    elif kind == "integers":
        values = rng.integers(args["low"], args["high"], shape)
    elif kind == "constant":
        values = np.full(shape, args["value"], dtype=np.float64)
    else:  # the loader only admits the kinds above
        raise ValueError(f"unknown distribution {kind}")
    out = np.asarray(values).astype(numpy_dtype(dtype))
    return round_to_bfloat16(out) if dtype == "bfloat16" else out


def make_inputs(case, seed: int) -> dict[str, np.ndarray]:
    """Canonical inputs of one case, in declaration order; each side casts ints to its own dtype if the spec says so."""
    rng = case_rng(seed, case.id, "inputs")
    arrays = {}
    for i, inp in enumerate(case.spec.inputs):
        args = case.distribution_args(inp.distribution, join(join("inputs", i), "distribution"))
        arrays[inp.name] = draw(rng, inp.distribution.kind, args, case.input_shape(i), case.input_dtype(inp))
    return arrays
