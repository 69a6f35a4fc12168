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


def draw(rng: np.random.Generator, kind: str, args: dict, shape: tuple[int, ...], dtype: str,
         derive: tuple[tuple[str, dict], ...] = ()) -> np.ndarray:
    """Values of one input or weight, drawn in float64 (ints for `integers`), derived step by step, then cast."""
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
    values = np.asarray(values)
    for step, step_args in derive:
        values = derived(values, step, step_args)
    return cast(values, dtype)


def cast(values: np.ndarray, dtype: str) -> np.ndarray:
    """Values in `dtype` exactly as both sides will hold them (bfloat16 rounded onto its grid, carried as float32)."""
    out = np.asarray(values).astype(numpy_dtype(dtype))
    return round_to_bfloat16(out) if dtype == "bfloat16" else out


def derived(values: np.ndarray, kind: str, args: dict) -> np.ndarray:
    """One `derive` step (loader.DERIVE_STEPS), on float64 values or integer labels."""
    if kind in ("softmax", "log_softmax"):
        shifted = values - values.max(axis=args["axis"], keepdims=True)
        log = shifted - np.log(np.exp(shifted).sum(axis=args["axis"], keepdims=True))
        return log if kind == "log_softmax" else np.exp(log)
    if kind == "keep_away":  # a value within `margin` of a pole moves to the nearer edge of that margin
        period, offset, margin = float(args["period"]), float(args["offset"]), float(args["margin"])
        pole = offset + np.round((values - offset) / period) * period
        near = np.abs(values - pole) < margin
        if args.get("below") is not None:
            near &= pole < args["below"]
        side = np.where(values >= pole, 1.0, -1.0)
        return np.where(near, pole + side * margin, values)
    if kind == "sign":
        return np.where(values > 0, 1.0, np.where(values < 0, -1.0, float(args["zero"])))
    if kind == "round_to":
        return np.round(values / args["step"]) * args["step"]
    if kind == "set_every":
        out = np.array(values, copy=True)
        flat = out.reshape(-1)
        flat[int(args["start"])::int(args["k"])] = args["value"]
        return out
    raise ValueError(f"unknown derive step {kind}")


def make_inputs(case, seed: int) -> dict[str, np.ndarray]:
    """Canonical inputs of one case, in declaration order; each side casts ints to its own dtype if the spec says so."""
    rng = case_rng(seed, case.id, "inputs")
    arrays = {}
    for i, inp in enumerate(case.spec.inputs):
        args = case.distribution_args(inp.distribution, join(join("inputs", i), "distribution"))
        derive = tuple((step.kind, case.derive_args(step, join(join(join("inputs", i), "derive"), j)))
                       for j, step in enumerate(inp.derive))
        arrays[inp.name] = draw(rng, inp.distribution.kind, args, case.input_shape(i), case.input_dtype(inp), derive)
    return arrays
