"""Shared seeded inputs: framework-independent numpy, drawn in float64, identical bytes on every side."""

from __future__ import annotations

import zlib

import numpy as np

from eqcheck.dtypes import is_float, numpy_dtype
from eqcheck.spec.fields import join
from eqcheck.spec.model import Special

DEFAULT_SEED = 20240611


def resolve_seed(seed: int | None) -> int:
    """The seed a run uses: the one given (--seed, a split run's manifest), else the default."""
    return DEFAULT_SEED if seed is None else seed


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


def _count(fraction: float, n: int) -> int:
    """How many of n elements a fraction names: at least one when the fraction is not 0, so small inputs still get some."""
    return 0 if fraction <= 0 or n == 0 else min(n, max(1, round(fraction * n)))


def apply_special(values: np.ndarray, special: Special, rng: np.random.Generator, dtype: str) -> np.ndarray:
    """Overlay exact special values on an already cast array (a copy), in this order: ties, point values, masked slices."""
    out = np.array(values, copy=True)
    flat = out.reshape(-1)
    n = flat.size
    if n and special.ties:
        copies = rng.choice(n, _count(special.ties, n), replace=False)
        sources = rng.choice(n, max(1, len(copies) // 4), replace=False)  # about four positions share each value
        sources[0] = int(np.argmax(np.where(np.isnan(flat), -np.inf, flat)))  # so max/argmax see a tie
        flat[copies] = flat[sources[np.arange(len(copies)) % len(sources)]]
    order = rng.permutation(n)
    start = 0
    for fraction, value in ((special.nan, np.nan), (special.posinf, np.inf), (special.neginf, -np.inf), (special.negzero, -0.0)):
        k = min(_count(fraction, n), n - start)
        if k:  # NaN into an integer array raises even for no positions
            flat[order[start:start + k]] = value
        start += k
    if special.values_fraction:
        k = min(_count(special.values_fraction, n), n - start)
        at = np.asarray(special.values, dtype=np.float64)
        flat[order[start:start + k]] = at[rng.integers(0, len(at), k)]
    if special.masked_axis is not None and out.ndim:
        lines = np.moveaxis(out, special.masked_axis, -1)  # a view: writing it writes `out`
        rows = int(np.prod(lines.shape[:-1]))
        for index in rng.choice(rows, _count(special.masked_fraction, rows), replace=False) if rows else ():
            lines[np.unravel_index(index, lines.shape[:-1])] = special.masked_value
    return round_to_bfloat16(out) if dtype == "bfloat16" else out


def derived(values: np.ndarray, kind: str, args: dict) -> np.ndarray:
    """One `derive` step (loader.DERIVE_STEPS), on float64 values or integer labels."""
    if kind in ("softmax", "log_softmax"):
        shifted = values - values.max(axis=args["axis"], keepdims=True, initial=-np.inf)  # initial: an empty axis
        with np.errstate(divide="ignore"):  # the log of an empty axis's sum: an empty result, no warning
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


def sample_arrays(case) -> dict[str, np.ndarray]:
    """--explore: the torch sample's tensors by input name, from the cached .npz (nothing for other cases)."""
    if case.sample is None:
        return {}
    try:
        with np.load(case.sample.arrays, allow_pickle=False) as data:
            return {name: data[key] for name, key in case.sample.tensors}
    except (OSError, KeyError, ValueError) as exc:
        from eqcheck.errors import EqcheckError

        raise EqcheckError(f"the cached sample arrays of {case.id} cannot be read ({type(exc).__name__}: {exc}); delete "
                           "the cache folder to rebuild it", file=case.sample.arrays) from None


def read_input_file(file: str, key: str | None, *, spec: str, field: str) -> np.ndarray:
    """One array of real data: a .npy, a .npz member, or a torch .pt (a tensor, or a dict's tensor) loaded with
    weights_only=True (no pickled code runs). An unreadable file or a missing key is the user's to fix (exit 2)."""
    from eqcheck.errors import EqcheckError

    def problem(reason: str, hint: str | None = None) -> EqcheckError:
        return EqcheckError(f"input file {file}: {reason}", file=spec, field=field, hint=hint)

    try:
        if file.lower().endswith((".pt", ".pth")):
            import torch  # only for a torch file

            value = torch.load(file, map_location="cpu", weights_only=True)
            if isinstance(value, dict):
                if key not in value:
                    raise problem(f"has no key '{key}' (keys: {', '.join(map(str, value)) or 'none'})", "name one with `key:`")
                value = value[key]
            if not torch.is_tensor(value):
                raise problem(f"holds a {type(value).__name__} at '{key}', not a tensor")
            value = value.detach().cpu()
            return (value.float() if value.dtype == torch.bfloat16 else value).numpy()
        with np.load(file, allow_pickle=False) as data:
            if isinstance(data, np.ndarray):  # .npy
                return data
            if key not in data.files:
                raise problem(f"has no array '{key}' (arrays: {', '.join(data.files) or 'none'})", "name one with `key:`")
            return data[key]
    except EqcheckError:
        raise
    except FileNotFoundError:
        raise problem("no such file") from None
    except Exception as exc:  # noqa: BLE001 - numpy and torch raise many kinds for a bad file
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise problem(f"not readable ({first})") from None


def fit_input(values: np.ndarray, shape: tuple[int, ...], dtype: str, *, what: str, spec: str, field: str) -> np.ndarray:
    """Real data checked against the input it feeds (shape exactly, float or integer kind), cast to its dtype."""
    from eqcheck.errors import EqcheckError

    if tuple(values.shape) != tuple(shape):
        raise EqcheckError(f"{what} has shape {list(values.shape)}, the input needs {list(shape)}", file=spec, field=field,
                           hint="fix the spec's shape (or its sizes) or the file")
    floats = np.issubdtype(values.dtype, np.floating)
    wanted = "float" if is_float(dtype) else "bool" if dtype == "bool" else "integer"
    found = "float" if floats else "bool" if values.dtype == np.bool_ else "integer" if np.issubdtype(values.dtype, np.integer) else None
    if found != wanted:
        raise EqcheckError(f"{what} holds {values.dtype} values, the input is {dtype}", file=spec, field=field,
                           hint="give the input a matching dtype, or convert the data")
    return cast(values, dtype)


def make_inputs(case, seed: int) -> dict[str, np.ndarray]:
    """Canonical inputs of one case, in declaration order; each side casts ints to its own dtype if the spec says so.
    A `special` overlay draws from its own stream per input, so adding one leaves every other input's bytes alone.
    An input with `file:` takes the file's values, unless an --edges/--boundary variant redraws or reshapes it."""
    rng = case_rng(seed, case.id, "inputs")
    arrays = {}
    stored = sample_arrays(case)
    for i, inp in enumerate(case.spec.inputs):
        touched = case.edge is not None and (i in dict(case.edge.distributions) or any(d[0] == i for d in case.edge.dims))
        if inp.data is not None and not touched:
            field = join(join("inputs", i), "file")
            values = read_input_file(inp.data.file, inp.data.key, spec=case.spec.path, field=field)
            where = f"{inp.data.file}" + (f"[{inp.data.key}]" if inp.data.key and not inp.data.file.endswith(".npy") else "")
            arrays[inp.name] = fit_input(values, case.input_shape(i), case.input_dtype(inp), what=where,
                                         spec=case.spec.path, field=field)
            continue
        if inp.name in stored and case.input_distribution(i).kind == inp.distribution.kind:  # an edge may redraw it
            dtype = case.input_dtype(inp)
            arrays[inp.name] = cast(stored[inp.name], dtype)
            special = case.input_distribution(i).special
            if special is not None:
                arrays[inp.name] = apply_special(arrays[inp.name], special, case_rng(seed, case.id, f"special:{inp.name}"), dtype)
            continue
        dist = case.input_distribution(i)
        args = case.distribution_args(dist, join(join("inputs", i), "distribution"))
        derive = tuple((step.kind, case.derive_args(step, join(join(join("inputs", i), "derive"), j)))
                       for j, step in enumerate(inp.derive))
        dtype = case.input_dtype(inp)
        arrays[inp.name] = draw(rng, dist.kind, args, case.input_shape(i), dtype, derive)
        if dist.special is not None:  # after the derive steps and the cast: the values land exactly
            special_rng = case_rng(seed, case.id, f"special:{inp.name}")
            arrays[inp.name] = apply_special(arrays[inp.name], dist.special, special_rng, dtype)
    return arrays


def cotangents(case, seed: int, outputs: list[tuple[str, np.ndarray]]) -> list[np.ndarray | None]:
    """One seeded cotangent per float output of the reference side (the same bytes on both sides); None for
    ignored or integer outputs."""
    rng = case_rng(seed, case.id, "cotangent")
    specs = case.output_specs(len(outputs))
    out = []
    for i, (_, array) in enumerate(outputs):
        ignored = specs[i].ignore if specs and i < len(specs) else None
        if ignored or not np.issubdtype(array.dtype, np.floating):
            out.append(None)
            continue
        out.append(draw(rng, "normal", {"mean": 0.0, "std": 1.0}, array.shape, case.dtype).astype(array.dtype))
    return out
