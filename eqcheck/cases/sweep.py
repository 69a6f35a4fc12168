"""Spec -> cases: each point of the sweep grid times each dtype is one Case with a stable, readable id."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from eqcheck._lazy import numpy as np  # imported on first use: `list` and `validate` never load numpy

from eqcheck.cases import case_id
from eqcheck.dtypes import GRAD_TOLERANCES, Tolerance, default_tolerance
from eqcheck.errors import SpecError
from eqcheck.spec import expressions
from eqcheck.spec.fields import join
from eqcheck.spec import loader
from eqcheck.spec.loader import MAX_INPUT_ELEMENTS
from eqcheck.spec.model import Derive, Distribution, ExpectedDifference, InputSpec, ListArg, Literal, OpSpec, TensorArg


@dataclass(frozen=True)
class Edge:
    """An --edges variant of a case (eqcheck/cases/edges.py): replaced input distributions, names or input dims."""

    name: str  # in the case id: int, nan, inf, kink, masked, masked@1, single@-1, zero_batch
    distributions: tuple[tuple[int, Distribution], ...] = ()  # input index -> the distribution drawn instead
    overrides: tuple[tuple[str, Any], ...] = ()  # param or sweep name -> value (batch=0)
    dims: tuple[tuple[int, int, int], ...] = ()  # (input index, axis, size) replacing one input dimension
    FAMILY: ClassVar[str] = "edge"  # the case id says `edge=NAME`; cases/boundary.py's variants say `boundary=NAME`

    @property
    def kind(self) -> str:
        return self.name.split("@")[0]


@dataclass(frozen=True)
class Sample:
    """--explore: the torch test sample a case runs (eqcheck/cases/explore.py); its tensors are the shared inputs."""

    source: str  # opinfo | module (eqcheck/backends/samples)
    entry: str  # the op_db / module_db entry
    index: int  # position in that entry's sample list: the `sample=K` of the case id
    arrays: str  # the cached .npz holding its tensors
    tensors: tuple[tuple[str, str], ...]  # input name -> array key in `arrays`
    torch_args: dict = field(default_factory=dict, compare=False)  # JSON-safe: the torch call, tensors as shape/dtype
    error: tuple[str, str] | None = None  # an error input: (exception type, message regex) torch must raise
    variant: str | None = None  # the entry's variant where the spec's op has several (max: binary, reduction_no_dim, ...)
    hash: str | None = None  # its content hash (explore.sample_hash), where a declaration names samples by it
    origin: str | None = None  # a borrowed sample's functional entry and index there: `nn.functional.max_pool2d.3`

    @property
    def id_part(self) -> tuple[str, int | str]:
        """(key, value) of this sample in its case's id: `sample=K`, `sample=VARIANT.K` for a variant entry, or the
        functional sample a module borrowed (`sample=nn.functional.max_pool2d.3`)."""
        if self.origin:
            return ("sample", self.origin)
        return ("error_input" if self.error else "sample", f"{self.variant}.{self.index}" if self.variant else self.index)

    def describe(self) -> dict[str, Any]:
        out = {"source": self.source, "entry": self.entry, "index": self.index, **({"hash": self.hash} if self.hash else {}),
               **({"origin": self.origin} if self.origin else {}),
               **self.torch_args}
        return {**out, "error": {"type": self.error[0], "regex": self.error[1]}} if self.error else out


@dataclass(frozen=True)
class Case:
    spec: OpSpec
    point: tuple[tuple[str, Any], ...]  # the sweep values of this case, in declared order
    dtype: str
    edge: Edge | None = None
    # --edges: (variant, reason) for the variants of this plain case that the spec's edges.skip opts out
    skipped_edges: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    sample: Sample | None = None  # --explore: the torch sample whose tensors and arguments this case runs

    @property
    def id(self) -> str:
        variants = ((self.sample.id_part,) if self.sample is not None else ()) + (
            ((self.edge.FAMILY, self.edge.name),) if self.edge is not None else ())
        return case_id.format_id(self.spec.name, self.point, self.dtype, variants)

    @cached_property
    def values(self) -> dict[str, Any]:
        """The names expressions may use: sweep values, dtype, then params in order (each may use the earlier)."""
        overrides = dict(self.edge.overrides) if self.edge else {}
        namespace: dict[str, Any] = {**dict(self.point), **overrides}
        namespace["dtype"] = self.dtype
        for key, raw in self.spec.params.items():
            namespace[key] = overrides[key] if key in overrides else self._resolve(raw, join("params", key), namespace)
        return namespace

    # ---- resolution -------------------------------------------------------------------------

    def resolve(self, raw: Any, field: str) -> Any:
        return self._resolve(raw, field, self.values)

    def _resolve(self, raw: Any, field: str, namespace: dict[str, Any]) -> Any:
        if isinstance(raw, str) and raw.startswith("$"):
            try:
                return expressions.evaluate(raw[1:], namespace)
            except expressions.ExpressionError as exc:
                raise SpecError(f"{exc} (case {self.id})", file=self.spec.path, field=field) from None
        if isinstance(raw, TensorArg):
            return self._tensor_arg(raw, field, namespace)
        if isinstance(raw, ListArg):  # {list: [..]}: an op that refuses a tuple
            return [self._resolve(v, join(join(field, "list"), i), namespace) for i, v in enumerate(raw.values)]
        if isinstance(raw, list):
            # Lists become tuples: MindSpore often accepts only tuples (kernel_size, normalized_shape); torch takes both.
            return tuple(self._resolve(v, join(field, i), namespace) for i, v in enumerate(raw))
        if isinstance(raw, dict):
            return {k: self._resolve(v, join(field, k), namespace) for k, v in raw.items()}
        return raw

    def _tensor_arg(self, raw: TensorArg, field: str, namespace: dict[str, Any]) -> TensorArg:
        """A tensor argument with its values evaluated: a rectangular nest of numbers, else a SpecError."""
        values = self._resolve(raw.values, join(field, "tensor"), namespace)
        try:
            array = np.asarray(values)
        except ValueError:
            array = np.asarray(None)
        if array.dtype.kind not in "biuf" or array.size > MAX_INPUT_ELEMENTS:
            raise SpecError(f"evaluates to {values!r} in case {self.id}; a tensor argument is a rectangular list of numbers",
                            file=self.spec.path, field=join(field, "tensor"))
        return TensorArg(array.tolist(), raw.dtype)

    def tensor_dtype(self, arg: TensorArg) -> str:
        return self.dtype if arg.dtype == "float" else arg.dtype

    def dim(self, raw: Any, field: str) -> int:
        value = self.resolve(raw if raw.startswith("$") else "$" + raw, field) if isinstance(raw, str) else raw
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SpecError(f"evaluates to {value!r} in case {self.id}; a dimension must be a non-negative integer",
                            file=self.spec.path, field=field)
        return value

    def init_args(self, framework: str) -> dict[str, Any]:
        return self.resolve(self.spec.sides[framework].init, f"{framework}.init")

    def call_args(self, framework: str) -> dict[str, Any]:
        return self.resolve(self.spec.sides[framework].call, f"{framework}.call")

    def input_shape(self, index: int) -> tuple[int, ...]:
        inp = self.spec.inputs[index]
        field = join(join("inputs", index), "shape")
        dims = inp.shape
        if isinstance(dims, str):
            dims = self.resolve(dims, field)
            dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
        shape = tuple(self.dim(d, join(field, j)) for j, d in enumerate(dims))
        for input_index, axis, size in self.edge.dims if self.edge else ():
            if input_index == index:
                shape = shape[:axis % len(shape)] + (size,) + shape[axis % len(shape) + 1:]
        size = 1
        for d in shape:
            size *= d
        if size > MAX_INPUT_ELEMENTS:
            raise SpecError(f"shape {list(shape)} has {size:,} elements in case {self.id}, above the limit of "
                            f"{MAX_INPUT_ELEMENTS:,}; nothing was allocated", file=self.spec.path, field=field)
        return shape

    def input_dtype(self, inp: InputSpec, framework: str | None = None) -> str:
        side = inp.sides.get(framework) if framework else None
        if side is not None and side.dtype:
            return side.dtype
        return self.dtype if inp.dtype == "float" else inp.dtype

    def input_distribution(self, index: int) -> Distribution:
        replaced = dict(self.edge.distributions) if self.edge else {}
        return replaced.get(index, self.spec.inputs[index].distribution)

    def distribution_args(self, dist: Distribution, field: str) -> dict[str, Any]:
        """The distribution's arguments evaluated for this case; SpecError unless numpy can draw from them."""
        args = {k: self.resolve(v, join(field, k)) for k, v in dist.args.items()}
        for key, value in args.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpecError(f"{key} must be a finite number, got {value!r} in case {self.id}", file=self.spec.path,
                                field=join(field, key))
        problem = None
        if dist.kind == "integers" and not (isinstance(args["low"], int) and isinstance(args["high"], int) and args["low"] < args["high"]):
            problem = "integers needs integer low < high"
        elif dist.kind == "normal" and args["std"] < 0:
            problem = "normal needs std >= 0"
        elif dist.kind in ("uniform", "positive") and args["low"] > args["high"]:
            problem = f"{dist.kind} needs low <= high"
        if problem:
            shown = ", ".join(f"{k}={v!r}" for k, v in args.items())
            raise SpecError(f"{problem}, got {shown} in case {self.id}", file=self.spec.path, field=field)
        return args

    def derive_args(self, step: Derive, field: str) -> dict[str, Any]:
        """A derive step's arguments evaluated for this case: finite numbers (keep_away's `below` may stay unset)."""
        args = {k: self.resolve(v, join(join(field, step.kind), k)) for k, v in step.args.items()}
        for key, value in args.items():
            if value is None and key == "below":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SpecError(f"{key} must be a finite number, got {value!r} in case {self.id}", file=self.spec.path,
                                field=join(join(field, step.kind), key))
        return args

    def weight_shape(self, index: int) -> tuple[int, ...] | None:
        entry = self.spec.weights[index]
        if entry.shape is None:
            return None
        field = join(join("weights", entry.name), "shape")
        return tuple(self.dim(d, join(field, j)) for j, d in enumerate(entry.shape))

    def weight_init(self, index: int) -> Distribution | None:
        """The declared init distribution of weight entry `index`, its $expr arguments evaluated for this case."""
        entry = self.spec.weights[index]
        if entry.init is None:
            return None
        field = join(join(join("weights", entry.name), "init"), entry.init.kind)
        return Distribution(entry.init.kind, self.distribution_args(entry.init, field))

    def unmapped_init(self, framework: str, param: str) -> Distribution:
        """The init of a parameter listed under `unmapped`, its $expr arguments evaluated for this case."""
        dist = self.spec.unmapped_init[framework][param]
        field = join(join(join(join("unmapped", framework), param), "init"), dist.kind)
        return Distribution(dist.kind, self.distribution_args(dist, field))

    def output_specs(self, count: int) -> tuple:
        """The spec's named outputs for a call that returned `count`. An explored sample whose arguments change how
        many outputs torch returns (unique_consecutive's return_inverse, max without dim) gets none: the names
        describe the spec's own call, so its rows are named by path (out, out.0, ...)."""
        outputs = self.spec.outputs
        return () if self.sample is not None and outputs and len(outputs) != count else outputs

    def tolerance(self, output: str | None = None) -> Tolerance:
        for out in self.spec.outputs:
            if out.name == output and self.dtype in out.tolerance:
                return out.tolerance[self.dtype]
        return self.spec.tolerance.get(self.dtype, default_tolerance(self.dtype))

    def grad_tolerance(self) -> Tolerance:
        """Tolerance for gradient rows: the spec's grad_tolerance for this dtype, else dtypes.GRAD_TOLERANCES."""
        return self.spec.grad_tolerance.get(self.dtype, GRAD_TOLERANCES.get(self.dtype, default_tolerance(self.dtype)))

    @property
    def expected_difference(self) -> ExpectedDifference | None:
        """The first declaration for this case's variant by name (empty@1), else by kind (empty), else the first one
        covering every variant."""
        kind, name = (self.edge.kind, self.edge.name) if self.edge else (None, None)
        matching = [e for e in self.spec.expected_differences if e.edge in (None, kind, name) and e.applies(self.values)]
        return next((e for e in matching if e.edge == name), next((e for e in matching if e.edge == kind), matching[0] if matching else None))

    def resolve_everything(self) -> None:
        """Evaluate every expression of this case; raises SpecError naming the first bad field."""
        for framework in self.spec.sides:
            literals = [self.init_args(framework), self.call_args(framework)]
            side = self.spec.sides[framework]
            literals += [self.resolve(node.value, f"{framework}.args") for node in _flat(side.args or ()) if isinstance(node, Literal)]
            # An estimate of what the arguments can make the op allocate (repeat(24000, 24000), Linear(in, out),
            # Conv(in, out, k, k)): the product of every integer argument above 1, bounded like the inputs.
            size = math.prod(abs(n) for n in _ints(literals) if abs(n) > 1)
            if size > MAX_INPUT_ELEMENTS:
                raise SpecError(f"the integer arguments of {side.op} multiply to {size:,} in case {self.id}, above the limit "
                                f"of {MAX_INPUT_ELEMENTS:,} elements a case may allocate (estimated from the arguments); "
                                f"nothing was allocated", file=self.spec.path, field=framework)
        total = 0
        for i, inp in enumerate(self.spec.inputs):
            shape = self.input_shape(i)
            total += math.prod(shape)
            if total > MAX_INPUT_ELEMENTS:  # the bound is per case: 100 inputs just under it each are refused too
                raise SpecError(f"the inputs of case {self.id} have {total:,} elements together (up to inputs[{i}]), above "
                                f"the limit of {MAX_INPUT_ELEMENTS:,} per case; nothing was allocated", file=self.spec.path,
                                field=join(join("inputs", i), "shape"))
            dist = self.input_distribution(i)
            self.distribution_args(dist, join(join("inputs", i), "distribution"))
            axis = dist.special.masked_axis if dist.special else None
            if axis is not None and not -len(shape) <= axis < len(shape):
                raise SpecError(f"axis {axis} is outside the input's {len(shape)} dimensions (shape {list(shape)}) in case {self.id}",
                                file=self.spec.path, field=join(join(join("inputs", i), "special"), "masked_slices.axis"))
            for j, step in enumerate(inp.derive):
                field = join(join(join("inputs", i), "derive"), j)
                step_args = self.derive_args(step, field)
                ndim = len(shape)
                if "axis" in step_args and not (isinstance(step_args["axis"], int) and -ndim <= step_args["axis"] < max(ndim, 1)):
                    raise SpecError(f"axis {step_args['axis']!r} is out of range for a {ndim}-d input in case {self.id}",
                                    file=self.spec.path, field=join(field, step.kind))
        for framework, inits in self.spec.unmapped_init.items():
            for param in inits:
                self.unmapped_init(framework, param)
        for i, entry in enumerate(self.spec.weights):
            self.weight_shape(i)
            self.weight_init(i)


def _flat(node: Any):
    """The leaves of a positional-argument layout (nested tuples)."""
    if isinstance(node, tuple):
        for item in node:
            yield from _flat(item)
    else:
        yield node


def _ints(value: Any):
    """Every integer (not bool) in resolved argument values, lists and mappings included."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _ints(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _ints(item)
    elif isinstance(value, ListArg):
        yield from _ints(value.values)


def expand(spec: OpSpec, dtypes: tuple[str, ...] | None = None) -> list[Case]:
    """Every sweep point x dtype, in declared order. `dtypes` (from --dtype) replaces the spec's list."""
    axes = list(spec.sweep.items())
    points = itertools.product(*(values for _, values in axes)) if axes else [()]
    grid = [tuple(zip((name for name, _ in axes), point)) for point in points]
    return [Case(spec, point, dtype) for point in grid for dtype in (dtypes or spec.dtypes)]


def load_spec(path) -> OpSpec:
    """A spec file, validated, with every expression evaluated at every sweep point (a bad size fails here, not mid-run)."""
    return check_expands(loader.parse_spec(path))


def load_specs(paths: list[str]) -> list[OpSpec]:
    """Every spec under the given files and folders, each validated as by `load_spec`."""
    return [check_expands(spec) for spec in loader.parse_specs(paths)]


def check_expands(spec: OpSpec) -> OpSpec:
    for case in expand(spec):
        case.resolve_everything()
    return spec
