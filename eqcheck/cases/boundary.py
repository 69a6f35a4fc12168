"""--boundary: variants of a spec beyond its own sweep (docs/boundary.md), derived without a framework import.

From each spec's first sweep point (one case per dtype):
- arg: one sweep axis or param that feeds an argument on every side, or one torch argument the spec leaves at its
  default that `explore.arguments` maps (with its `default:`), set to a boundary value of its type (0, 1, -1, large,
  tiny; a dim's first, last, most negative and first out-of-range index; another documented choice of a string);
  and a module's constructor argument with documented choices or sentinels (CONSTRUCTOR_VALUES: a pool's ceil_mode,
  a norm's affine, a loss's ignore_index), through the map only: one the map cannot carry is reported, not run;
- empty@A / one@A / odd / batch: input 0's axis A of size 0 or 1, every even size made odd, a larger batch;
- noncontig / channels_last: identical values, laid out as a strided view or with NHWC (NDHWC) strides;
- large / tiny / bounds: the tails of each drawn float input's domain, and the exact edges of a bounded one;
- stale: the same case right after a decoy call of the op on other data (execution/checks/stale.py).
Both sides refusing a variant is agreement; one side refusing it is a finding (execution/checks/refusal.py).
Edge variants (cases/edges.py: NaN/Inf, integers, kinks, masked, single, zero batch) are not repeated here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from eqcheck.cases.edges import REDUCTION_ARGUMENTS, _resize, reduced_axes
from eqcheck.cases.sweep import Case, Edge, expand
from eqcheck.dtypes import is_float
from eqcheck.errors import SpecError
from eqcheck.spec import expressions
from eqcheck.spec.loader import BOUNDARY_KINDS
from eqcheck.spec.model import ArgumentMap, Distribution, OpSpec, Special

# The documented choices of torch's string arguments (torch.nn / torch.nn.functional docs), by argument name;
# an argument gets the one set holding every value its spec already uses.
STRING_CHOICES: dict[str, tuple[tuple[str, ...], ...]] = {
    "reduction": (("none", "mean", "sum"), ("none", "mean", "sum", "batchmean")),
    "mode": (("constant", "reflect", "replicate", "circular"),
             ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")),
    "padding_mode": (("zeros", "reflect", "replicate", "circular"),),
    "approximate": (("none", "tanh"),),
    "nonlinearity": (("tanh", "relu"),),
}
LABEL = "label"  # ignore_index's sentinel at the target's first label (the integer input's `low`)
# Module constructor arguments with documented choices or sentinels (torch.nn's pages): (class-name pattern, argument,
# torch's default, the values: each one the spec does not already set is a variant). A sentinel index comes with half the target's labels equal to it.
CONSTRUCTOR_VALUES: tuple[tuple[str, str, Any, tuple[Any, ...]], ...] = (
    (r"(Max|Avg|LP)Pool[123]d", "ceil_mode", False, (True, False)),
    (r"AvgPool[123]d", "count_include_pad", True, (True, False)),
    (r"BatchNorm[123]d|GroupNorm", "affine", True, (True, False)),
    (r"InstanceNorm[123]d", "affine", False, (True, False)),
    (r"BatchNorm[123]d", "track_running_stats", True, (True, False)),
    (r"InstanceNorm[123]d", "track_running_stats", False, (True, False)),
    (r"LayerNorm", "elementwise_affine", True, (True, False)),
    (r"NLLLoss|CrossEntropyLoss", "ignore_index", -100, (LABEL, -1)),
    (r"ConvTranspose[123]d", "output_padding", 0, (1,)),
)
FLOAT_VALUES = (0.0, 1.0, -1.0, 1e6, 1e-7)  # zero, the units, a large and a tiny magnitude
LARGE_SCALE, TINY_SCALE = 1e3, 1e-4  # the tails of a drawn input: its scale times these
BATCH_FACTOR = 4
_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Boundary(Edge):
    """A --boundary variant: an Edge (overrides, dims, distributions) plus an input layout or a decoy call."""

    group: str = ""  # the variant's kind (BOUNDARY_KINDS), what edge_differences and edges.skip name
    layout: str | None = None  # noncontig | channels_last: how the runner lays the shared inputs out (execution/layouts.py)
    decoy: bool = False  # stale: the runner first runs the case on other data (execution/checks/stale.py)
    FAMILY: ClassVar[str] = "boundary"

    @property
    def kind(self) -> str:
        return self.group


def boundary_cases(spec, dtypes: tuple[str, ...] | None = None) -> list[Case]:
    """Every boundary variant of `spec`, from its first sweep point; variants whose sizes no longer evaluate, and
    kinds the spec's edges.skip opts out, are left out."""
    cases = expand(spec, dtypes)
    seen_dtypes, bases = set(), []
    for case in cases:  # the first sweep point, once per dtype
        if case.dtype not in seen_dtypes and case.point == cases[0].point:
            seen_dtypes.add(case.dtype)
            bases.append(case)
    out = []
    for base in bases:
        for variant_spec, variant in _variants(base):
            assert variant.group in BOUNDARY_KINDS, variant.group
            if variant.group in spec.edges.skip:
                continue
            case = dataclasses.replace(base, spec=variant_spec or base.spec, edge=variant)
            try:
                case.resolve_everything()
            except SpecError:
                continue  # a size turned negative or too large: not an input the spec can describe
            out.append(case)
    return _unique(out)


def with_boundary(cases: list[Case], specs) -> list[Case]:
    """Each spec's cases followed by its boundary variants (in the dtypes the run's cases of that spec have); the
    variants with an empty input go last, all of them: a MindSpore kernel run over no elements can poison later
    calls of it in the process (Softmax's gradient is all zeros from then on, docs/boundary.md)."""
    by_spec: dict[str, list[Case]] = {}
    for case in cases:
        by_spec.setdefault(case.spec.path, []).append(case)
    paths = {spec.path: spec for spec in specs}
    out, empty = [], []
    for path, own in by_spec.items():
        dtypes = tuple(dict.fromkeys(case.dtype for case in own))
        skips = constructor_skips(paths.get(path, own[0].spec))
        if skips:  # on the first plain case, where the report lists skipped variants
            first = next((i for i, case in enumerate(own) if case.edge is None and case.sample is None), 0)
            own = [*own[:first], dataclasses.replace(own[first], skipped_edges=own[first].skipped_edges + skips),
                   *own[first + 1:]]
        out.extend(own)
        for variant in boundary_cases(paths.get(path, own[0].spec), dtypes):
            (empty if has_empty_input(variant) else out).append(variant)
    return out + empty


def has_empty_input(case: Case) -> bool:
    return any(0 in case.input_shape(i) for i in range(len(case.spec.inputs)))


def describe_boundary(case: Case) -> dict[str, Any]:
    """What the runner does beyond the edge description: the layout and the decoy call ({} for an edge variant)."""
    edge = case.edge
    if not isinstance(edge, Boundary):
        return {}
    out: dict[str, Any] = {"kind": edge.group}
    if edge.layout:
        out["layout"] = edge.layout
    if edge.decoy:
        out["decoy"] = "the same op called first on other data (another seed), its outputs discarded"
    return out


# ---- the variants -----------------------------------------------------------------------------


def _variants(case: Case) -> list[tuple[OpSpec | None, Boundary]]:
    """(the spec the variant runs, None for the case's own; the variant)."""
    own = [*_argument_variants(case), *_shape_variants(case), *_layout_variants(case), *_domain_variants(case),
           *_stale_variants(case)]
    constructed = [(spec, variant) for spec, variant, _ in _constructor_variants(case) if spec is not None]
    return [*((None, v) for v in own[:len(_argument_variants(case))]), *_default_argument_variants(case), *constructed,
            *((None, v) for v in own[len(_argument_variants(case)):])]


def _constructor_variants(case: Case) -> list[tuple[OpSpec | None, Boundary, str | None]]:
    """CONSTRUCTOR_VALUES of a module spec's torch class, each value it does not already set: (the variant's spec,
    the variant, None), or (None, the variant, why not run) where explore.arguments cannot carry it to MindSpore."""
    spec = case.spec
    if "torch" not in spec.sides or "mindspore" not in spec.sides or not _is_class(spec.sides["torch"].op):
        return []
    torch_side = spec.sides["torch"]
    cls = torch_side.op.rsplit(".", 1)[-1]
    arguments = spec.explore.arguments if spec.explore else {}
    out: list[tuple[OpSpec | None, Boundary, str | None]] = []
    for pattern, name, default, values in CONSTRUCTOR_VALUES:
        raw = torch_side.init.get(name, default)
        if not re.fullmatch(pattern, cls) or isinstance(raw, str) and raw.startswith("$"):
            continue  # a sweep axis or param feeds it: the `arg` variants above vary it
        current = case.init_args("torch").get(name, default)
        for value in values:
            inputs, labels = spec.inputs, ()
            if name == "ignore_index":
                found = _labelled(case, value, current)
                if found is None:
                    continue  # no integer target to hold the sentinel
                value, inputs, labels = found
            if value == current and type(value) is type(current):
                continue
            variant = Boundary(f"{name}:{_format(value)}", distributions=labels, group="arg")
            arg = arguments.get(name)
            why = _carried(case, arg, name, value)
            if why is not None:
                out.append((None, variant, why))
                continue
            sides = dict(spec.sides)
            sides["torch"] = dataclasses.replace(torch_side, init={**torch_side.init, name: value})
            if not arg.drop:  # a dropped argument does not change MindSpore's result: its side stays
                side = spec.sides["mindspore"]
                where = arg.where or "init"
                extra = next((fixed for key, fixed in arg.value_sets.items() if key == value and type(key) is type(value)), {})
                updated = {**getattr(side, where), arg.name: _mindspore_value(case, arg, value), **arg.set, **extra}
                sides["mindspore"] = dataclasses.replace(side, **{where: updated})
            out.append((dataclasses.replace(spec, sides=sides, inputs=inputs), variant, None))
    return out


def _labelled(case: Case, value: Any, current: Any) -> tuple[int, tuple, tuple] | None:
    """An ignore_index sentinel (LABEL: the target's first label) held by the target, the integer input: (the value,
    the spec's inputs, distributions replaced). A `set_every` step writing the current index writes the sentinel
    instead; else half the target's labels are drawn at it. None without an integer target."""
    for index, inp in enumerate(case.spec.inputs):
        dist = inp.distribution
        if dist.kind != "integers":
            continue
        label = case.distribution_args(dist, f"inputs.{index}.distribution")["low"] if value == LABEL else value
        steps = tuple(dataclasses.replace(step, args={**step.args, "value": label})
                      if step.kind == "set_every" and step.args.get("value") == current else step for step in inp.derive)
        if steps != inp.derive:
            inputs = list(case.spec.inputs)
            inputs[index] = dataclasses.replace(inp, derive=steps)
            return label, tuple(inputs), ()
        special = Special(values=(float(label),), values_fraction=0.5)
        return label, case.spec.inputs, ((index, Distribution(dist.kind, dist.args, special)),)
    return None


def _carried(case: Case, arg: ArgumentMap | None, name: str, value: Any) -> str | None:
    """Why explore.arguments cannot carry this constructor value to MindSpore; None where it can."""
    if arg is None:
        return f"unmapped: {name} has no explore.arguments entry (MindSpore's form is not guessed)"
    if arg.unsupported:
        return f"not supported: {arg.unsupported}"
    if arg.positional or arg.cast in ("tuple", "list"):
        return f"not supported: {name} is positional or a sequence on MindSpore's side"
    if not arg.drop and _mindspore_value(case, arg, value) is _UNMAPPED:
        return f"unmapped: the map has no MindSpore form of {name}={value}"
    return None


def constructor_skips(spec: OpSpec) -> tuple[tuple[str, str], ...]:
    """(variant, why) for each constructor boundary value of the spec's first case that the map cannot carry: the
    report lists them beside the plain case (`edges_skipped`), counted, never guessed."""
    cases = expand(spec)
    if not cases:
        return ()
    return tuple((f"boundary={variant.name}", why) for derived, variant, why in _constructor_variants(cases[0])
                 if derived is None)


def _argument_variants(case: Case) -> list[Boundary]:
    spec = case.spec
    keys = _fed_names(case)
    out = []
    for name, torch_key in keys.items():
        existing = list(spec.sweep[name]) if name in spec.sweep else [case.values[name]]
        for value in _boundary_values(case, name, torch_key, existing):
            out.append(Boundary(f"{name}:{_format(value)}", overrides=((name, value),), group="arg"))
    return out


def _default_argument_variants(case: Case) -> list[tuple[OpSpec, Boundary]]:
    """Torch arguments the spec leaves at their default that `explore.arguments` maps with a scalar `default:`: each
    boundary value of its type, written into both sides (MindSpore's through the map: rename, `values`, `value`,
    `set`, an int/float `cast`). Arguments the map marks unsupported, dropped, positional or cast to a tuple are left."""
    spec = case.spec
    if spec.explore is None or "torch" not in spec.sides or "mindspore" not in spec.sides:
        return []
    torch_side = spec.sides["torch"]
    given = {*torch_side.init, *torch_side.call}
    out = []
    for name, arg in spec.explore.arguments.items():
        if (name in given or not arg.has_default or arg.unsupported or arg.drop or arg.positional
                or arg.cast in ("tuple", "list") or isinstance(arg.default, (list, tuple, dict)) or arg.default is None
                or str(arg.default).startswith("$")):  # a default that follows another argument (stride = kernel_size)
            continue
        for value in _boundary_values(case, name, name, [arg.default]):
            translated = _mindspore_value(case, arg, value)
            if translated is _UNMAPPED:
                continue
            sides = dict(spec.sides)
            for framework, key, side_value, extra in (("torch", name, value, {}), ("mindspore", arg.name, translated, arg.set)):
                side = spec.sides[framework]
                where = arg.where or ("init" if _is_class(side.op) else "call")
                sides[framework] = dataclasses.replace(side, **{where: {**getattr(side, where), key: side_value, **extra}})
            out.append((dataclasses.replace(spec, sides=sides), Boundary(f"{name}:{_format(value)}", group="arg")))
    return out


_UNMAPPED = object()


def _mindspore_value(case: Case, arg: ArgumentMap, value: Any) -> Any:
    if arg.values is not None:
        return _UNMAPPED if value in arg.value_unsupported else arg.values.get(value, _UNMAPPED)
    if arg.value is not None:
        try:
            value = expressions.evaluate(arg.value[1:], {**case.values, "value": value})
        except expressions.ExpressionError:
            return _UNMAPPED
    if arg.cast in ("int", "float") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if arg.cast == "int" else float(value)
    return value


def _is_class(op: str) -> bool:
    """torch.nn.Conv2d, mindspore.nn.Dense: constructed with `init`; functions take `call` (what the name says)."""
    return op.rsplit(".", 1)[-1][:1].isupper()


def _fed_names(case: Case) -> dict[str, str | None]:
    """Sweep axes and params that every side's init/call uses, -> the torch argument that takes them (None when only
    inside an expression): the names both sides already translate through their `$name` templates."""
    spec = case.spec
    per_side, torch_keys = [], {}
    for framework, side in spec.sides.items():
        found: set[str] = set()

        def walk(value, key):
            if isinstance(value, str) and value.startswith("$"):
                for name in _NAME.findall(value[1:]):
                    found.add(name)
                    if framework == "torch" and value == f"${name}":
                        torch_keys[name] = key
            elif isinstance(value, (list, tuple)):
                for item in value:
                    walk(item, key)
            elif isinstance(value, dict):
                for k, item in value.items():
                    walk(item, k)

        walk(side.init, None)
        walk(side.call, None)
        per_side.append(found)
    common = set.intersection(*per_side) if per_side else set()
    ordered = [n for n in (*spec.sweep, *spec.params) if n in common]
    return {name: torch_keys.get(name) for name in ordered}


def _boundary_values(case: Case, name: str, torch_key: str | None, existing: list[Any]) -> list[Any]:
    kinds = {type(v) for v in existing}
    if kinds == {bool}:
        values: list[Any] = [True, False]
    elif kinds == {int}:
        if name in REDUCTION_ARGUMENTS or torch_key in REDUCTION_ARGUMENTS:
            ndim = len(case.input_shape(_reduced_input(case)))
            values = [0, ndim - 1, -ndim, ndim]  # first, last, most negative, the first out of range
        else:
            values = [0, 1, -1, BATCH_FACTOR * max(abs(v) for v in existing) + 1]
    elif kinds <= {int, float} and float in kinds:
        values = list(FLOAT_VALUES)
    elif kinds == {str}:
        sets = [s for s in STRING_CHOICES.get(torch_key or name, ()) if set(existing) <= set(s)]
        values = list(sets[0]) if sets else []
    else:
        return []
    return [v for v in dict.fromkeys(values) if not any(v == e and type(v) is type(e) for e in existing)]


def _reduced_input(case: Case) -> int:
    index, _ = reduced_axes(case)
    return index if index is not None else 0


def _shape_variants(case: Case) -> list[Boundary]:
    """Input 0's axes of size 0 and 1 (not the batch or the reduced axes --edges already covers), every even size made
    odd, a larger batch."""
    spec = case.spec
    if not spec.inputs:
        return []
    shape = case.input_shape(0)
    batch = _batch_name(case)
    batch_axes = _axes_named(case, 0, batch) if batch else set()
    _, reduced = reduced_axes(case) if reduced_axes(case)[0] == 0 else (None, ())
    out = []
    for axis, size in enumerate(shape):
        if size != 0 and axis not in batch_axes:
            resized = _resize(case, 0, axis, 0, f"empty@{axis}")
            if resized is not None:
                out.append(_as_boundary(_shared(case, resized), "empty"))
        if size > 1 and axis not in reduced:
            resized = _resize(case, 0, axis, 1, f"one@{axis}")
            if resized is not None:
                out.append(_as_boundary(_shared(case, resized), "one"))
    odd = _odd_sizes(case)
    if odd is not None:
        out.append(odd)
    if batch is not None and isinstance(case.values.get(batch), int) and case.values[batch] > 0:
        out.append(Boundary("batch", overrides=((batch, BATCH_FACTOR * case.values[batch] + 1),), group="batch"))
    return out


def _shared(case: Case, edge: Edge) -> Edge:
    """A literal size of input 0 set directly: the same literal at the same axis of every input of its rank changes
    with it (a loss's input and target stay alike; one of them alone would test broadcasting instead)."""
    if not edge.dims:
        return edge
    (_, axis, size), = edge.dims
    inputs = case.spec.inputs
    first = inputs[0].shape
    literal = first[axis] if isinstance(first, tuple) else None
    dims = [(0, axis, size)]
    for index, inp in enumerate(inputs[1:], start=1):
        raw = inp.shape
        if isinstance(literal, int) and isinstance(raw, tuple) and len(raw) == len(first) and raw[axis] == literal:
            dims.append((index, axis, size))
    return dataclasses.replace(edge, dims=tuple(dims))


def _odd_sizes(case: Case) -> Boundary | None:
    """Every even size above 1 plus one: through the param or sweep axis naming it, else the literal in every input
    (so inputs that share a size keep sharing it); not when a side argument repeats the literal."""
    spec = case.spec
    overrides, dims = {}, []
    literals_in_args = _literal_ints(case)
    for index, inp in enumerate(spec.inputs):
        raw_dims = inp.shape if isinstance(inp.shape, tuple) else ()
        shape = case.input_shape(index)
        for axis, size in enumerate(shape):
            if size < 2 or size % 2:
                continue
            raw = raw_dims[axis] if axis < len(raw_dims) else None
            name = raw.lstrip("$") if isinstance(raw, str) else None
            if name in case.values and name != "dtype" and isinstance(case.values[name], int):
                overrides[name] = case.values[name] + 1
            elif isinstance(raw, int) and raw not in literals_in_args:
                dims.append((index, axis, size + 1))
            else:
                return None  # a size from an expression or repeated in an argument cannot change on its own
    if not overrides and not dims:
        return None
    return Boundary("odd", overrides=tuple(overrides.items()), dims=tuple(dims), group="odd")


def _literal_ints(case: Case) -> set[int]:
    found: set[int] = set()
    for framework in case.spec.sides:
        stack = [case.init_args(framework), case.call_args(framework)]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, (list, tuple)):
                stack.extend(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                found.add(value)
    return found


def _layout_variants(case: Case) -> list[Boundary]:
    shapes = [case.input_shape(i) for i in range(len(case.spec.inputs))]
    out = []
    if any(len(s) >= 1 and all(s) for s in shapes):
        out.append(Boundary("noncontig", layout="noncontig", group="noncontig"))
    if any(len(s) in (4, 5) and all(s) for s in shapes):
        out.append(Boundary("channels_last", layout="channels_last", group="channels_last"))
    return out


def _domain_variants(case: Case) -> list[Boundary]:
    """The tails of every drawn, underived float input (its scale times 1e3 and 1e-4), and the exact ends of a bounded
    one (uniform, positive, integer inputs: half the elements at low or at the top)."""
    spec = case.spec
    large, tiny, bounds = [], [], []
    for index, inp in enumerate(spec.inputs):
        dist = inp.distribution
        if inp.derive or dist.kind == "constant" or dist.special is not None:
            continue
        args = case.distribution_args(dist, f"inputs.{index}.distribution")
        if is_float(case.input_dtype(inp)):
            if dist.kind == "normal":
                large.append((index, Distribution("normal", {"mean": args["mean"] * LARGE_SCALE, "std": args["std"] * LARGE_SCALE})))
                tiny.append((index, Distribution("normal", {"mean": args["mean"] * TINY_SCALE, "std": args["std"] * TINY_SCALE})))
            elif dist.kind == "uniform":
                large.append((index, Distribution("uniform", {"low": args["low"] * LARGE_SCALE, "high": args["high"] * LARGE_SCALE})))
                tiny.append((index, Distribution("uniform", {"low": args["low"] * TINY_SCALE, "high": args["high"] * TINY_SCALE})))
            elif dist.kind == "positive":  # the open end at 0 and the far end
                large.append((index, Distribution("positive", {"low": args["high"], "high": args["high"] * LARGE_SCALE})))
                tiny.append((index, Distribution("positive", {"low": args["low"] * TINY_SCALE, "high": args["low"] * TINY_SCALE * 10})))
            if dist.kind in ("uniform", "positive"):
                ends = Special(values=(float(args["low"]), float(args["high"])), values_fraction=0.5)
                bounds.append((index, Distribution(dist.kind, dist.args, ends)))
        elif dist.kind == "integers":  # indices and labels: the first and the last valid one
            ends = Special(values=(float(args["low"]), float(args["high"] - 1)), values_fraction=0.5)
            bounds.append((index, Distribution(dist.kind, dist.args, ends)))
    out = []
    for name, replaced in (("large", large), ("tiny", tiny), ("bounds", bounds)):
        if replaced:
            out.append(Boundary(name, distributions=tuple(replaced), group=name))
    return out


def _stale_variants(case: Case) -> list[Boundary]:
    """The case after a decoy call on other data; with a batch, also its empty batch after a decoy on the full one
    (a weight gradient over no samples that the kernel never writes then holds the decoy's values, not zeros)."""
    out = [Boundary("stale", decoy=True, group="stale")]
    batch = _batch_name(case)
    if batch is not None and isinstance(case.values.get(batch), int) and case.values[batch] > 0:
        out.append(Boundary("stale@empty_batch", overrides=((batch, 0),), decoy=True, group="stale"))
    return out


# ---- helpers ----------------------------------------------------------------------------------


def _batch_name(case: Case) -> str | None:
    spec = case.spec
    return spec.edges.batch or ("batch" if "batch" in spec.params or "batch" in spec.sweep else None)


def _axes_named(case: Case, index: int, name: str) -> set[int]:
    dims = case.spec.inputs[index].shape
    if not isinstance(dims, tuple):
        return set()
    return {axis for axis, raw in enumerate(dims) if isinstance(raw, str) and raw.lstrip("$") == name}


def _as_boundary(edge: Edge, group: str) -> Boundary:
    return Boundary(edge.name, edge.distributions, edge.overrides, edge.dims, group=group)


def _format(value: Any) -> str:
    return str(value)


def _unique(cases: list[Case]) -> list[Case]:
    seen, out = set(), []
    for case in cases:
        if case.id not in seen:
            seen.add(case.id)
            out.append(case)
    return out
