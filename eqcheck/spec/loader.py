"""YAML -> OpSpec, strictly: unknown keys, wrong types, bad expressions and bad shapes are SpecErrors."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from eqcheck.backends import FRAMEWORKS
from eqcheck.dtypes import ALL_DTYPES, FLOAT_DTYPES, Tolerance
from eqcheck.errors import SpecError
from eqcheck.spec.layout import Chunk, ReorderChunks, Reshape, Transpose
from eqcheck.spec import allowlist, document, expressions
from eqcheck.spec.discovery import SPEC_SUFFIXES, check_unique_names, discover_spec_files  # noqa: F401 - re-exported
from eqcheck.spec.fields import Fields, check_type, join, suggest
from eqcheck.spec.model import (
    CASTS,
    WHERE,
    ArgumentMap,
    InputLimit,
    Derive,
    ExploreSpec,
    OPTIMIZERS,
    OptimizerRun,
    ScheduleRun,
    TrainSpec,
    Distribution,
    EdgeSettings,
    CASE_SYMPTOMS,
    MARGIN,
    ROW_SYMPTOMS,
    ExpectedDifference,
    InputData,
    InputSpec,
    Intermittent,
    RowPrint,
    ListArg,
    Literal,
    OpSpec,
    OutputSpec,
    SideName,
    SideSpec,
    Special,
    TensorArg,
    WeightEntry,
)

TOP_KEYS = (
    "name", "summary", "source", "params", "sweep", "dtypes", "mode", "inputs", *FRAMEWORKS,
    "weights", "unmapped", "outputs", "tolerance", "expected_difference",
    "grad", "grad_tolerance", "compare_state", "reference", "trials", "kind", "layers", "train",
    "optimizer", "schedule", "repeat", "edges", "edge_differences", "explore", "weights_file",
)
KINDS = ("op", "model", "optimizer", "schedule")
STEP_KINDS = ("optimizer", "schedule")  # kinds whose section (named like the kind) says how many steps to run
MAX_STEPS = 1000
# --edges variant kinds (eqcheck/cases/edges.py); `edges.skip` and `edge_differences` name them.
EDGE_KINDS = ("int", "nan", "inf", "kink", "masked", "single", "zero_batch")
# `when:` keys an explored sample sets from its tensors: true when one of them has a size-0 dimension / is 0-d /
# has a size-1 dimension; broadcast_input: its tensors do not all have one shape
SAMPLE_CLASSES = ("empty_input", "scalar_input", "one_input", "broadcast_input")
# a `when:` key naming torch's samples by content hash, where nothing the sample passes tells them apart (its values do)
SAMPLE_INDEX = "sample"
# --boundary variant kinds (eqcheck/cases/boundary.py); named the same way.
BOUNDARY_KINDS = ("arg", "empty", "one", "odd", "batch", "noncontig", "channels_last", "large", "tiny", "bounds", "stale")
VARIANT_KINDS = EDGE_KINDS + BOUNDARY_KINDS
REFERENCES = ("float64",)
DISTRIBUTIONS = {
    "normal": {"mean": 0.0, "std": 1.0},
    "uniform": {"low": -1.0, "high": 1.0},
    "positive": {"low": 0.1, "high": 2.0},  # uniform on a positive range: logs, sqrt, variances
    "integers": {"low": 0, "high": None},  # high is exclusive and required
    "constant": {"value": None},
}
# Steps that derive an input from its draw (applied in float64, in order); each step's arguments and defaults.
DERIVE_STEPS = {
    "softmax": {"axis": -1},  # probabilities along an axis (KLDivLoss targets)
    "log_softmax": {"axis": -1},  # log-probabilities (NLLLoss, KLDivLoss inputs)
    "keep_away": {"period": 1.0, "offset": 0.0, "margin": 0.1, "below": None},  # from poles offset + k*period (k any
    # integer; with `below`, only poles < below): lgamma/digamma at 0, -1, ..., tan at pi/2 + k*pi
    "sign": {"zero": 1.0},  # -1/+1 labels (MarginRankingLoss, HingeEmbeddingLoss, SoftMarginLoss); 0 maps to `zero`
    "round_to": {"step": None},  # values on a grid of this step: deliberate ties for sort, topk, max, median
    "set_every": {"k": None, "value": None, "start": 0},  # every k-th element (flat order) set: ignore_index labels
}
TENSOR_DTYPES = ("float", *ALL_DTYPES)
MODES = ("eval", "train")
# Refuse absurd inputs before anything is allocated: 2**28 float32 elements is 1 GiB.
MAX_INPUT_ELEMENTS = 2**28


def _refuse_duplicate_keys(loader, node, deep=False):
    """A mapping naming a key twice is an error, not `the last one wins`: a merge leaving two `expected_difference:`
    blocks would silently drop the first one's declarations."""
    seen: dict = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key_node.value}' appears twice in one mapping (first at line {seen[key_node.value]})",
                    key_node.start_mark)
            seen[key_node.value] = key_node.start_mark.line + 1
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep)


class _StrictFastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # safe either way: no python/* tags
    pass


class _StrictLoader(yaml.SafeLoader):
    pass


for _loader in (_StrictFastLoader, _StrictLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _refuse_duplicate_keys)
_FAST_SAFE_LOADER = _StrictFastLoader
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_NAME = re.compile(r"^[A-Za-z_]\w*$")
_PATH_PART = re.compile(r"^\w+$")
_FACTORY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_RESERVED = {"dtype"}


def parse_specs(paths: list[str]) -> list[OpSpec]:
    """Parse and validate each spec file's structure. `eqcheck.cases.load_specs` also evaluates every case."""
    specs = [parse_spec(path) for path in discover_spec_files(paths)]
    check_unique_names([(spec.name, spec.path) for spec in specs])
    return specs


def parse_spec(path: Path | str) -> OpSpec:
    """One file's structure; the expressions are checked at every sweep point by `eqcheck.cases.load_spec`."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the file ({exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc})", file=file) from None
    document.check_size(text, file)
    try:
        try:  # libyaml's safe loader is ~10x faster; the pure-Python one words errors better, so it reports them
            data = yaml.load(text, Loader=_FAST_SAFE_LOADER)
        except yaml.YAMLError:
            data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"not valid YAML{where}: {problem}", file=file) from None
    if data is None:
        raise SpecError("the file is empty; a spec needs at least name, inputs and one section per framework", file=file)
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a YAML mapping, got {type(data).__name__}", file=file, field="<top level>")
    values = document.check_tree(data, file)  # aliases expanded and control characters, before any field is read
    return _parse(data, file, values)


def parse(data: dict, file: str, held: tuple[str, ...] = ()) -> OpSpec:
    """A spec from an in-memory mapping (eqcheck.compare). The frameworks in `held` name objects the caller already
    holds: their `op`/`model` is a label for the report, neither resolved nor checked against the allowlist."""
    return _parse(data, file, document.check_tree(data, file), held)


def _parse(data: dict, file: str, values: int = 1, held: tuple[str, ...] = ()) -> OpSpec:
    top = Fields(data, file, "", TOP_KEYS)
    name = top.required("name", str)
    kind = top.optional("kind", "op", str)
    if kind not in KINDS:
        raise top.error("kind", f"must be one of {', '.join(KINDS)}, got '{kind}'", hint=suggest(kind, KINDS))
    params = _parse_params(top)
    sweep = _parse_sweep(top, params)
    dtypes = _parse_dtypes(top)
    document.check_cases(sweep, dtypes, file, values)  # before any sweep point is expanded
    mode = top.optional("mode", "eval", str)
    if mode not in MODES:
        raise top.error("mode", f"must be 'eval' or 'train', got '{mode}'")
    sides = {fw: _parse_side(top, fw, kind, fw in held) for fw in FRAMEWORKS if top.has(fw)}
    if len(sides) < 2:
        missing = [fw for fw in FRAMEWORKS if fw not in sides]
        raise top.error(missing[0], "this field is required: a spec compares one callable per framework")
    inputs = _parse_inputs(top, sides, allow_none=kind == "schedule", trusted=bool(held))
    _check_call_args(top, sides, inputs)
    unmapped = _parse_unmapped(top, sides)
    layers, layer_pairs = _parse_layer_pairs(top, sides)
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
        unmapped={fw: {p: reason for p, (reason, _) in items.items()} for fw, items in unmapped.items()},
        unmapped_init={fw: {p: dist for p, (_, dist) in items.items() if dist} for fw, items in unmapped.items()},
        outputs=_parse_outputs(top),
        tolerance=_parse_tolerances(top.optional("tolerance", {}, dict), file, "tolerance"),
        expected_differences=_parse_expected(top, params, sweep) + _parse_expected(top, params, sweep, edges=True),
        edges=_parse_edges(top, params, sweep, inputs),
        **_parse_beyond_forward(top, file),
        kind=kind,
        layers=layers,
        layer_pairs=layer_pairs,
        train=_parse_train(top, mode),
        optimizer=_parse_optimizer_run(top, kind),
        schedule=_parse_schedule_run(top, kind),
        explore=_parse_explore(top, params),
        weights_file=_beside(top, "weights_file", (".npz", ".pt", ".pth"), trusted=bool(held)),
    )
    for other in STEP_KINDS:
        if top.has(other) and kind != other:
            raise top.error(other, f"this section belongs to specs of kind: {other} (this spec is kind: {kind})")
    if kind in STEP_KINDS and top.has("train"):
        raise top.error("train", f"a {kind} spec runs its own steps (its `{kind}:` section); `train:` is for op and model specs")
    if spec.layers and kind != "model":
        raise top.error("layers", "layer-by-layer comparison needs a model spec (kind: model)")
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
    repeat = top.optional("repeat", 1, int)
    if repeat < 1:
        raise top.error("repeat", f"must be a positive integer, got {repeat}")
    return {
        "grad": top.optional("grad", False, bool),
        "grad_tolerance": _parse_tolerances(top.optional("grad_tolerance", {}, dict), file, "grad_tolerance"),
        "compare_state": top.optional("compare_state", None, bool),
        "reference": reference,
        "trials": trials,
        "repeat": repeat,
    }


def _parse_train(top: Fields, mode: str) -> TrainSpec | None:
    if not top.has("train"):
        return None
    if mode != "train":
        raise top.error("train", "optimizer steps need mode: train (BatchNorm batch statistics, dropout as in training)")
    section = Fields(top.data["train"], top.file, "train", ("steps", "optimizer"))
    steps = section.optional("steps", 3, int)
    if not 1 <= steps <= 100:
        raise section.error("steps", f"must be between 1 and 100, got {steps}")
    raw = section.required("optimizer", str, dict)
    if isinstance(raw, dict) and len(raw) != 1:
        raise section.error("optimizer", f"name exactly one optimizer ({', '.join(OPTIMIZERS)}), e.g. {{sgd: {{lr: 0.1}}}}")
    name, args = (raw, {}) if isinstance(raw, str) else next(iter(raw.items()))
    if name not in OPTIMIZERS:
        raise section.error("optimizer", f"unknown optimizer '{name}' (choose from {', '.join(OPTIMIZERS)})", hint=suggest(str(name), OPTIMIZERS))
    given = Fields(args or {}, top.file, join(section.field("optimizer"), name), tuple(OPTIMIZERS[name]))
    merged = dict(OPTIMIZERS[name])
    for key, value in given.data.items():
        default = OPTIMIZERS[name][key]
        if isinstance(default, bool):
            merged[key] = check_type(value, (bool,), top.file, given.field(key))
        else:
            merged[key] = float(_number(value, top.file, given.field(key)))
            if merged[key] < 0:
                raise given.error(key, f"must be non-negative, got {value}")
    if merged["lr"] is None:
        raise given.error("lr", "the learning rate is required: the two frameworks' defaults differ (torch SGD 1e-3, MindSpore SGD 0.1)")
    return TrainSpec(steps, name, merged)


def _step_section(top: Fields, kind: str, wanted: str, keys: tuple[str, ...], example: str) -> tuple[Fields, int] | None:
    """The section of a spec of kind optimizer or schedule (named like the kind) and its `steps`; None for other kinds."""
    if kind != wanted:
        return None
    if not top.has(wanted):
        raise top.error(wanted, f"a spec of kind: {wanted} needs this section, e.g. {example}")
    section = Fields(top.data[wanted], top.file, wanted, keys)
    steps = section.required("steps", int)
    if not 1 <= steps <= MAX_STEPS:
        raise section.error("steps", f"must be between 1 and {MAX_STEPS}, got {steps}")
    return section, steps


def _parse_optimizer_run(top: Fields, kind: str) -> OptimizerRun | None:
    """kind: optimizer: `optimizer: {steps, state, gradients}` (docs/optimizers.md)."""
    found = _step_section(top, kind, "optimizer", ("steps", "state", "gradients"), "optimizer: {steps: 3}")
    if found is None:
        return None
    section, steps = found
    state = {}
    for key, attribute in section.optional("state", {}, dict).items():
        _check_name(key, top.file, join(section.field("state"), key))
        check_type(attribute, (str,), top.file, join(section.field("state"), key))
        _check_name(attribute, top.file, join(section.field("state"), key))
        state[key] = attribute
    gradients = _parse_distribution(section.optional("gradients", "normal", str, dict), top.file, section.field("gradients"))
    if gradients.kind not in ("normal", "uniform", "positive", "constant"):
        raise section.error("gradients", f"gradients are floats: use normal, uniform, positive or constant, not '{gradients.kind}'")
    return OptimizerRun(steps, state, gradients)


def _parse_schedule_run(top: Fields, kind: str) -> ScheduleRun | None:
    """kind: schedule: `schedule: {steps, lr, metrics}` (docs/optimizers.md)."""
    found = _step_section(top, kind, "schedule", ("steps", "lr", "metrics"), "schedule: {steps: 20, lr: 0.1}")
    if found is None:
        return None
    section, steps = found
    lr = float(_number(section.required("lr", int, float, str), top.file, section.field("lr")))
    if lr <= 0:
        raise section.error("lr", f"must be positive, got {lr}")
    metrics = tuple(float(_number(v, top.file, join(section.field("metrics"), i)))
                    for i, v in enumerate(section.optional("metrics", [], list)))
    if metrics and len(metrics) != steps - 1:
        raise section.error("metrics", f"one value per scheduler.step() call, steps - 1 of them: {steps} steps need "
                                       f"{steps - 1} values, got {len(metrics)}")
    return ScheduleRun(steps, lr, metrics)


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


def _parse_side(top: Fields, framework: str, kind: str = "op", held: bool = False) -> SideSpec:
    if kind == "model":
        side = Fields(top.data[framework], top.file, framework, ("model", "init", "call", "args", "mode", "output"))
        op = side.required("model", str)
        if held:
            return replace(_side_arguments(side, framework, op, top.file), output=_output_path(side))
        if not _FACTORY.match(op):
            raise side.error("model", f"'{op}' is not a factory such as mypackage.models:build_net (module:class or module:function)")
        allowlist.check_model(op, top.file, side.field("model"))
        return replace(_side_arguments(side, framework, op, top.file), output=_output_path(side))
    side = Fields(top.data[framework], top.file, framework, ("op", "init", "call", "args", "mode"))
    op = side.required("op", str)
    if held:
        return _side_arguments(side, framework, op, top.file)
    if not _DOTTED.match(op):
        raise side.error("op", f"'{op}' is not a dotted path such as {framework}.nn.GRUCell")
    if not op.startswith(framework + "."):
        raise side.error("op", f"'{op}' is outside '{framework}.'; the {framework} section may only name {framework} callables")
    allowlist.check_op(op, top.file, side.field("op"))  # the operator's allowed prefixes and the denylist
    return _side_arguments(side, framework, op, top.file)


def _side_arguments(side: Fields, framework: str, op: str, file: str) -> SideSpec:
    sections = {}
    for key in ("init", "call"):
        sections[key] = {}
        for arg, value in side.optional(key, {}, dict).items():
            _check_name(arg, file, join(side.field(key), arg))
            sections[key][arg] = _parse_argument(value, file, join(side.field(key), arg))
    args = side.optional("args", None, list)
    mode = side.optional("mode", None, str)
    if mode is not None and mode not in MODES:
        raise side.error("mode", f"must be 'eval' or 'train', got '{mode}'")
    return SideSpec(framework=framework, op=op, init=sections["init"], call=sections["call"],
                    args=_tuples(args, file, side.field("args")) if args is not None else None, mode=mode)


def _output_path(side: Fields) -> tuple[str | int, ...]:
    """`output: logits`, `output: 0` or `output: [0, last_hidden_state]`: keys and indices into what the model returns."""
    raw = side.optional("output", None, str, int, list)
    if raw is None:
        return ()
    parts = raw if isinstance(raw, list) else [raw]
    if not parts:
        raise side.error("output", "name at least one key or index, e.g. output: logits or output: 0")
    for i, part in enumerate(parts):
        if isinstance(part, bool) or not isinstance(part, (str, int)) or (isinstance(part, str) and not _NAME.match(part)):
            raise SpecError(f"{part!r} is neither an index (0, -1) nor a key such as logits or last_hidden_state",
                            file=side.file, field=join(side.field("output"), i) if isinstance(raw, list) else side.field("output"))
    return tuple(parts)


def _parse_layer_pairs(top: Fields, sides: dict[str, SideSpec]) -> tuple[bool, tuple[dict[str, str], ...]]:
    """`layers: true|false`, or a list of explicit pairs `- {torch: embedder.pooler, mindspore: max_pool}` (layers on)."""
    raw = top.optional("layers", top.data.get("kind") == "model", bool, list)
    if isinstance(raw, bool):
        return raw, ()
    pairs = []
    for i, item in enumerate(raw):
        entry = Fields(item, top.file, join("layers", i), tuple(sides))
        pair = {}
        for fw in sides:
            path = entry.required(fw, str)
            _check_name(path, top.file, entry.field(fw), dotted=True)
            pair[fw] = path
        pairs.append(pair)
    return True, tuple(pairs)


def _parse_argument(value: Any, file: str, field: str) -> Any:
    """An init/call value: YAML scalars, lists and mappings, or `{tensor: VALUES, dtype: D}` for a tensor argument."""
    if isinstance(value, dict) and "tensor" in value:
        entry = Fields(value, file, field, ("tensor", "dtype"))
        values = entry.required("tensor", list, str, int, float)
        _check_scalar_tree(values, file, entry.field("tensor"))
        if isinstance(values, str) and not values.startswith("$"):
            raise entry.error("tensor", f"'{values}' is neither a list of numbers nor a $expression")
        dtype = entry.optional("dtype", "float", str)
        if dtype not in TENSOR_DTYPES:
            raise entry.error("dtype", f"unknown dtype '{dtype}' (use 'float' to follow the case dtype, or one of "
                                       f"{', '.join(ALL_DTYPES)})", hint=suggest(dtype, ALL_DTYPES))
        return TensorArg(values, dtype)
    if isinstance(value, dict) and "list" in value:
        entry = Fields(value, file, field, ("list",))
        values = entry.required("list", list)
        _check_scalar_tree(values, file, entry.field("list"))
        return ListArg(values)
    _check_scalar_tree(value, file, field)
    return value


def _tuples(value: Any, file: str, field: str) -> Any:
    """`args` as written: nested lists become tuples, `{value: X}` a Literal positional argument."""
    if isinstance(value, list):
        return tuple(_tuples(v, file, join(field, i)) for i, v in enumerate(value))
    if isinstance(value, dict):
        entry = Fields(value, file, field, ("value",))
        literal = entry.required("value", str, int, float, bool, list)
        _check_scalar_tree(literal, file, entry.field("value"))
        return Literal(literal)
    return value


def _check_call_args(top: Fields, sides: dict[str, SideSpec], inputs: tuple[InputSpec, ...]) -> None:
    """A side's `args` names every positional input exactly once; keyword inputs stay out of it."""
    positional = [i.name for i in inputs if not i.keyword]
    for fw, side in sides.items():
        if side.args is None:
            continue
        used: list[str] = []

        def walk(node: Any, field: str) -> None:
            if isinstance(node, Literal):
                return
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
        _check_name(value, file, field, dotted=layout, pattern=layout)
        return SideName(name=value)
    allowed = ("name", "dtype", "transform") if layout else ("name", "dtype")
    entry = Fields(value, file, field, allowed)
    name = entry.optional("name", default, str)
    _check_name(name, file, entry.field("name"), dotted=layout, pattern=layout)
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
        step = Fields(item, entry.file, field, ("transpose", "reshape", "reorder_chunks", "chunk"))
        if len(step.data) != 1:
            raise SpecError("each transform step has exactly one of transpose, reshape, reorder_chunks, chunk", file=entry.file, field=field)
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
        elif kind == "chunk":
            spec = Fields(args, entry.file, join(field, kind), ("axis", "index", "of"))
            axis, index, of = spec.required("axis", int), spec.required("index", int), spec.required("of", int)
            if of < 2 or not 0 <= index < of:
                raise spec.error("index", f"block {index} of {of}: need 0 <= index < of and of >= 2")
            if i != len(raw) - 1:
                raise SpecError("chunk places a weight inside the side's parameter: it must be the last step", file=entry.file, field=field)
            transforms.append(Chunk(axis, index, of))
        else:
            spec = Fields(args, entry.file, join(field, kind), ("axis", "order"))
            axis = spec.required("axis", int)
            order = _int_list(spec.required("order", list), entry.file, spec.field("order"))
            if sorted(order) != list(range(len(order))):
                raise spec.error("order", f"{order} is not a permutation of 0..{len(order) - 1}")
            transforms.append(ReorderChunks(axis, tuple(order)))
    return tuple(transforms)


def _parse_inputs(top: Fields, sides: dict[str, SideSpec], allow_none: bool = False,
                  trusted: bool = False) -> tuple[InputSpec, ...]:
    raw = top.optional("inputs", [], list) if allow_none else top.required("inputs", list)
    if not raw and not allow_none:
        raise top.error("inputs", "needs at least one input")
    inputs, names = [], set()
    for i, item in enumerate(raw):
        field = join("inputs", i)
        entry = Fields(item, top.file, field, ("name", "shape", "dtype", "distribution", "special", "keyword", "derive", "grad",
                                               "file", "key", *FRAMEWORKS))
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
        if dist.kind in ("normal", "uniform", "positive") and dtype not in ("float", *FLOAT_DTYPES) and not entry.has("file"):
            raise entry.error("distribution", f"'{dist.kind}' draws floats but the input dtype is {dtype}; use 'integers'")
        if entry.has("special"):
            special = parse_special(entry.data["special"], top.file, entry.field("special"))
            if dtype not in ("float", *FLOAT_DTYPES) and special.nonfinite_or_signed:
                raise entry.error("special", f"places NaN, an infinity, -0.0 or a fraction, which the {dtype} input cannot hold")
            dist = Distribution(dist.kind, dist.args, special)
        input_sides = {
            fw: _parse_side_name(entry.data.get(fw, name), top.file, entry.field(fw), name, layout=False) for fw in sides
        }
        derive = _parse_derive(entry)
        if any(d.kind in ("softmax", "log_softmax", "keep_away", "sign") for d in derive) and dtype not in ("float", *FLOAT_DTYPES):
            raise entry.error("derive", f"softmax, log_softmax, keep_away and sign make floats but the input dtype is {dtype}")
        inputs.append(InputSpec(name, tuple(shape) if isinstance(shape, list) else shape, dtype, dist, input_sides,
                                entry.optional("keyword", False, bool), entry.optional("grad", True, bool), derive,
                                _parse_input_data(entry, name, trusted)))
    return tuple(inputs)


INPUT_FILE_SUFFIXES = (".npy", ".npz", ".pt", ".pth")


def _beside(fields: Fields, key: str, suffixes: tuple[str, ...], trusted: bool = False) -> str | None:
    """A data file the spec names (`file:`, `weights_file:`), inside the spec's folder: a spec may come from an untrusted
    pull request, and what it reads can reach the report. `trusted`: eqcheck.compare's own spec (any path)."""
    if not fields.has(key):
        return None
    file = fields.required(key, str)
    if not file.lower().endswith(suffixes):
        raise fields.error(key, f"'{file}' is not a {', '.join(suffixes[:-1])} or {suffixes[-1]} file")
    if trusted:
        return file
    folder = Path(fields.file).parent
    path = folder / file
    if Path(file).is_absolute() or not path.resolve().is_relative_to(folder.resolve()):
        raise fields.error(key, f"'{file}' is outside the spec's folder; a spec reads data only beside itself",
                           hint="copy the file next to the spec (or below it), or pass it with --inputs / --weights")
    return str(path)


def _parse_input_data(entry: Fields, name: str, trusted: bool = False) -> InputData | None:
    """`file: batch.npz` (+ `key:`): real values for this input, relative to the spec's folder; read and checked
    against `shape` and `dtype` when the case runs (cases/draws.py), never at validate time (no numpy there)."""
    if not entry.has("file"):
        if entry.has("key"):
            raise entry.error("key", "names an array inside `file:`, which this input does not give")
        return None
    file = entry.required("file", str)
    path = _beside(entry, "file", INPUT_FILE_SUFFIXES, trusted)
    key = entry.optional("key", None, str)
    if key is not None and file.lower().endswith(".npy"):
        raise entry.error("key", "a .npy file holds one array: drop `key`")
    if entry.has("distribution") or entry.has("special") or entry.has("derive"):
        raise entry.error("file", "the values come from the file: drop `distribution`, `special` and `derive`")
    return InputData(path, key if key is not None or file.lower().endswith(".npy") else name)


def _parse_derive(entry: Fields) -> tuple[Derive, ...]:
    """`derive: [{log_softmax: {axis: 1}}, {set_every: {k: 4, value: -100}}]`: steps applied to the draw, in order."""
    steps = []
    for i, item in enumerate(entry.optional("derive", [], list)):
        field = join(entry.field("derive"), i)
        step = Fields(item, entry.file, field, tuple(DERIVE_STEPS))
        if len(step.data) != 1:
            raise SpecError(f"each derive step has exactly one of {', '.join(DERIVE_STEPS)}", file=entry.file, field=field)
        kind, args = next(iter(step.data.items()))
        args = {} if args is None else args
        defaults = DERIVE_STEPS[kind]
        if not isinstance(args, dict):  # shorthand for a one-argument step: {round_to: 0.5}
            args = {next(iter(defaults)): args}
        params = Fields(args, entry.file, join(field, kind), tuple(defaults))
        merged = dict(defaults)
        for key, val in params.data.items():
            check_type(val, (int, float, str), entry.file, params.field(key))
            _check_scalar_tree(val, entry.file, params.field(key))
            merged[key] = _number(val, entry.file, params.field(key)) if isinstance(val, str) and not val.startswith("$") else val
        missing = [k for k, v in merged.items() if v is None and k != "below"]
        if missing:
            raise SpecError(f"'{kind}' needs '{missing[0]}'", file=entry.file, field=join(field, kind))
        steps.append(Derive(kind, merged))
    return tuple(steps)


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


SPECIAL_KEYS = ("nan", "posinf", "neginf", "negzero", "values", "ties", "masked_slices")


def _fraction(value: Any, file: str, field: str) -> float:
    check_type(value, (int, float, str), file, field)
    number = _number(value, file, field)
    if not 0 <= number <= 1:
        raise SpecError(f"a fraction of the elements is between 0 and 1, got {value}", file=file, field=field)
    return float(number)


def _exact_value(value: Any, file: str, field: str) -> float:
    """A number, or nan / inf / -inf (YAML reads '-inf' as a string, '-.inf' as a float)."""
    check_type(value, (int, float, str), file, field)
    if isinstance(value, str) and value.strip().lower().lstrip("+-.") in ("nan", "inf"):
        return float(value.strip().lower().replace(".", ""))
    return float(_number(value, file, field))


def parse_special(value: Any, file: str, field: str) -> Special:
    """`special:` of an input: exact values placed after the cast (docs/edges.md)."""
    entry = Fields(value, file, field, SPECIAL_KEYS)
    if not entry.data:
        raise SpecError(f"name at least one of {', '.join(SPECIAL_KEYS)}", file=file, field=field)
    points = {k: _fraction(entry.data[k], file, entry.field(k)) for k in ("nan", "posinf", "neginf", "negzero") if k in entry.data}
    at, at_fraction = (), 0.0
    if entry.has("values"):
        values = Fields(entry.data["values"], file, entry.field("values"), ("at", "fraction"))
        raw = values.required("at", list)
        if not raw:
            raise values.error("at", "list at least one value, e.g. [0, 1, -1]")
        at = tuple(_exact_value(v, file, join(values.field("at"), i)) for i, v in enumerate(raw))
        at_fraction = _fraction(values.required("fraction", int, float, str), file, values.field("fraction"))
    if sum(points.values()) + at_fraction > 1:
        raise SpecError(f"nan, posinf, neginf, negzero and values.fraction take disjoint positions; they add up to "
                        f"{sum(points.values()) + at_fraction:g}, more than 1", file=file, field=field)
    ties = _fraction(entry.data["ties"], file, entry.field("ties")) if entry.has("ties") else 0.0
    masked = {}
    if entry.has("masked_slices"):
        mask = Fields(entry.data["masked_slices"], file, entry.field("masked_slices"), ("axis", "fraction", "value"))
        masked = {
            "masked_axis": mask.required("axis", int),
            "masked_fraction": _fraction(mask.required("fraction", int, float, str), file, mask.field("fraction")),
            "masked_value": _exact_value(mask.optional("value", "-inf", int, float, str), file, mask.field("value")),
        }
    return Special(**points, values=at, values_fraction=at_fraction, ties=ties, **masked)


def _parse_weights(top: Fields, sides: dict[str, SideSpec]) -> tuple[WeightEntry, ...]:
    raw = top.optional("weights", {}, dict)
    entries, claimed = [], {fw: {} for fw in sides}
    for canonical, item in raw.items():
        field = join("weights", canonical)
        _check_name(canonical, top.file, field, dotted=True, pattern=True)
        if isinstance(item, str):  # shorthand: one name on every side
            item = {fw: item for fw in sides}
        entry = Fields(item, top.file, field, ("init", "shape", *FRAMEWORKS))
        weight_sides = {}
        for fw in sides:
            value = entry.data.get(fw, canonical)
            side = _parse_side_name(value, top.file, entry.field(fw), canonical, layout=True)
            if side.name.count("*") != canonical.count("*"):
                raise entry.error(fw, f"'{side.name}' has {side.name.count('*')} '*' and '{canonical}' {canonical.count('*')}: "
                                      f"each '*' is one path part captured on every side, in order")
            chunk = bool(side.transforms) and isinstance(side.transforms[-1], Chunk)  # blocks of one fused parameter
            if side.name in claimed[fw] and not chunk:
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


def _parse_unmapped(top: Fields, sides: dict[str, SideSpec]) -> dict[str, dict[str, tuple[str, Distribution | None]]]:
    """framework -> parameter -> (reason, init): `bias: reason` or `bias: {reason: ..., init: {constant: 0}}`."""
    raw = Fields(top.optional("unmapped", {}, dict), top.file, "unmapped", tuple(sides))
    out = {}
    for fw in sides:
        out[fw] = {}
        for param, value in raw.optional(fw, {}, dict).items():
            field = join(raw.field(fw), param)
            _check_name(param, top.file, field, dotted=True, pattern=True)
            init = None
            if isinstance(value, dict):
                entry = Fields(value, top.file, field, ("reason", "init"))
                reason = entry.required("reason", str)
                if entry.has("init"):
                    init = _parse_distribution(entry.data["init"], top.file, entry.field("init"))
                field = entry.field("reason")
            else:
                check_type(value, (str,), top.file, field)
                reason = value
            if not reason.strip():
                raise SpecError("give the reason this parameter is not shared", file=top.file, field=field)
            out[fw][param] = (reason, init)
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


def _parse_expected(top: Fields, params: dict, sweep: dict, edges: bool = False) -> tuple[ExpectedDifference, ...]:
    """expected_difference, or (edges=True) edge_differences: the same entries plus the `edge` variant they cover."""
    key = "edge_differences" if edges else "expected_difference"
    raw = top.optional(key, [], list, dict)
    items = [raw] if isinstance(raw, dict) else raw
    explore = top.data.get("explore") if isinstance(top.data.get("explore"), dict) else {}
    arguments = explore.get("arguments") if isinstance(explore.get("arguments"), dict) else {}
    # explored samples: the torch arguments of the map, and what a sample's tensors are (SAMPLE_CLASSES)
    known = set(params) | set(sweep) | {"dtype"} | {str(a) for a in arguments} | set(SAMPLE_CLASSES) | {SAMPLE_INDEX}
    out = []
    for i, item in enumerate(items):
        field = key if isinstance(raw, dict) else join(key, i)
        entry = Fields(item, top.file, field, ("reason", "link", "when", "intermittent", "rows", "symptom", "signal",
                                               *(("edge",) if edges else ())))
        edge = entry.required("edge", str) if edges else None
        # a kind (empty), one variant of it (empty@1), or one boundary argument value (eps:0.0, as the case id says)
        argument_value = edges and ":" in edge and _NAME.match(edge.split(":", 1)[0]) is not None
        if edges and edge.split("@")[0] not in VARIANT_KINDS and not argument_value:
            raise entry.error("edge", f"unknown edge or boundary variant '{edge}' (choose from {', '.join(VARIANT_KINDS)}, "
                                      "or ARG:VALUE as a boundary case id names it)", hint=suggest(edge, VARIANT_KINDS))
        reason = entry.required("reason", str)
        if not reason.strip():
            raise entry.error("reason", "say why the two sides are expected to differ")
        when = {}
        for name, values in entry.optional("when", {}, dict).items():
            if name not in known:
                raise SpecError(f"'{name}' is not a param, sweep axis or 'dtype'", file=top.file, field=join(entry.field("when"), name),
                                hint=suggest(name, known))
            when[name] = tuple(_tupled(v) for v in values) if isinstance(values, list) else (values,)
            if name == SAMPLE_INDEX and not all(isinstance(v, str) and re.fullmatch(r"[0-9a-f]{8}", v) for v in when[name]):
                raise SpecError("name torch's samples by their content hash (8 hex digits, quoted: a failing explored case's "
                                "report shows it as sample.hash), not by index, which a torch upgrade renumbers",
                                file=top.file, field=join(entry.field("when"), name))
        rows, symptom, signal = _parse_fingerprint(entry)
        if not rows and symptom is None and "defaults" not in Path(top.file).parts:
            raise entry.error(None, "a declared difference names what was measured: `rows:` (out, grad:INPUT, state:BUFFER "
                                    "with their symptom and max_abs) or a whole-case `symptom: refusal | crash`, so that another "
                                    "difference under it still fails; `eqcheck findings RUN.json --fingerprints` writes it from "
                                    "a run (a declaration covering every row is for configs/defaults/ only)")
        out.append(ExpectedDifference(reason, entry.optional("link", None, str), when, edge, _parse_intermittent(entry),
                                      rows, symptom, signal, field))
    return tuple(out)


# A row as the report names it: an output (out, out.1, logits), a gradient (grad:input) or a state buffer (state:running_mean).
_ROW = re.compile(r"[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)*")  # optimizer rows too: step1:exp_avg_sq:bias


def _parse_fingerprint(entry: Fields) -> tuple[tuple[RowPrint, ...], str | None, str | None]:
    """`rows: {ROW: {symptom, max_abs, margin} | SYMPTOM}`, or a whole-case `symptom` (refusal, crash with `signal`)."""
    symptom = entry.optional("symptom", None, str)
    signal = entry.optional("signal", None, str)
    raw = entry.optional("rows", {}, dict)
    if symptom is not None and symptom not in CASE_SYMPTOMS:
        hint = "a row's symptom goes under `rows:`" if symptom in ROW_SYMPTOMS else suggest(symptom, CASE_SYMPTOMS)
        raise entry.error("symptom", f"unknown case symptom '{symptom}' (choose from {', '.join(CASE_SYMPTOMS)})", hint=hint)
    if symptom is not None and raw:
        raise entry.error("rows", "a declaration names either its rows or a whole-case symptom, not both")
    if signal is not None and symptom != "crash":
        raise entry.error("signal", "only a `symptom: crash` declaration names a signal")
    if signal is not None and not re.fullmatch(r"SIG[A-Z0-9]+", signal):
        raise entry.error("signal", f"'{signal}' is not a signal name (SIGFPE, SIGSEGV, SIGABRT ...)")
    rows = []
    for name, value in raw.items():
        field = join(entry.field("rows"), str(name))
        if not isinstance(name, str) or not _ROW.fullmatch(name):
            raise SpecError(f"'{name}' is not a row name (out, out.1, grad:INPUT, state:BUFFER, step1:PARAM as the report names rows)",
                            file=entry.file, field=field)
        row = Fields({"symptom": value} if isinstance(value, (str, list)) else value, entry.file, field, ("symptom", "max_abs", "margin"))
        kinds = row.required("symptom", str, list)
        kinds = kinds if isinstance(kinds, list) else [kinds]
        for kind in kinds:
            if kind not in ROW_SYMPTOMS:
                raise row.error("symptom", f"unknown row symptom '{kind}' (choose from {', '.join(ROW_SYMPTOMS)})",
                                hint="a refusal or a crash is a whole-case `symptom:`" if kind in CASE_SYMPTOMS
                                else suggest(str(kind), ROW_SYMPTOMS))
        max_abs = row.optional("max_abs", None, int, float)
        if ("value" in kinds) != (max_abs is not None):
            raise row.error("max_abs", "a `value` row states its measured max |diff| (eqcheck findings --fingerprints writes it)"
                            if "value" in kinds else f"a '{kinds[0]}' row is compared as a symptom, not by its size: drop max_abs")
        if max_abs is not None and not max_abs > 0:
            raise row.error("max_abs", f"must be a positive number, got {max_abs}")
        margin = row.optional("margin", MARGIN, int, float)
        if not margin >= 1:
            raise row.error("margin", f"must be at least 1 (the bound is max_abs x margin), got {margin}")
        rows.append(RowPrint(name, tuple(kinds), None if max_abs is None else float(max_abs), float(margin)))
    return tuple(rows), symptom, signal


def _parse_intermittent(entry: Fields) -> Intermittent | None:
    """`intermittent: {shown: K, runs: N, note}`: measured, and only intermittent when K < N."""
    if not entry.has("intermittent"):
        return None
    raw = entry.data["intermittent"]
    if isinstance(raw, str):
        raise entry.error("intermittent", f"'{raw}' is text: write the measured count as {{shown: K, runs: N}} (K < N)")
    counts = Fields(raw, entry.file, entry.field("intermittent"), ("shown", "runs", "note"))
    shown, runs = counts.required("shown", int), counts.required("runs", int)
    if not 0 < shown < runs:
        raise counts.error("shown", f"shown {shown} of {runs} runs is not intermittent: it needs 0 < shown < runs "
                                    "(shown in every run, drop `intermittent`; in none, drop the declaration)")
    return Intermittent(shown, runs, counts.optional("note", None, str))


def _parse_edges(top: Fields, params: dict, sweep: dict, inputs: tuple[InputSpec, ...]) -> EdgeSettings:
    entry = Fields(top.optional("edges", {}, dict), top.file, "edges", ("skip", "input", "axes", "batch", "kinks"))
    skip = entry.optional("skip", {}, dict)
    for kind, reason in skip.items():
        if kind not in VARIANT_KINDS:
            raise SpecError(f"unknown edge or boundary variant '{kind}' (choose from {', '.join(VARIANT_KINDS)})", file=top.file,
                            field=join(entry.field("skip"), str(kind)), hint=suggest(str(kind), VARIANT_KINDS))
        check_type(reason, (str,), top.file, join(entry.field("skip"), kind))
        if not reason.strip():
            raise SpecError("give the reason this variant does not apply", file=top.file, field=join(entry.field("skip"), kind))
    names = [i.name for i in inputs]
    input_name = entry.optional("input", None, str)
    if input_name is not None and input_name not in names:
        raise entry.error("input", f"'{input_name}' is not an input (inputs: {', '.join(names)})", hint=suggest(input_name, names))
    axes = entry.optional("axes", None, int, list, str)
    if axes is not None:
        _check_scalar_tree(axes, top.file, entry.field("axes"))
    batch = entry.optional("batch", None, str)
    if batch is not None and batch not in set(params) | set(sweep):
        raise entry.error("batch", f"'{batch}' is not a param or sweep axis", hint=suggest(batch, set(params) | set(sweep)))
    kinks = entry.optional("kinks", None, list)
    if kinks is not None:
        if not kinks:
            raise entry.error("kinks", "list at least one value, e.g. [0, 6]")
        kinks = tuple(_exact_value(v, top.file, join(entry.field("kinks"), i)) for i, v in enumerate(kinks))
    return EdgeSettings(dict(skip), input_name, axes, batch, kinks)


EXPLORE_KEYS = ("opinfo", "module", "signature", "arguments", "unsupported_inputs")
ARGUMENT_KEYS = ("name", "default", "set", "value", "values", "others", "cast", "unsupported", "drop", "positional", "where")
OTHERS = ("unmapped", "pass")
_ENTRY = re.compile(r"^[A-Za-z_][\w.]*$")  # op_db names hold dots: nn.functional.conv2d, max_pool2d_with_indices


def _parse_explore(top: Fields, params: dict) -> ExploreSpec | None:
    """`explore:` (docs/spec-reference.md#explore): where torch's samples come from, how each argument reaches MindSpore."""
    if not top.has("explore"):
        return None
    entry = Fields(top.data["explore"] if top.data["explore"] is not None else {}, top.file, "explore", EXPLORE_KEYS)
    names = {}
    for key in ("opinfo", "module"):
        value = entry.optional(key, None, str)
        if value is not None and not _ENTRY.match(value):
            raise entry.error(key, f"'{value}' is not an entry name such as nn.functional.conv2d or torch.nn.Conv2d")
        names[key] = value
    if names["module"] is not None and not names["module"].startswith("torch."):
        raise entry.error("module", f"'{names['module']}' is not a torch module class such as torch.nn.Conv2d")
    signature = entry.optional("signature", None, list, dict)
    variants = {}
    if isinstance(signature, dict):  # {VARIANT: [names]}: one list per op_db variant of an overloaded op
        for variant, positional in signature.items():
            if not isinstance(variant, str) or not isinstance(positional, list):
                raise entry.error("signature", "maps an op_db variant (binary) to its positional names ([input, other])")
            variants[variant] = _signature_names(entry, positional, join(entry.field("signature"), variant), top.file)
        signature = None
    elif signature is not None:
        signature = _signature_names(entry, signature, entry.field("signature"), top.file)
    raw = entry.optional("arguments", {}, dict, type(None)) or {}  # null: every line under it commented out
    arguments = {}
    for arg, value in raw.items():
        named = [*raw, *(i["name"] for i in top.data.get("inputs") or () if isinstance(i, dict) and "name" in i)]
        arguments[arg] = _parse_argument_map(arg, value, top.file, join(entry.field("arguments"), str(arg)), params, named)
    limits = {}
    for name, item in entry.optional("unsupported_inputs", {}, dict).items():
        field = join(entry.field("unsupported_inputs"), str(name))
        _check_name(name, top.file, field)
        limit = Fields(item, top.file, field, ("ndim", "reason"))
        ndim = _int_list(limit.required("ndim", list), top.file, limit.field("ndim"))
        reason = limit.required("reason", str)
        if not ndim or not reason.strip():
            raise limit.error("ndim" if not ndim else "reason", "list the refused ranks and give the reason")
        limits[name] = InputLimit(tuple(ndim), reason)
    return ExploreSpec(names["opinfo"], names["module"], signature, arguments, limits, variants)


def _signature_names(entry, names: list, field: str, file: str) -> tuple[str, ...]:
    for i, param in enumerate(names):
        _check_name(param, file, join(field, i))
    twice = sorted({p for p in names if names.count(p) > 1})
    if twice:
        raise entry.error("signature", f"names {', '.join(twice)} twice")
    return tuple(names)


def _parse_argument_map(arg: Any, value: Any, file: str, field: str, params: dict, arguments: Any = ()) -> ArgumentMap:
    """`dim: axis` or the long form `{name, default, set, value, values, cast, unsupported, drop, positional, where}`."""
    _check_name(arg, file, field)
    if isinstance(value, str):
        _check_name(value, file, field)
        return ArgumentMap(arg, value)
    entry = Fields(value, file, field, ARGUMENT_KEYS)
    for reason_key in ("unsupported", "drop"):
        if entry.has(reason_key):
            reason = entry.required(reason_key, str)
            if not reason.strip():
                raise entry.error(reason_key, "give the reason")
            others = sorted(set(entry.data) - {reason_key, "default"})
            if others:
                raise entry.error(others[0], f"an argument that is '{reason_key}' reaches MindSpore in no form; "
                                             f"only 'default' may stand beside it")
    name = entry.optional("name", arg, str)
    _check_name(name, file, entry.field("name"))
    if entry.has("default"):
        _check_scalar_tree(entry.data["default"], file, entry.field("default"))
        default = entry.data["default"]
        if isinstance(default, str) and default.startswith("$"):  # torch's default is another argument's value
            unknown = sorted(expressions.names(default[1:]) - set(arguments) - set(params))
            if unknown:
                raise entry.error("default", f"'{default}' refers to '{unknown[0]}', which is neither a torch argument "
                                             f"of explore.arguments nor a param", hint=suggest(unknown[0], [*arguments, *params]))
    fixed = entry.optional("set", {}, dict)
    for key, item in fixed.items():
        _check_name(key, file, join(entry.field("set"), str(key)))
        _check_scalar_tree(item, file, join(entry.field("set"), key))
        if isinstance(item, str) and item.startswith("$"):  # an expression over `value`: begin_norm_axis: $-len(value)
            unknown = sorted(expressions.names(item[1:]) - {"value"} - set(params) - set(arguments))
            if unknown:
                raise SpecError(f"'{item}' refers to '{unknown[0]}', which is neither `value`, a param nor a torch argument "
                                f"of explore.arguments", file=file, field=join(entry.field("set"), key))
    expr = entry.optional("value", None, str)
    if expr is not None:
        if not expr.startswith("$"):
            raise entry.error("value", f"'{expr}' is not a $expression over `value` such as \"$1 - value\"")
        _check_scalar_tree(expr, file, entry.field("value"))
        unknown = sorted(expressions.names(expr[1:]) - {"value"} - set(params) - set(arguments))
        if unknown:
            raise entry.error("value", f"'{expr}' refers to '{unknown[0]}', which is neither `value`, a param nor a "
                                       f"torch argument of explore.arguments",
                              hint=suggest(unknown[0], ["value", *params, *arguments]))
    values = entry.optional("values", None, dict)
    value_sets, value_unsupported = {}, {}
    if values is not None:
        if not values:
            raise entry.error("values", "list at least one torch value and its MindSpore value")
        values = dict(values)
        for key, item in values.items():
            if key is not None and not isinstance(key, (str, int, float, bool)):
                raise entry.error("values", f"a torch value is a scalar, got {type(key).__name__}")
            field = join(entry.field("values"), str(key))
            if isinstance(item, dict) and "unsupported" in item:  # {unsupported: reason}: a value MindSpore cannot take
                long = Fields(item, file, field, ("unsupported",))
                value_unsupported[key] = long.required("unsupported", str)
                values[key] = None
            elif isinstance(item, dict):  # long form: {value: V, set: {pad_mode: same}}
                long = Fields(item, file, field, ("value", "set"))
                values[key] = long.required("value", str, int, float, bool, list)
                value_sets[key] = long.optional("set", {}, dict)
                for extra in value_sets[key]:
                    _check_name(extra, file, join(long.field("set"), str(extra)))
                _check_scalar_tree(item, file, field)
            else:
                _check_scalar_tree(item, file, field)
    others = entry.optional("others", "unmapped", str)
    if others not in OTHERS:
        raise entry.error("others", f"must be one of {', '.join(OTHERS)}, got '{others}'", hint=suggest(others, OTHERS))
    if entry.has("others") and values is None:
        raise entry.error("others", "says what happens to a value missing from 'values'; give 'values' too")
    if expr is not None and values is not None:
        raise entry.error("value", "give either 'value' (an expression) or 'values' (a table), not both")
    cast = entry.optional("cast", None, str)
    if cast is not None and cast not in CASTS:
        raise entry.error("cast", f"must be one of {', '.join(CASTS)}, got '{cast}'", hint=suggest(cast, CASTS))
    where = entry.optional("where", None, str)
    if where is not None and where not in WHERE:
        raise entry.error("where", f"must be one of {', '.join(WHERE)}, got '{where}'", hint=suggest(where, WHERE))
    return ArgumentMap(
        torch=arg, name=name, has_default=entry.has("default"), default=entry.data.get("default"), set=dict(fixed),
        value=expr, values=dict(values) if values is not None else None, cast=cast,
        unsupported=entry.optional("unsupported", None, str), drop=entry.optional("drop", None, str),
        positional=entry.optional("positional", False, bool), where=where, others=others, value_sets=value_sets,
        value_unsupported=value_unsupported,
    )


# ---- cross-field checks -----------------------------------------------------------------------


def _check_name(name: Any, file: str, field: str, *, dotted: bool = False, pattern: bool = False) -> None:
    check_type(name, (str,), file, field)
    # Dotted names are module paths of real models: a part may be a number (`layer1.0.conv1.weight`, `h.0.attn.bias`),
    # or `*`, one path part captured (weights and unmapped: `layer.*.attention.query.weight`).
    ok = all(_PATH_PART.match(part) or (pattern and part == "*") for part in name.split(".")) if dotted else bool(_NAME.match(name))
    if not ok:
        raise SpecError(f"'{name}' is not a valid name (letters, digits, underscores{', dots' if dotted else ''}{', * for one path part' if pattern else ''})",
                        file=file, field=field)


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
    elif value is not None and not isinstance(value, (str, int, float, bool, TensorArg)):
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


def _tupled(value: Any) -> Any:
    """A `when` value as a case holds it: YAML lists are tuples ([] is the empty dim tuple)."""
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def _number(value: Any, file: str | None = None, field: str | None = None) -> float | int:
    """YAML 1.1 reads '1e-5' as a string; accept it as the number the author meant."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(f"expected a number, got {value!r}", file=file, field=field) from None
