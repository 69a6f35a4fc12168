"""The one small interface every framework or execution mode implements. Imports no framework."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from eqcheck.backends import failure_kinds

DEVICES = ("cpu", "gpu")


@dataclass(frozen=True)
class ParamInfo:
    """One parameter or buffer of a built cell, as the weight map needs to see it."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    trainable: bool
    default: np.ndarray  # the framework's own initial value: sets the scale of the shared draw
    persistent: bool = True  # False: a torch buffer kept out of the state_dict (position ids, causal masks)


@dataclass
class Built:
    """A callable ready to run: a constructed module/cell, or a function with nothing to construct."""

    fn: Callable
    module: Any | None  # the nn.Module / nn.Cell, when the op is a class
    compiled: Callable | None = None  # execution-mode backends: the jit/torch.compile wrapper of fn


@dataclass(frozen=True)
class ModelFactory:
    """A user's model factory (a class or a function returning an nn.Module / nn.Cell): always called to construct."""

    fn: Callable
    path: str

    def __call__(self, **kwargs):
        return self.fn(**kwargs)


def is_constructor(obj: Any) -> bool:
    """Build calls it with `init` (a layer class, a model factory) instead of wrapping it as the op itself."""
    return isinstance(obj, ModelFactory) or isinstance(obj, type)


class LayerWatch:
    """What hooks saw during one call: per submodule path, one list of numpy leaves per call, in firing order."""

    def __init__(self, to_numpy: Callable[[Any], np.ndarray], is_tensor: Callable[[Any], bool]):
        self.to_numpy = to_numpy
        self.is_tensor = is_tensor
        self.records: dict[str, list[list[np.ndarray | None]]] = {}
        self.inputs: dict[str, list[list[Any] | None]] = {}  # forward: each call's positional inputs, for the replay
        self.keywords: dict[str, list[dict[str, Any] | None]] = {}  # forward: each call's keyword inputs (HF's self_attn(hidden_states=...))
        self.cotangents: dict[str, list[list[np.ndarray | None]]] = {}  # backward: each call's output gradient, for the replay
        self.order: list[tuple[str, int]] = []  # (path, call index) as the hooks fired
        self.handles: list[Any] = []

    def record(self, path: str, value: Any, args: tuple | None = None, kwargs: dict | None = None) -> None:
        # A copy: torch's .numpy() shares memory, and a later in-place op (ReLU(inplace=True)) would rewrite the record.
        leaves = [np.array(self.to_numpy(v), copy=True) if self.is_tensor(v) else None for v in flatten_leaves(value, self.is_tensor)]
        calls = self.records.setdefault(path, [])
        self.order.append((path, len(calls)))
        calls.append(leaves)
        if args is not None:  # tensors as numpy copies, plain values as they are; anything nested is not replayable
            kwargs = kwargs or {}
            plain = all(self.is_tensor(a) or a is None or isinstance(a, (bool, int, float, str)) for a in (*args, *kwargs.values()))
            copy = lambda a: np.array(self.to_numpy(a), copy=True) if self.is_tensor(a) else a
            self.inputs.setdefault(path, []).append([copy(a) for a in args] if plain else None)
            self.keywords.setdefault(path, []).append({k: copy(v) for k, v in kwargs.items()} if plain else None)

    def record_cotangent(self, path: str, value: Any) -> None:
        """Backward: the gradient arriving at a module's outputs, recorded beside its input gradient (the backward replay)."""
        self.cotangents.setdefault(path, []).append(
            [np.array(self.to_numpy(v), copy=True) if self.is_tensor(v) else None for v in flatten_leaves(value, self.is_tensor)])

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()


class UnsupportedCase(Exception):
    """This target cannot run this case (a dtype it refuses, a kernel missing on this device)."""


class Backend(ABC):
    """Build from spec, load weights, call, outputs to numpy. One instance per target, per process."""

    framework: str  # the spec section it reads
    target: str  # the target name users type (--targets)
    call_method = "__call__"  # what calling a built module runs: forward (torch), construct (MindSpore)
    keyword_gradients = False  # watch(backward=True, through_inputs=True) sees inputs passed by keyword (torch)

    def __init__(self, device: str = "cpu", threads: int = 1):
        self.device = device
        # Intra-op threads, fixed: reduction order (so the last bits of a result) depends on it, and a
        # report must not change with --jobs or the machine's core count.
        self.threads = threads

    @property
    def label(self) -> str:
        return self.target if self.device == "cpu" else f"{self.target}:{self.device}"

    @abstractmethod
    def activate(self) -> None:
        """Import the framework and select the device; raise TargetUnavailable naming what is missing."""

    @abstractmethod
    def resolve(self, dotted: str) -> Any:
        """The object a dotted path names; raise LookupError with the first missing part."""

    @abstractmethod
    def build(self, obj: Any, init_args: dict, dtype: str, train: bool, seed: int) -> Built:
        """Construct `obj` if it is a class (in `dtype`, train/eval mode, framework RNG seeded), else wrap it."""

    @abstractmethod
    def parameters(self, built: Built) -> dict[str, ParamInfo]:
        """Every trainable parameter and buffer, by the name the weight map uses."""

    @abstractmethod
    def load(self, built: Built, arrays: dict[str, np.ndarray]) -> None:
        """Overwrite parameters with the given arrays (already in this side's layout and dtype)."""

    @abstractmethod
    def read(self, built: Built) -> dict[str, np.ndarray]:
        """Current parameter values, to prove the load took effect."""

    @abstractmethod
    def tensor(self, array: np.ndarray, dtype: str) -> Any:
        """A framework tensor on this target's device holding exactly `array`'s values, in `dtype`."""

    @abstractmethod
    def call(self, built: Built, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Run once (no autograd); return the framework's raw output."""

    @abstractmethod
    def is_tensor(self, value: Any) -> bool: ...

    @abstractmethod
    def to_numpy(self, tensor: Any) -> np.ndarray: ...

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """Framework name -> version string, for the report's environment."""

    @abstractmethod
    def devices(self) -> list[str]:
        """Devices this framework can see here."""

    # ---- beyond forward outputs (gradients, execution modes) -------------------------------------

    def invoke(self, built: Built, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Run once with autograd left on (for `grad`); modes (jit, torch.compile) override this and `call`."""
        return built.fn(*args, **kwargs)

    def grad(self, built: Built, make_args: Callable[[dict], tuple[list, dict]], inputs: dict[str, Any],
             wrt: list[str], cotangents: list[np.ndarray | None]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Backpropagate `cotangents` (one per flattened output, None: not differentiated) through one call.

        `inputs` are this side's tensors by canonical input name, `make_args` packs them into (args, kwargs),
        `wrt` names the inputs to differentiate. Returns (input gradients by canonical input name, gradients
        of every trainable parameter by this side's parameter name); an unused input's gradient is zeros.
        """
        raise UnsupportedCase(f"{self.target} does not compute gradients")

    def submodules(self, built: Built) -> dict[str, str]:
        """Every named submodule of a built module (path -> class name), for layer-by-layer comparison."""
        return {}

    def watch(self, built: Built, paths: list[str], backward: bool = False) -> LayerWatch:
        """Hooks on the named submodules recording outputs (or, backward, input gradients) until `close()`."""
        raise UnsupportedCase(f"{self.target} cannot watch layers")

    def replay(self, built: Built, path: str, args: list[Any], dtype: str, keywords: dict | None = None) -> list[np.ndarray | None]:
        """The submodule at `path` called alone on recorded inputs (numpy arrays, plain values; `keywords` by name), in
        `dtype`, without gradients: its output leaves. The local verdict of a layer (execution/layers.py)."""
        raise UnsupportedCase(f"{self.target} cannot replay a layer")

    def replay_grad(self, built: Built, path: str, args: list[Any], cotangents: list, dtype: str,
                    keywords: dict | None = None) -> list[np.ndarray | None]:
        """The submodule at `path` called alone on recorded inputs and differentiated with its own framework's autodiff,
        the recorded output gradients (numpy, None: none) as cotangents: one input gradient per array input, positional
        then keyword (None for an integer input). The local backward verdict of a layer (execution/replay.py)."""
        raise UnsupportedCase(f"{self.target} cannot replay a layer's gradient")

    def optimizer(self, built: Built, name: str, args: dict[str, Any]) -> Any:
        """This framework's optimizer `name` (sgd | adam) over the trainable parameters, every hyperparameter from `args`."""
        raise UnsupportedCase(f"{self.target} does not train")

    def train_step(self, built: Built, optimizer: Any, make_args: Callable[[dict], tuple[list, dict]],
                   inputs: dict[str, Any], cotangents: list[np.ndarray | None]) -> dict[str, np.ndarray]:
        """One step: forward, backpropagate sum(output * cotangent) (the loss), update the parameters.

        Returns the step's gradients by this side's parameter name."""
        raise UnsupportedCase(f"{self.target} does not train")

    # ---- optimizers and learning-rate schedules on their own (spec kinds optimizer, schedule) -------------

    def optimizer_over(self, cls: Any, arrays: list[np.ndarray], init_args: dict[str, Any]) -> tuple[Any, list[Any]]:
        """(cls(parameters, **init_args), parameters): fresh trainable parameters holding exactly `arrays`."""
        raise UnsupportedCase(f"{self.target} does not run optimizers on their own")

    def optimizer_step(self, optimizer: Any, parameters: list[Any], gradients: list[np.ndarray]) -> None:
        """One update of `parameters` with these gradients (one per parameter, this side's dtype)."""
        raise UnsupportedCase(f"{self.target} does not run optimizers on their own")

    def parameter_values(self, parameters: list[Any]) -> list[np.ndarray]:
        """Copies of the parameters' current values (the next step updates them in place)."""
        raise UnsupportedCase(f"{self.target} does not run optimizers on their own")

    def optimizer_state(self, optimizer: Any, parameters: list[Any], key: str) -> list[np.ndarray]:
        """Copies of the optimizer's state `key` for each parameter, in order; KeyError when it keeps no such state."""
        raise UnsupportedCase(f"{self.target} does not run optimizers on their own")

    def learning_rates(self, obj: Any, init_args: dict[str, Any], steps: int, lr: float,
                       metrics: tuple[float, ...]) -> list[float]:
        """The learning rate of each of `steps` steps: a scheduler class wraps a one-parameter optimizer at `lr`
        and steps (with `metrics[i]` when given); a function returns the list itself."""
        raise UnsupportedCase(f"{self.target} does not run learning-rate schedules")

    def save(self, built: Built, path: str) -> None:
        """Write the module's current parameters in this framework's own checkpoint format."""
        raise UnsupportedCase(f"{self.target} cannot save checkpoints")

    def failure_kind(self, exc: BaseException, dtype: str) -> str | None:
        """The kind of this failure (failure_kinds: missing_kernel, missing_api, refused_dtype, wrong_arguments), or None."""
        return failure_kinds.classify(type(exc).__name__, str(exc), dtype).kind

    def classify_failure(self, exc: BaseException, dtype: str) -> str:
        """'unsupported' when the target refuses this dtype, lacks the kernel or (this release) the API; else 'error'."""
        if isinstance(exc, UnsupportedCase):
            return "unsupported"
        return failure_kinds.classify(type(exc).__name__, str(exc), dtype).status

    def signatures(self, obj: Any) -> tuple[inspect.Signature | None, inspect.Signature | None]:
        """(constructor, call) signatures of a resolved op, each None where Python cannot tell (builtins, C)."""
        if inspect.isclass(obj):
            return _signature(obj), _signature(getattr(obj, self.call_method, None), bound=True)
        return None, _signature(obj)

    def missing_kernel(self, exc: BaseException) -> str | None:
        """The kernel this failure says the device lacks (named in the row), or None."""
        failure = failure_kinds.classify(type(exc).__name__, str(exc), "float32")
        return failure.missing if failure.kind == failure_kinds.MISSING_KERNEL else None

    def recover(self) -> None:
        """Called after a case failed, so a framework's leftover error state cannot leak into the next case."""

    def healthy(self) -> bool:
        """After a failed case (and recover()): does this process still compute right? A worker whose framework
        says no is replaced by a fresh process; one that says yes goes on with the next case."""
        return True


def flatten_leaves(value: Any, is_tensor: Callable[[Any], bool]) -> list[Any]:
    """Output leaves in the runner's flattening order (tensors, tuples/lists, dicts); other leaves kept as-is."""
    if is_tensor(value):
        return [value]
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in flatten_leaves(v, is_tensor)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in flatten_leaves(v, is_tensor)]
    return [value]


def _signature(fn: Any, bound: bool = False) -> inspect.Signature | None:
    """inspect.signature, without `self` for an unbound method; None for a callable without one."""
    if fn is None:
        return None
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if bound and params and params[0].name == "self":
        sig = sig.replace(parameters=params[1:])
    return sig
