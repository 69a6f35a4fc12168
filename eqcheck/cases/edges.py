"""--edges: variants of each case derived without editing the spec (docs/edges.md).

Each variant is a Case with an `Edge`: the same op, weights and sweep point, with some inputs drawn differently
(integer values, NaN, infinities, kinks, a masked slice) or one size replaced (a zero batch, a reduced axis of 1).
A variant the spec cannot express at this point (a size expression turning negative) is left out.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from eqcheck.cases.sweep import Case, Edge
from eqcheck.dtypes import is_float
from eqcheck.errors import SpecError
from eqcheck.spec.model import Distribution, Special

# Where common activations bend or saturate: ReLU/Hardtanh at 0 and +-1, Hardswish/Hardsigmoid at +-3, ReLU6 at 6.
# Every spec with float inputs gets them (listing specs needs no framework, so an op cannot be asked what it is);
# edges.kinks replaces them.
DEFAULT_KINKS = (0.0, 1.0, -1.0, 3.0, -3.0, 6.0, -6.0, 0.5, -0.5)
REDUCTION_ARGUMENTS = ("dim", "axis", "dims", "axes")  # argument names that name reduced axes
SIZED_ARGUMENTS = {"normalized_shape"}  # arguments that repeat an input's size, so it cannot change on its own
_NAME = re.compile(r"^[A-Za-z_]\w*$")

OVERLAYS = {
    "nan": Special(nan=0.1),
    "inf": Special(posinf=0.05, neginf=0.05),
}


def edge_variants(case: Case) -> list[Case]:
    """The edge variants of one case, in a fixed order; variants the spec skips (edges.skip) are left out."""
    variants = []
    if case.sample is not None and case.sample.error is not None:
        return variants  # an input torch refuses: no variants of it
    for edge in _edges(case):
        if edge.kind in case.spec.edges.skip:
            continue
        if case.sample is not None and (edge.dims or edge.overrides):
            continue  # a torch sample's tensors fix every size: only the value variants apply
        variant = dataclasses.replace(case, edge=edge)
        try:
            variant.resolve_everything()
        except SpecError:
            continue  # e.g. a size expression `n - 2` with n overridden to 1: not an input this spec can describe
        variants.append(variant)
    return variants


def skipped_edges(case: Case) -> tuple[tuple[str, str], ...]:
    """(variant, reason) for each variant of this case that edges.skip opts out; a skip naming a variant the case
    would not have anyway (zero_batch without a batch) is not listed."""
    skip = case.spec.edges.skip
    return tuple((edge.name, skip[edge.kind]) for edge in _edges(case) if edge.kind in skip)


def _edges(case: Case) -> list[Edge]:
    """Every variant this case could have, before edges.skip and the check that its sizes still evaluate."""
    spec = case.spec
    # Drawn float inputs only: a constant (a margin, a fixed scale) is part of the op's definition, not its data.
    floats = [i for i, inp in enumerate(spec.inputs) if is_float(case.input_dtype(inp)) and inp.distribution.kind != "constant"]
    edges: list[Edge] = []
    # Inputs shaped by `derive` (probabilities, ±1 labels) keep their shape under int and kink; NaN/Inf reach them all.
    plain = [i for i in floats if not spec.inputs[i].derive]
    if plain:
        edges.append(Edge("int", tuple((i, _integers(spec.inputs[i].distribution)) for i in plain)))
    if floats:
        for name, special in OVERLAYS.items():
            edges.append(Edge(name, tuple((i, _overlay(spec.inputs[i].distribution, special)) for i in floats)))
    if plain:
        special = Special(values=spec.edges.kinks or DEFAULT_KINKS, values_fraction=0.5, negzero=0.05)
        edges.append(Edge("kink", tuple((i, _overlay(spec.inputs[i].distribution, special)) for i in plain)))
    index, axes = reduced_axes(case)
    if index is not None:
        shape = case.input_shape(index)
        several = len(axes) > 1
        for axis in axes:
            suffix = f"@{axis}" if several else ""
            if is_float(case.input_dtype(spec.inputs[index])):
                masked = _overlay(spec.inputs[index].distribution, Special(masked_axis=axis, masked_fraction=0.25))
                edges.append(Edge("masked" + suffix, ((index, masked),)))
            single = _resize(case, index, axis, 1, "single" + suffix) if shape[axis] != 1 else None
            if single is not None:
                edges.append(single)
    batch = spec.edges.batch or ("batch" if "batch" in spec.params or "batch" in spec.sweep else None)
    if batch is not None and case.values.get(batch) != 0:
        edges.append(Edge("zero_batch", overrides=((batch, 0),)))
    return edges


def with_edges(cases: list[Case]) -> list[Case]:
    """Each case followed by its edge variants; the plain case carries the variants its spec skips, for the report."""
    return [variant for case in cases
            for variant in (dataclasses.replace(case, skipped_edges=skipped_edges(case)), *edge_variants(case))]


def describe_edge(case: Case) -> dict[str, Any]:
    """What the variant changed, for the report: inputs drawn differently, names and dims replaced."""
    out: dict[str, Any] = {}
    if case.edge.distributions:
        out["inputs"] = {case.spec.inputs[i].name: dist.describe() for i, dist in case.edge.distributions}
    if case.edge.overrides:
        out["values"] = {name: value for name, value in case.edge.overrides}
    if case.edge.dims:
        out["dims"] = [{"input": case.spec.inputs[i].name, "axis": axis, "size": size} for i, axis, size in case.edge.dims]
    return out


def reduced_axes(case: Case) -> tuple[int | None, tuple[int, ...]]:
    """(input index, its reduced axes, normalised to be non-negative): from edges.axes, else the first side's
    init/call argument named dim/axis/dims/axes holding integers, or normalized_shape (the last axes).
    (None, ()) for an op with no reduction."""
    spec = case.spec
    index = next(i for i, inp in enumerate(spec.inputs) if inp.name == spec.edges.input) if spec.edges.input else 0
    if spec.edges.axes is not None:
        raw = case.resolve(spec.edges.axes, "edges.axes")
    else:
        side = next(iter(spec.sides))
        arguments = {**case.init_args(side), **case.call_args(side)}
        raw = next((arguments[k] for k in REDUCTION_ARGUMENTS if k in arguments and arguments[k] is not None), None)
        normalized = arguments.get("normalized_shape")
        if raw is None and isinstance(normalized, (int, list, tuple)):
            raw = tuple(range(-len(normalized), 0)) if isinstance(normalized, (list, tuple)) else (-1,)
    if raw is None:
        return None, ()
    values = raw if isinstance(raw, (list, tuple)) else (raw,)
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return None, ()
    ndim = len(case.input_shape(index))
    if not all(-ndim <= v < ndim for v in values):
        return None, ()
    return index, tuple(dict.fromkeys(v % ndim for v in values))


def _resize(case: Case, index: int, axis: int, size: int, name: str) -> Edge | None:
    """Set one input dimension: through the param or sweep axis that names it (so every use agrees), else directly,
    unless a side argument repeats the size (normalized_shape: [32] would no longer match the input)."""
    dims = case.spec.inputs[index].shape
    raw: Any = dims[axis] if isinstance(dims, tuple) and len(dims) > axis else None
    if isinstance(raw, str) and _NAME.match(raw.lstrip("$")) and raw.lstrip("$") in {**case.spec.params, **case.spec.sweep}:
        return Edge(name, overrides=((raw.lstrip("$"), size),))
    side = next(iter(case.spec.sides))
    if SIZED_ARGUMENTS & {*case.init_args(side), *case.call_args(side)}:
        return None
    return Edge(name, dims=((index, axis, size),))


def _integers(dist: Distribution) -> Distribution:
    """Small integers: zeros and ties everywhere; non-negative where the spec asks for positive values."""
    return Distribution("integers", {"low": 0 if dist.kind == "positive" else -2, "high": 3})


def _overlay(dist: Distribution, special: Special) -> Distribution:
    return Distribution(dist.kind, dist.args, special)
