"""YAML -> OpSpec, strictly: unknown keys, wrong types, bad expressions and bad shapes are SpecErrors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from eqcheck.backends import FRAMEWORKS
from eqcheck.dtypes import ALL_DTYPES, FLOAT_DTYPES, Tolerance
from eqcheck.errors import SpecError
from eqcheck.spec.layout import ReorderChunks, Reshape, Transpose
from eqcheck.spec import allowlist, expressions
from eqcheck.spec.fields import Fields, check_type, join, suggest
from eqcheck.spec.model import (
    Distribution,
    ExpectedDifference,
    InputSpec,
    OpSpec,
    OutputSpec,
    SideName,
    SideSpec,
    WeightEntry,
)

SPEC_SUFFIXES = (".yaml", ".yml")
TOP_KEYS = (
    "name", "summary", "source", "params", "sweep", "dtypes", "mode", "inputs", *FRAMEWORKS,
    "weights", "unmapped", "outputs", "tolerance", "expected_difference",
    "grad", "grad_tolerance", "compare_state", "reference", "trials",
)
REFERENCES = ("float64",)
DISTRIBUTIONS = {
    "normal": {"mean": 0.0, "std": 1.0},
    "uniform": {"low": -1.0, "high": 1.0},
    "positive": {"low": 0.1, "high": 2.0},  # uniform on a positive range: logs, sqrt, variances
    "integers": {"low": 0, "high": None},  # high is exclusive and required
    "constant": {"value": None},
}
# Refuse absurd inputs before anything is allocated: 2**28 float32 elements is 1 GiB.
MAX_INPUT_ELEMENTS = 2**28
_FAST_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe either way: no python/* tags
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_NAME = re.compile(r"^[A-Za-z_]\w*$")
_RESERVED = {"dtype"}


def discover_spec_files(paths: list[str]) -> list[Path]:
    """Spec files under the given files and folders, sorted, each once."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found.extend(sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()))
            elif path.exists():
                found.append(path)
            else:
                raise SpecError("no such file or folder", file=raw)
        except OSError as exc:  # a name too long, a folder we may not list, ...
            raise SpecError(f"cannot read this path ({exc.strerror or type(exc).__name__})", file=raw[:200]) from None
    unique = list(dict.fromkeys(found))
    if not unique:
        raise SpecError(f"no spec files (*.yaml, *.yml) found under {', '.join(paths)}")
    return unique


def load_specs(paths: list[str]) -> list[OpSpec]:
    """Parse and validate each spec file's structure. `eqcheck.cases.load_specs` also evaluates every case."""
    specs = [load_spec(path) for path in discover_spec_files(paths)]
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise SpecError(f"spec name '{spec.name}' is also used by {seen[spec.name]}", file=spec.path, field="name")
        seen[spec.name] = spec.path
    return specs


def load_spec(path: Path | str) -> OpSpec:
    """One file's structure; the expressions are checked at every sweep point by `eqcheck.cases.load_spec`."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the file ({exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc})", file=file) from None
    try:
        try:  # libyaml's safe loader is ~10x faster; the pure-Python one words errors better, so it reports them
            data = yaml.load(text, Loader=_FAST_SAFE_LOADER)
        except yaml.YAMLError:
            data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"not valid YAML{where}: {problem}", file=file) from None
    if data is None:
        raise SpecError("the file is empty; a spec needs at least name, inputs and one section per framework", file=file)
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a YAML mapping, got {type(data).__name__}", file=file, field="<top level>")
    return _parse(data, file)


def _parse(data: dict, file: str) -> OpSpec:
    top = Fields(data, file, "", TOP_KEYS)
    name = top.required("name", str)
    params = _parse_params(top)
    sweep = _parse_sweep(top, params)
    dtypes = _parse_dtypes(top)
    mode = top.optional("mode", "eval", str)
    if mode not in ("eval", "train"):
        raise top.error("mode", f"must be 'eval' or 'train', got '{mode}'")
    sides = {fw: _parse_side(top, fw) for fw in FRAMEWORKS if top.has(fw)}
    if len(sides) < 2:
        missing = [fw for fw in FRAMEWORKS if fw not in sides]
        raise top.error(missing[0], "this field is required: a spec compares one callable per framework")
    inputs = _parse_inputs(top, sides)
    _check_call_args(top, sides, inputs)
    spec = OpSpec(
        name=name,
        path=file,
        summary=top.optional("summary", "", str),
        source=top.optional("source", None, str),
        params=params,
        sweep=sweep,
        dtypes=dtypes,
        mode=mode,
        inputs=inputs,
        sides=sides,
        weights=_parse_weights(top, sides),
        unmapped=_parse_unmapped(top, sides),
        outputs=_parse_outputs(top),
        tolerance=_parse_tolerances(top.optional("tolerance", {}, dict), file, "tolerance"),
        expected_differences=_parse_expected(top, params, sweep),
        **_parse_beyond_forward(top, file),
    )
    return spec


# ---- sections -------------------------------------------------------------------------------


def _parse_beyond_forward(top: Fields, file: str) -> dict[str, Any]:
    """grad, grad_tolerance, compare_state, reference, trials (see docs/beyond-forward.md)."""
    reference = top.optional("reference", None, str)
    if reference is not None and reference not in REFERENCES:
        raise top.error("reference", f"must be one of {', '.join(REFERENCES)}, got '{reference}'")
    trials = top.optional("trials", 1, int)
    if trials < 1:
        raise top.error("trials", f"must be a positive integer, got {trials}")
    return {
        "grad": top.optional("grad", False, bool),
        "grad_tolerance": _parse_tolerances(top.optional("grad_tolerance", {}, dict), file, "grad_tolerance"),
        "compare_state": top.optional("compare_state", None, bool),
        "reference": reference,
        "trials": trials,
    }


def _parse_params(top: Fields) -> dict[str, Any]:
    params = top.optional("params", {}, dict)
    for key, value in params.items():
        field = join("params", key)
        _check_name(key, top.file, field)
        _check_scalar_tree(value, top.file, field)
    return dict(params)


def _parse_sweep(top: Fields, params: dict) -> dict[str, tuple]:
    sweep = top.optional("sweep", {}, dict)
    out = {}
    for key, values in sweep.items():
        field = join("sweep", key)
        _check_name(key, top.file, field)
        if key in params:
            raise SpecError(f"'{key}' is both a param and a sweep axis; keep one", file=top.file, field=field)
        check_type(values, (list,), top.file, field)
        if not values:
            raise SpecError("a sweep axis needs at least one value", file=top.file, field=field)
        for i, value in enumerate(values):
            _check_scalar_tree(value, top.file, join(field, i))
        out[key] = tuple(values)
    return out


def _parse_dtypes(top: Fields) -> tuple[str, ...]:
    dtypes = top.optional("dtypes", ["float32"], list)
    for i, dtype in enumerate(dtypes):
        check_type(dtype, (str,), top.file, join("dtypes", i))
        if dtype not in FLOAT_DTYPES:
            raise SpecError(
                f"unknown dtype '{dtype}' (choose from {', '.join(FLOAT_DTYPES)})",
                file=top.file, field=join("dtypes", i), hint=suggest(dtype, FLOAT_DTYPES),
            )
    if not dtypes:
        raise top.error("dtypes", "needs at least one dtype")
    return tuple(dtypes)


def _parse_side(top: Fields, framework: str) -> SideSpec:
    side = Fields(top.data[framework], top.file, framework, ("op", "init", "call", "args"))
    op = side.required("op", str)
    if not _DOTTED.match(op):
        raise side.error("op", f"'{op}' is not a dotted path such as {framework}.nn.GRUCell")
    if not op.startswith(framework + "."):
        raise side.error("op", f"'{op}' is outside '{framework}.'; the {framework} section may only name {framework} callables")
    allowlist.check_op(op, top.file, side.field("op"))  # the operator's allowed prefixes and the denylist
    init = side.optional("init", {}, dict)
    call = side.optional("call", {}, dict)
    for key, section in (("init", init), ("call", call)):
        for arg, value in section.items():
            _check_name(arg, top.file, join(side.field(key), arg))
            _check_scalar_tree(value, top.file, join(side.field(key), arg))
    args = side.optional("args", None, list)
    return SideSpec(framework=framework, op=op, init=dict(init), call=dict(call), args=_tuples(args) if args is not None else None)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _check_call_args(top: Fields, sides: dict[str, SideSpec], inputs: tuple[InputSpec, ...]) -> None:
    """A side's `args` names every positional input exactly once; keyword inputs stay out of it."""
    positional = [i.name for i in inputs if not i.keyword]
    for fw, side in sides.items():
        if side.args is None:
            continue
        used: list[str] = []

        def walk(node: Any, field: str) -> None:
            if isinstance(node, tuple):
                for j, item in enumerate(node):
                    walk(item, join(field, j))
                return
            if not isinstance(node, str) or node not in positional:
                raise SpecError(f"{node!r} is not a positional input (inputs: {', '.join(positional)})", file=top.file,
                                field=field, hint=suggest(str(node), positional))
            used.append(node)

        walk(side.args, f"{fw}.args")
        missing = [n for n in positional if n not in used]
        twice = {n for n in used if used.count(n) > 1}
        if missing or twice:
            problem = f"misses {', '.join(missing)}" if missing else f"uses {', '.join(sorted(twice))} twice"
            raise SpecError(f"{problem}; name every positional input exactly once", file=top.file, field=f"{fw}.args")


def _parse_side_name(value: Any, file: str, field: str, default: str, *, layout: bool) -> SideName:
    if isinstance(value, str):
        _check_name(value, file, field, dotted=layout)
        return SideName(name=value)
    allowed = ("name", "dtype", "transform") if layout else ("name", "dtype")
    entry = Fields(value, file, field, allowed)
    name = entry.optional("name", default, str)
    _check_name(name, file, entry.field("name"), dotted=layout)
    dtype = entry.optional("dtype", None, str)
    if dtype is not None and dtype not in ALL_DTYPES:
        raise entry.error("dtype", f"unknown dtype '{dtype}'", hint=suggest(dtype, ALL_DTYPES))
    transforms = _parse_transforms(entry) if layout else ()
    return SideName(name=name, dtype=dtype, transforms=transforms)


def _parse_transforms(entry: Fields) -> tuple:
    raw = entry.optional("transform", [], list)
    transforms = []
    for i, item in enumerate(raw):
        field = join(entry.field("transform"), i)
        step = Fields(item, entry.file, field, ("transpose", "reshape", "reorder_chunks"))
        if len(step.data) != 1:
            raise SpecError("each transform step has exactly one of transpose, reshape, reorder_chunks", file=entry.file, field=field)
        kind, args = next(iter(step.data.items()))
        if kind == "transpose":
            axes = _int_list(args, entry.file, join(field, kind))
            if sorted(axes) != list(range(len(axes))):
                raise SpecError(f"{axes} is not a permutation of 0..{len(axes) - 1}", file=entry.file, field=join(field, kind))
            transforms.append(Transpose(tuple(axes)))
        elif kind == "reshape":
            check_type(args, (list,), entry.file, join(field, kind))
            for j, dim in enumerate(args):
                _check_dim(dim, entry.file, join(join(field, kind), j))
            transforms.append(Reshape(tuple(args)))
        else:
            spec = Fields(args, entry.file, join(field, kind), ("axis", "order"))
            axis = spec.required("axis", int)
            order = _int_list(spec.required("order", list), entry.file, spec.field("order"))
            if sorted(order) != list(range(len(order))):
                raise spec.error("order", f"{order} is not a permutation of 0..{len(order) - 1}")
            transforms.append(ReorderChunks(axis, tuple(order)))
    return tuple(transforms)


def _parse_inputs(top: Fields, sides: dict[str, SideSpec]) -> tuple[InputSpec, ...]:
    raw = top.required("inputs", list)
    if not raw:
        raise top.error("inputs", "needs at least one input")
    inputs, names = [], set()
    for i, item in enumerate(raw):
        field = join("inputs", i)
        entry = Fields(item, top.file, field, ("name", "shape", "dtype", "distribution", "keyword", *FRAMEWORKS))
        name = entry.required("name", str)
        _check_name(name, top.file, entry.field("name"))
        if name in names:
            raise entry.error("name", f"input name '{name}' is used twice")
        names.add(name)
        shape = entry.required("shape", list, str)  # a list of dims, or "$expr" naming a whole shape
        if isinstance(shape, str):
            if not shape.startswith("$"):
                raise entry.error("shape", f"'{shape}' is neither a list of dimensions nor a $expression such as $shape")
            _check_dim(shape, top.file, entry.field("shape"))
        for j, dim in enumerate(shape if isinstance(shape, list) else ()):
            _check_dim(dim, top.file, join(entry.field("shape"), j))
        dtype = entry.optional("dtype", "float", str)
        if dtype != "float" and dtype not in ALL_DTYPES:
            raise entry.error("dtype", f"unknown dtype '{dtype}' (use 'float' to follow the case dtype, or one of {', '.join(ALL_DTYPES)})",
                              hint=suggest(dtype, ALL_DTYPES))
        dist = _parse_distribution(entry.optional("distribution", "normal", str, dict), top.file, entry.field("distribution"))
        if dist.kind in ("normal", "uniform", "positive") and dtype not in ("float", *FLOAT_DTYPES):
            raise entry.error("distribution", f"'{dist.kind}' draws floats but the input dtype is {dtype}; use 'integers'")
        input_sides = {
            fw: _parse_side_name(entry.data.get(fw, name), top.file, entry.field(fw), name, layout=False) for fw in sides
        }
        inputs.append(InputSpec(name, tuple(shape) if isinstance(shape, list) else shape, dtype, dist, input_sides, entry.optional("keyword", False, bool)))
    return tuple(inputs)


def _parse_distribution(value: Any, file: str, field: str) -> Distribution:
    check_type(value, (str, dict), file, field)  # weights.<w>.init reaches here unchecked
    if isinstance(value, dict) and len(value) == 1 and not isinstance(next(iter(value)), str):
        raise SpecError(f"unknown distribution {next(iter(value))!r} (choose from {', '.join(DISTRIBUTIONS)})", file=file, field=field)
    if isinstance(value, str):
        kind, args = value, {}
    else:
        if len(value) != 1:
            raise SpecError(f"give exactly one distribution ({', '.join(DISTRIBUTIONS)}), e.g. {{uniform: {{low: 0, high: 1}}}}", file=file, field=field)
        kind, args = next(iter(value.items()))
        args = {} if args is None else args
    if kind not in DISTRIBUTIONS:
        raise SpecError(f"unknown distribution '{kind}' (choose from {', '.join(DISTRIBUTIONS)})", file=file, field=field,
                        hint=suggest(kind, DISTRIBUTIONS))
    if kind == "constant" and not isinstance(args, dict):
        args = {"value": args}
    entry = Fields(args, file, join(field, kind), tuple(DISTRIBUTIONS[kind]))
    merged = dict(DISTRIBUTIONS[kind])
    for key, val in entry.data.items():
        _check_scalar_tree(val, file, entry.field(key))
        merged[key] = _number(val) if isinstance(val, str) and not val.startswith("$") else val
    for key, val in merged.items():
        if val is None:
            raise SpecError(f"'{kind}' needs '{key}'", file=file, field=join(field, kind))
    return Distribution(kind, merged)


def _parse_weights(top: Fields, sides: dict[str, SideSpec]) -> tuple[WeightEntry, ...]:
    raw = top.optional("weights", {}, dict)
    entries, claimed = [], {fw: {} for fw in sides}
    for canonical, item in raw.items():
        field = join("weights", canonical)
        _check_name(canonical, top.file, field, dotted=True)
        if isinstance(item, str):  # shorthand: one name on every side
            item = {fw: item for fw in sides}
        entry = Fields(item, top.file, field, ("init", "shape", *FRAMEWORKS))
        weight_sides = {}
        for fw in sides:
            value = entry.data.get(fw, canonical)
            side = _parse_side_name(value, top.file, entry.field(fw), canonical, layout=True)
            if side.name in claimed[fw]:
                raise entry.error(fw, f"{fw} parameter '{side.name}' is already mapped by weights.{claimed[fw][side.name]}")
            claimed[fw][side.name] = canonical
            weight_sides[fw] = side
        shape = entry.optional("shape", None, list)
        for j, dim in enumerate(shape or ()):
            _check_dim(dim, top.file, join(entry.field("shape"), j))
        init = entry.data.get("init")
        dist = None if init in (None, "auto") else _parse_distribution(init, top.file, entry.field("init"))
        entries.append(WeightEntry(canonical, weight_sides, dist, tuple(shape) if shape is not None else None))
    return tuple(entries)


def _parse_unmapped(top: Fields, sides: dict[str, SideSpec]) -> dict[str, dict[str, str]]:
    raw = Fields(top.optional("unmapped", {}, dict), top.file, "unmapped", tuple(sides))
    out = {}
    for fw in sides:
        reasons = raw.optional(fw, {}, dict)
        for param, reason in reasons.items():
            _check_name(param, top.file, join(raw.field(fw), param), dotted=True)
            check_type(reason, (str,), top.file, join(raw.field(fw), param))
            if not reason.strip():
                raise SpecError("give the reason this parameter is not shared", file=top.file, field=join(raw.field(fw), param))
        out[fw] = dict(reasons)
    return out


def _parse_outputs(top: Fields) -> tuple[OutputSpec, ...]:
    raw = top.optional("outputs", [], list)
    outputs, names = [], set()
    for i, item in enumerate(raw):
        field = join("outputs", i)
        if isinstance(item, str):
            item = {"name": item}
        entry = Fields(item, top.file, field, ("name", "tolerance", "ignore"))
        name = entry.required("name", str)
        _check_name(name, top.file, entry.field("name"), dotted=True)
        if name in names:
            raise entry.error("name", f"output name '{name}' is used twice")
        names.add(name)
        tolerance = _parse_tolerances(entry.optional("tolerance", {}, dict), top.file, entry.field("tolerance"))
        outputs.append(OutputSpec(name, tolerance, entry.optional("ignore", None, str)))
    return tuple(outputs)


def _parse_tolerances(raw: dict, file: str, field: str) -> dict[str, Tolerance]:
    table = Fields(raw, file, field, FLOAT_DTYPES)
    out = {}
    for dtype in table.data:
        pair = Fields(table.data[dtype], file, table.field(dtype), ("rtol", "atol"))
        # Like torch.testing: giving only one of rtol/atol is ambiguous, so both are required.
        rtol = _number(pair.required("rtol", int, float, str), file, pair.field("rtol"))
        atol = _number(pair.required("atol", int, float, str), file, pair.field("atol"))
        for key, value in (("rtol", rtol), ("atol", atol)):
            if not value >= 0:
                raise pair.error(key, f"must be a non-negative number, got {value}")
        out[dtype] = Tolerance(rtol=float(rtol), atol=float(atol))
    return out


def _parse_expected(top: Fields, params: dict, sweep: dict) -> tuple[ExpectedDifference, ...]:
    raw = top.optional("expected_difference", [], list, dict)
    items = [raw] if isinstance(raw, dict) else raw
    known = set(params) | set(sweep) | {"dtype"}
    out = []
    for i, item in enumerate(items):
        field = "expected_difference" if isinstance(raw, dict) else join("expected_difference", i)
        entry = Fields(item, top.file, field, ("reason", "link", "when"))
        reason = entry.required("reason", str)
        if not reason.strip():
            raise entry.error("reason", "say why the two sides are expected to differ")
        when = {}
        for key, values in entry.optional("when", {}, dict).items():
            if key not in known:
                raise SpecError(f"'{key}' is not a param, sweep axis or 'dtype'", file=top.file, field=join(entry.field("when"), key),
                                hint=suggest(key, known))
            when[key] = tuple(values) if isinstance(values, list) else (values,)
        out.append(ExpectedDifference(reason, entry.optional("link", None, str), when))
    return tuple(out)


# ---- cross-field checks -----------------------------------------------------------------------


def _check_name(name: Any, file: str, field: str, *, dotted: bool = False) -> None:
    check_type(name, (str,), file, field)
    ok = all(_NAME.match(part) for part in name.split(".")) if dotted else bool(_NAME.match(name))
    if not ok:
        raise SpecError(f"'{name}' is not a valid name (letters, digits, underscores{', dots' if dotted else ''})", file=file, field=field)


def _check_scalar_tree(value: Any, file: str, field: str) -> None:
    """Args are YAML scalars, lists and mappings; '$expr' strings must parse."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_scalar_tree(item, file, join(field, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_scalar_tree(item, file, join(field, i))
    elif isinstance(value, str) and value.startswith("$"):
        try:
            expressions.parse(value[1:])
        except expressions.ExpressionError as exc:
            raise SpecError(str(exc), file=file, field=field) from None
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise SpecError(f"unsupported value of type {type(value).__name__}", file=file, field=field)


def _check_dim(dim: Any, file: str, field: str) -> None:
    if isinstance(dim, bool) or not isinstance(dim, (int, str)):
        raise SpecError(f"a dimension is an integer or a size expression such as 'batch' or '3*hidden', got {dim!r}", file=file, field=field)
    if isinstance(dim, str):
        try:
            expressions.parse(dim.lstrip("$"))
        except expressions.ExpressionError as exc:
            raise SpecError(str(exc), file=file, field=field) from None


def _int_list(value: Any, file: str, field: str) -> list[int]:
    check_type(value, (list,), file, field)
    for i, item in enumerate(value):
        check_type(item, (int,), file, join(field, i))
    return list(value)


def _number(value: Any, file: str | None = None, field: str | None = None) -> float | int:
    """YAML 1.1 reads '1e-5' as a string; accept it as the number the author meant."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(f"expected a number, got {value!r}", file=file, field=field) from None
