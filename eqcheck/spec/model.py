"""The validated form of an operator spec. Values may still hold "$expr" strings, resolved per case."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eqcheck.dtypes import Tolerance
from eqcheck.spec.layout import Transform


@dataclass(frozen=True)
class Special:
    """Exact special values overlaid on drawn values after the cast (docs/edges.md). Fractions are of all elements;
    the point values (nan, posinf, neginf, negzero, values) take disjoint positions."""

    nan: float = 0.0
    posinf: float = 0.0
    neginf: float = 0.0
    negzero: float = 0.0
    values: tuple[float, ...] = ()  # chosen exact values (kinks), cycled over `values_fraction` of the positions
    values_fraction: float = 0.0
    ties: float = 0.0  # positions that copy another position's value; the largest value is always among them
    masked_axis: int | None = None  # whole 1-D slices along this axis set to masked_value
    masked_fraction: float = 0.0
    masked_value: float = float("-inf")

    @property
    def nonfinite_or_signed(self) -> bool:
        """Places a value an integer dtype cannot hold (NaN, an infinity, -0.0, a fraction)."""
        masked = self.masked_axis is not None and not float(self.masked_value).is_integer()
        return bool(self.nan or self.posinf or self.neginf or self.negzero or masked
                    or any(not float(v).is_integer() for v in self.values))

    def describe(self) -> str:
        parts = [f"{k}={getattr(self, k)}" for k in ("nan", "posinf", "neginf", "negzero", "ties") if getattr(self, k)]
        if self.values_fraction:
            parts.append(f"values={list(self.values)}@{self.values_fraction}")
        if self.masked_axis is not None:
            parts.append(f"masked(axis={self.masked_axis}, fraction={self.masked_fraction}, value={self.masked_value})")
        return "special(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class Distribution:
    """How to draw values: kind in normal | uniform | integers | positive | constant; args may be expressions.
    `special` overlays exact special values (NaN, infinities, -0.0, kinks, ties, masked slices) on the draw."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    special: Special | None = None

    def describe(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.kind}({inner})" + (f" + {self.special.describe()}" if self.special else "")


@dataclass(frozen=True)
class SideName:
    """What one framework calls a shared input or weight, and how its layout or dtype differs."""

    name: str
    dtype: str | None = None
    transforms: tuple[Transform, ...] = ()


@dataclass(frozen=True)
class Derive:
    """One step applied to an input after its draw, in float64: kind in DERIVE_STEPS (loader), args may be expressions."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TensorArg:
    """A constructor or call argument that must reach the framework as a tensor: `{tensor: [..], dtype: ..}`."""

    values: Any  # a (nested) list of numbers or expressions, or one "$expr"
    dtype: str = "float"  # "float" follows the case dtype


@dataclass(frozen=True)
class ListArg:
    """An init/call argument that must reach the op as a Python list, not the tuple YAML lists become: `{list: [..]}`
    (mindspore.experimental.optim.lr_scheduler.MultiStepLR refuses a tuple of milestones)."""

    values: list


@dataclass(frozen=True)
class Literal:
    """A positional argument that is a value, not an input: `args: [{value: "ij,jk->ik"}, a, b]`."""

    value: Any


@dataclass(frozen=True)
class InputData:
    """Real data for an input instead of a draw: a .npy, a .npz (`key`, default the input's name) or a torch .pt
    (a tensor, or a dict of tensors by `key`, loaded with weights_only=True). `file` is absolute or relative to
    the working directory; the loader resolves a spec's own relative path against the spec's folder."""

    file: str
    key: str | None = None


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[Any, ...] | str  # ints or expression strings, or one "$expr" giving the whole shape
    dtype: str  # "float" follows the case dtype; otherwise a concrete dtype name
    distribution: Distribution
    sides: dict[str, SideName]
    keyword: bool = False  # pass by each side's name instead of by position
    grad: bool = True  # with `grad`, differentiate w.r.t. this input (false: labels, targets held constant)
    derive: tuple[Derive, ...] = ()  # softmax, log_softmax, keep_away, round_to, set_every: applied in order
    data: InputData | None = None  # `file:` (and `key:`): these values instead of a draw (cases/draws.py checks them)


@dataclass(frozen=True)
class SideSpec:
    """One framework's callable: constructed with `init` if it is a class (or a model factory), then called with inputs and `call`."""

    framework: str
    op: str
    init: dict[str, Any]
    call: dict[str, Any]
    args: tuple | None = None  # positional arguments by input name or Literal; a nested list becomes a tuple: [x, [h0, c0]]
    mode: str | None = None  # eval | train for this side only; None: the spec's mode
    output: tuple[str | int, ...] = ()  # model specs: the path picking one output of a tuple/dict/ModelOutput (`logits`, 0)

    def positional_names(self) -> set[str]:
        """The input names `args` passes positionally (an explored case passes its keyword inputs so, per side)."""
        def walk(node: Any) -> set[str]:
            if isinstance(node, tuple):
                return set().union(*map(walk, node)) if node else set()
            return {node} if isinstance(node, str) else set()
        return walk(self.args) if self.args is not None else set()


@dataclass(frozen=True)
class WeightEntry:
    """One canonical weight in the shared set and the parameter it becomes on each side."""

    name: str
    sides: dict[str, SideName]
    init: Distribution | None = None  # None: scaled like the reference side's own default init
    shape: tuple[Any, ...] | None = None  # needed only when every side transforms the layout


@dataclass(frozen=True)
class OutputSpec:
    name: str
    tolerance: dict[str, Tolerance] = field(default_factory=dict)
    ignore: str | None = None  # reason not to compare this output


# The symptoms a declaration's fingerprint names (eqcheck/verdict/declarations.py measures them).
ROW_SYMPTOMS = ("value", "nonfinite", "zeros", "shape", "uninitialised")  # a row's: its values differ / NaN-Inf pattern /
# the candidate all zeros / the shape / memory left unwritten (any value, compared as a symptom, never by its size)
CASE_SYMPTOMS = ("refusal", "crash")  # a whole case's: the candidate raises / its worker dies (`signal:` names how)
MARGIN = 2.0  # a `value` row's bound is its measured max_abs times this, unless the row states its own `margin`


@dataclass(frozen=True)
class RowPrint:
    """One row of a fingerprint: the row's name (out, out.1, grad:input, state:running_mean), its symptoms (more than
    one where the cases a declaration covers show different ones) and, with `value`, the measured max |diff| the
    bound is made of."""

    row: str
    symptoms: tuple[str, ...]
    max_abs: float | None = None
    margin: float = MARGIN

    @property
    def bound(self) -> float | None:
        return None if self.max_abs is None else self.max_abs * self.margin

    def describe(self) -> str:
        size = f" max_abs <= {self.bound:.3g} (measured {self.max_abs:.3g} x margin {self.margin:g})" if self.max_abs is not None else ""
        return f"{self.row}: {' or '.join(self.symptoms)}{size}"


@dataclass(frozen=True)
class Intermittent:
    """Shown in `shown` of `runs` measured runs (shown < runs): a run where it does not show is a plain pass."""

    shown: int
    runs: int
    note: str | None = None


@dataclass(frozen=True)
class ExpectedDifference:
    """A pair known to differ (data, like OpInfo's xfails): reported, exit code unaffected, flagged if it passes.
    Its fingerprint (`rows`, or a case `symptom`) says what was measured: a covered case whose failure is anything
    else fails. Without one it covers the whole case (configs/defaults/: a default that differs)."""

    reason: str
    link: str | None = None
    when: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # sweep/param name or 'dtype' -> values
    edge: str | None = None  # edge_differences: only that --edges variant (int, nan, ...); None: the plain case and all
    intermittent: Intermittent | None = None  # shows in some runs only: a pass is then a pass, not an unexpected one
    rows: tuple[RowPrint, ...] = ()
    symptom: str | None = None  # CASE_SYMPTOMS: the case fails as a whole (no rows to compare)
    signal: str | None = None  # symptom crash: the signal that kills the worker (SIGFPE, SIGSEGV)
    field: str = ""  # where it is written (edge_differences[2]): the report names a declaration by it

    @property
    def fingerprinted(self) -> bool:
        return bool(self.rows) or self.symptom is not None

    def applies(self, values: dict[str, Any]) -> bool:
        return all(values.get(key) in allowed for key, allowed in self.when.items())

    def names_variant(self, edge: Any) -> bool:
        """Whether this entry is about exactly that variant (its kind, `empty`, or its name, `empty@1`); with no
        variant (None), whether it is about the plain case."""
        return self.edge in ((edge.kind, edge.name) if edge is not None else (None,))

    def describe(self) -> str:
        """The fingerprint in one line, as a mismatch message quotes it."""
        if self.symptom is not None:
            return self.symptom + (f" ({self.signal})" if self.signal else "")
        return "; ".join(r.describe() for r in self.rows) if self.rows else "any failure (whole case)"


# Optimizers a `train:` section may name, with every hyperparameter spelled out: each backend passes all of
# them to its own optimizer, so neither framework's defaults (MindSpore SGD lr 0.1, torch 1e-3) ever apply.
OPTIMIZERS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": None, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    "adam": {"lr": None, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
}


@dataclass(frozen=True)
class TrainSpec:
    """`mode: train` with `train:`: a few optimizer steps on both sides, same data, parameters compared after each."""

    steps: int
    optimizer: str  # a key of OPTIMIZERS
    args: dict[str, Any]  # every hyperparameter of that optimizer, defaults filled in


@dataclass(frozen=True)
class OptimizerRun:
    """`kind: optimizer`: the inputs are the parameters; both optimizers apply the same seeded gradients each step."""

    steps: int
    state: dict[str, str] = field(default_factory=dict)  # torch state key -> MindSpore optimizer attribute (one entry per parameter)
    gradients: Distribution = field(default_factory=lambda: Distribution("normal", {"mean": 0.0, "std": 1.0}))


@dataclass(frozen=True)
class ScheduleRun:
    """`kind: schedule`: the learning rate of each of `steps` steps, from a scheduler wrapping an optimizer or a
    function returning the list."""

    steps: int
    lr: float  # the wrapped optimizer's learning rate on both sides
    metrics: tuple[float, ...] = ()  # ReduceLROnPlateau: the value passed to each of the steps - 1 step() calls


@dataclass(frozen=True)
class EdgeSettings:
    """The spec's `edges:` section: how --edges derives variants where it cannot tell on its own (docs/edges.md)."""

    skip: dict[str, str] = field(default_factory=dict)  # variant kind -> reason it does not apply
    input: str | None = None  # the input the reduction axes refer to; default: the first
    axes: Any = None  # reduced axes (ints or an expression); default: the side's dim/axis/dims/axes argument
    batch: str | None = None  # the param or sweep axis that sizes the batch; default: one named `batch`
    kinks: tuple[float, ...] | None = None  # exact values at the op's kinks; default: common ones for weightless ops


# explore argument casts; tuple/list repeat an int over the spatial rank; per_side writes each spatial padding once per
# side, MindSpore's (top, bottom, left, right) form of torch's (pH, pW)
CASTS = ("tuple", "list", "int", "float", "per_side")
WHERE = ("init", "call")


@dataclass(frozen=True)
class ArgumentMap:
    """How one torch argument of a sample reaches MindSpore (the spec's `explore.arguments`, docs/spec-reference.md)."""

    torch: str  # torch's parameter name
    name: str  # MindSpore's name (the torch name when not renamed)
    has_default: bool = False  # `default:` given (it may be null)
    default: Any = None  # torch's default: passed to MindSpore when a sample leaves the argument out
    set: dict[str, Any] = field(default_factory=dict)  # fixed MindSpore arguments added whenever this one is passed
    value: str | None = None  # "$expr" over `value` and the spec's params
    values: dict[Any, Any] | None = None  # torch value -> MindSpore value; others are unmapped
    cast: str | None = None  # one of CASTS
    unsupported: str | None = None  # reason: a sample setting it (to anything but default) is not run
    drop: str | None = None  # reason: never passed to MindSpore
    positional: bool = False  # passed positionally after the inputs, in the order of `arguments`
    where: str | None = None  # init | call; None: constructor arguments of a ModuleInfo go to init, others to call
    others: str = "unmapped"  # a value not in `values`: unmapped | pass (unchanged, through the rest of the rule)
    value_sets: dict[Any, dict[str, Any]] = field(default_factory=dict)  # torch value -> fixed arguments it adds
    value_unsupported: dict[Any, str] = field(default_factory=dict)  # torch value -> why MindSpore cannot take it


@dataclass(frozen=True)
class InputLimit:
    """`explore.unsupported_inputs.NAME`: tensor ranks MindSpore cannot take; such samples count as not supported."""

    ndim: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class ExploreSpec:
    """The spec's `explore:` section: where torch's own samples come from and how their arguments translate."""

    opinfo: str | None = None  # op_db entry, "name" or "name.variant"; None: derived from torch.op
    module: str | None = None  # module_db entry; None: torch.op when it is an nn.Module class
    signature: tuple[str, ...] | None = None  # torch's positional parameter names where inspect cannot tell
    arguments: dict[str, ArgumentMap] = field(default_factory=dict)  # in the order written (positional order)
    unsupported_inputs: dict[str, InputLimit] = field(default_factory=dict)  # torch tensor argument -> ranks refused
    # per op_db variant (max.binary's (input, other) beside max.reduction_with_dim's (input, dim, keepdim)): one
    # function with several overloads, whose docstring gives the readers only the longest
    variant_signatures: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def call_names(self, entry: str | None) -> list[str] | None:
        """The positional names the spec gives for this entry's samples (its variant's, else the one list); None:
        the record's own."""
        for variant, names in self.variant_signatures.items():
            if entry is not None and (entry == variant or entry.endswith("." + variant)):
                return list(names)
        return list(self.signature) if self.signature else None


@dataclass(frozen=True)
class OpSpec:
    name: str
    path: str
    summary: str
    source: str | None
    params: dict[str, Any]
    sweep: dict[str, tuple[Any, ...]]
    dtypes: tuple[str, ...]
    mode: str  # eval | train
    inputs: tuple[InputSpec, ...]
    sides: dict[str, SideSpec]
    weights: tuple[WeightEntry, ...]
    unmapped: dict[str, dict[str, str]]  # framework -> parameter -> reason it is not shared
    outputs: tuple[OutputSpec, ...]
    tolerance: dict[str, Tolerance]
    expected_differences: tuple[ExpectedDifference, ...]
    # Beyond forward outputs (issue 4); the CLI's --grad/--reference/--trials override these per run.
    grad: bool = False  # also compare gradients w.r.t. float inputs and mapped trainable parameters
    grad_tolerance: dict[str, Tolerance] = field(default_factory=dict)  # per dtype; default: dtypes.GRAD_TOLERANCES
    compare_state: bool | None = None  # compare buffers after the call; None: only in train mode
    reference: str | None = None  # "float64": judge every row against a float64 re-run, passing ones too
    error_budget: bool = True  # a row failing its tolerance is judged again against float64 re-runs (--no-error-budget)
    strict_precision: bool = False  # a precision outlier (one side >= 10x further from float64) fails the row
    trials: int = 1  # independent seeds per case; the report keeps the worst and the spread
    repeat: int = 1  # identical calls per side, compared bitwise (--repeat; 2 under --edges)
    edges: EdgeSettings = field(default_factory=EdgeSettings)
    unmapped_init: dict[str, dict[str, Distribution]] = field(default_factory=dict)  # framework -> unshared param -> its draw

    def side_mode(self, framework: str) -> str:
        """eval | train for one framework: its section's `mode`, else the spec's."""
        side = self.sides.get(framework)
        return (side.mode if side is not None and side.mode else None) or self.mode

    @property
    def trains(self) -> bool:
        """Any side runs in train mode (buffers may move, so the state is compared)."""
        return any(self.side_mode(fw) == "train" for fw in self.sides)
    # Whole models (docs/models.md): each side's `op` is a user factory "package.module:attribute".
    kind: str = "op"  # op | model | optimizer | schedule
    layers: bool = False  # model specs: record and compare every paired submodule's output (and gradient)
    layer_pairs: tuple[dict[str, str], ...] = ()  # `layers:` as a list: explicit pairs, framework -> module path
    train: TrainSpec | None = None  # optimizer steps (needs mode: train)
    optimizer: OptimizerRun | None = None  # kind: optimizer
    schedule: ScheduleRun | None = None  # kind: schedule
    explore: ExploreSpec | None = None  # --explore: torch's OpInfo/ModuleInfo samples (None: no section written)
    weights_file: str | None = None  # `weights_file:` the shared set's values (as --weights, which overrides it); None: drawn

    @property
    def is_model(self) -> bool:
        return self.kind == "model"
