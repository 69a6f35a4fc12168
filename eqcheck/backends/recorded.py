"""A side that ran elsewhere (--export-side / --against): every backend step one target took, recorded and replayed.

`RecordingBackend` wraps a real backend and writes down, per case and trial seed, each built cell's steps in
call order (parameters, load, read, call, grad), the runner's check each belongs to (forward, state, gradient,
repeat, float64), their results as numpy, and any failure with the status the real backend gave it.
`ReplayBackend` answers the same calls from such a record, so the runner, its checks and every report stay
unchanged: to them a recorded side is just another target. A call the record does not hold (the two runs took
different paths) is an error for that case, never a guess.

`SideRecord` is the record itself and its file form: one compressed .npz per case, arrays under readable keys
(`seed<S>/inputs/x`, `seed<S>/weights/weight_ih`, `seed<S>/build0/4-call/0`) and the structure as JSON under `__record__`.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from eqcheck.backends.base import Backend, Built, ParamInfo, UnsupportedCase

RECORD_KEY = "__record__"


def write_atomic(path: Path, write, sync: bool = True) -> None:
    """`write(binary file)` into a temp file beside `path`, fsync (unless `sync` is False), rename: a reader never
    sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ReplayedFailure(Exception):
    """A recorded failure raised again; its class is named after the original exception."""


def replayed_exception(failure: dict) -> BaseException:
    """An exception that reads (class name, str) exactly as the recorded one, and carries its recorded status."""
    base = getattr(builtins, failure["type"], None)
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = ReplayedFailure
    text = failure["text"]
    cls = type(failure["type"], (base,), {"__str__": lambda self: text})
    exc = cls(text)
    exc.eqcheck_status, exc.eqcheck_kernel = failure["status"], failure.get("kernel")
    return exc


class _ForeignObject:
    """Stands in for a non-tensor output leaf (the runner reports its type name)."""


class SideRecord:
    """One case's record of one side, per trial seed: the materials (inputs, weights, cotangents) and each build's steps."""

    def __init__(self):
        self.case_id: str | None = None
        self.trials: dict[int, dict] = {}
        self.current: dict | None = None
        self.phase = "forward"  # the runner's check under way (execution/sides.py passes it on)
        self.opened = 0  # bumps on every open: a replaying backend restarts its cursor

    def open(self, case_id: str, seed: int) -> None:
        if case_id != self.case_id:
            self.case_id, self.trials = case_id, {}
        self.current = self.trials.setdefault(seed, {"materials": {}, "builds": []})
        self.phase = "forward"
        self.opened += 1

    def new_build(self, dtype: str) -> dict:
        build = {"dtype": dtype, "steps": []}
        self.current["builds"].append(build)
        return build

    # ---- file form ----------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """This case's record as one compressed .npz, written atomically."""
        arrays = self._arrays()
        # no fsync per case (~6 ms each on a loaded disk): the manifest, synced and written last, is what makes an
        # export complete, and a case file a crash left unreadable is an error row on replay, not a wrong number
        write_atomic(path, lambda handle: np.savez_compressed(handle, **arrays), sync=False)

    def dumps(self) -> bytes:
        """The same .npz in memory (uncompressed): a record passed between processes (Ray's object store)."""
        buffer = io.BytesIO()
        np.savez(buffer, **self._arrays())
        return buffer.getvalue()

    def load(self, source: Path | bytes) -> None:
        """Read a record written by `save` (a path) or `dumps` (bytes)."""
        with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        self._read(arrays)

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {}
        structure = {}
        for seed, trial in self.trials.items():
            structure[str(seed)] = {
                "materials": {kind: _pack(value, arrays, f"seed{seed}/{kind}") for kind, value in trial["materials"].items()},
                "builds": [{"dtype": build["dtype"], "steps": [
                    [method, kind, _pack(value, arrays, f"seed{seed}/build{i}/{j}-{method}"), phase]
                    for j, (method, outcome, phase) in enumerate(build["steps"]) for kind, value in outcome.items()
                ]} for i, build in enumerate(trial["builds"])],
            }
        arrays[RECORD_KEY] = np.array(json.dumps({"case": self.case_id, "trials": structure}))
        return arrays

    def _read(self, arrays: dict[str, np.ndarray]) -> None:
        structure = json.loads(str(arrays.pop(RECORD_KEY)))
        self.case_id = structure["case"]
        self.trials = {
            int(seed): {
                "materials": {kind: _unpack(value, arrays) for kind, value in trial["materials"].items()},
                "builds": [{"dtype": build["dtype"], "steps": [(method, {kind: _unpack(value, arrays)}, phase)
                                                              for method, kind, value, phase in build["steps"]]}
                           for build in trial["builds"]],
            }
            for seed, trial in structure["trials"].items()
        }
        self.current = None


def _pack(value: Any, arrays: dict[str, np.ndarray], key: str) -> Any:
    """JSON-safe structure; arrays go into `arrays` under readable keys."""
    if isinstance(value, (np.ndarray, np.generic)):
        arrays[key] = np.asarray(value)
        return {"$array": key}
    if isinstance(value, ParamInfo):
        return {"$param": {"name": value.name, "shape": list(value.shape), "dtype": value.dtype, "trainable": value.trainable,
                           "default": _pack(value.default, arrays, key), "persistent": value.persistent}}
    if isinstance(value, dict):
        return {"$dict": [[k, _pack(v, arrays, f"{key}/{k}")] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"$list" if isinstance(value, list) else "$tuple": [_pack(v, arrays, f"{key}/{i}") for i, v in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"$object": type(value).__name__}


def _unpack(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(value, dict):
        return value
    (tag, body), = value.items()
    if tag == "$array":
        return arrays[body]
    if tag == "$param":
        return ParamInfo(body["name"], tuple(body["shape"]), body["dtype"], body["trainable"], _unpack(body["default"], arrays),
                         body.get("persistent", True))
    if tag == "$dict":
        return {k: _unpack(v, arrays) for k, v in body}
    if tag in ("$list", "$tuple"):
        items = [_unpack(v, arrays) for v in body]
        return items if tag == "$list" else tuple(items)
    if tag == "$object":
        return type(body, (_ForeignObject,), {})()
    raise ValueError(f"not a side record entry: {tag}")


def _snapshot(value: Any) -> Any:
    """`value` with every array copied."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, ParamInfo):
        return ParamInfo(value.name, value.shape, value.dtype, value.trainable, np.array(value.default, copy=True), value.persistent)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_snapshot(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


class RecordingBackend(Backend):
    """The real backend, with every step it takes on a built cell written into a SideRecord (see the module docstring)."""

    def __init__(self, inner: Backend, record: SideRecord):
        super().__init__(inner.device, inner.threads)
        self.inner, self.record = inner, record
        self.framework, self.target = inner.framework, inner.target

    def _step(self, built: Built, method: str, action, keep=lambda result: result):
        build = built.record
        try:
            result = action()
        except Exception as exc:  # recorded, then raised on unchanged
            failure = {"type": type(exc).__name__, "text": str(exc), "status": self.inner.classify_failure(exc, build["dtype"]),
                       "kernel": self.inner.missing_kernel(exc)}
            build["steps"].append((method, {"failure": failure}, self.record.phase))
            raise
        # a copy: frameworks hand out views of live storage (a parameter's default changes when weights load)
        build["steps"].append((method, {"result": _snapshot(keep(result))}, self.record.phase))
        return result

    def activate(self) -> None:
        self.inner.activate()

    def resolve(self, dotted: str) -> Any:
        return self.inner.resolve(dotted)

    def build(self, obj: Any, init_args: dict, dtype: str, train: bool, seed: int) -> Built:
        tracked = Built(fn=None, module=None)
        tracked.record = self.record.new_build(dtype)
        tracked.inner = self._step(tracked, "build", lambda: self.inner.build(obj, init_args, dtype, train, seed), keep=lambda _: None)
        return tracked

    def parameters(self, built: Built) -> dict[str, ParamInfo]:
        return self._step(built, "parameters", lambda: self.inner.parameters(built.inner))

    def load(self, built: Built, arrays: dict[str, np.ndarray]) -> None:
        self._step(built, "load", lambda: self.inner.load(built.inner, arrays))

    def read(self, built: Built) -> dict[str, np.ndarray]:
        return self._step(built, "read", lambda: self.inner.read(built.inner))

    def tensor(self, array: np.ndarray, dtype: str) -> Any:
        return self.inner.tensor(array, dtype)

    def call(self, built: Built, args: list[Any], kwargs: dict[str, Any]) -> Any:
        # Outputs become numpy inside the call: reading them is where an asynchronous kernel raises.
        return self._step(built, "call", lambda: self._plain(self.inner.call(built.inner, args, kwargs)))

    def grad(self, built, make_args, inputs, wrt, cotangents):
        return self._step(built, "grad", lambda: self.inner.grad(built.inner, make_args, inputs, wrt, cotangents))

    def submodules(self, built: Built) -> dict[str, str]:
        return self._step(built, "submodules", lambda: self.inner.submodules(built.inner))

    # Not recorded (a replay raises UnsupportedCase): layer hooks, training steps, checkpoints (docs/scale-out.md).
    def watch(self, built, paths, backward=False):
        return self.inner.watch(built.inner, paths, backward)

    def optimizer(self, built, name, args):
        return self.inner.optimizer(built.inner, name, args)

    def train_step(self, built, optimizer, make_args, inputs, cotangents):
        return self.inner.train_step(built.inner, optimizer, make_args, inputs, cotangents)

    def save(self, built, path):
        self.inner.save(built.inner, path)

    def signatures(self, obj):
        return self.inner.signatures(obj)

    def _plain(self, value: Any) -> Any:
        if self.inner.is_tensor(value):
            return self.inner.to_numpy(value)
        if isinstance(value, (tuple, list)):
            items = [self._plain(v) for v in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, dict):
            return {k: self._plain(v) for k, v in value.items()}
        return value

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, np.ndarray) or self.inner.is_tensor(value)

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return tensor if isinstance(tensor, np.ndarray) else self.inner.to_numpy(tensor)

    def versions(self) -> dict[str, str]:
        return self.inner.versions()

    def devices(self) -> list[str]:
        return self.inner.devices()

    def classify_failure(self, exc: BaseException, dtype: str) -> str:
        return self.inner.classify_failure(exc, dtype)

    def missing_kernel(self, exc: BaseException) -> str | None:
        return self.inner.missing_kernel(exc)

    def recover(self) -> None:
        self.inner.recover()

    def healthy(self) -> bool:
        return self.inner.healthy()


class RecordedOp:
    """What a recorded side's op path resolves to: its name, homed in the framework it ran in."""

    def __init__(self, dotted: str, framework: str):
        self.dotted = dotted
        self.__module__ = framework

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self.dotted} ran on the recording machine; it cannot run here")


def _next_positions(steps: list, cursor: int) -> list[int]:
    """Where a replay at `cursor` may go on: the next step, the step after any later recorded failure (the runner
    skipped the rest of a check the first side failed), or the first step of any later check (the runner skipped a
    whole check here, e.g. gradients of outputs whose shapes differ from the recorded side's)."""
    return [cursor + 1, *(j + 1 for j in range(cursor + 1, len(steps) - 1)
                          if "failure" in steps[j][1] or steps[j + 1][2] != steps[j][2])]


class ReplayBackend(Backend):
    """Answers every step from a SideRecord, in the order they were recorded (see the module docstring)."""

    def __init__(self, record: SideRecord, framework: str, target: str, device: str,
                 versions: dict[str, str], devices: list[str]):
        super().__init__(device)
        self.record, self.framework, self.target = record, framework, target
        self._versions, self._devices = dict(versions), list(devices)
        self._opened, self._next_build = -1, 0

    def _replay(self, built: Built, method: str) -> Any:
        steps = built.record["steps"]
        # A run may pass over recorded steps: the rest of a check after the first side failed it (the export's mirror:
        # the recorded side reloaded its weights and failed its gradient, the mirror was never asked), or a whole
        # check (gradients of outputs whose shapes differ here). Each step is tagged with its check and only a step of
        # the check under way answers, so a --repeat call never takes a skipped gradient pass's reload. A replay asked
        # for every step in the recorded order (--against: the recorded side comes first) skips nothing.
        position = next((p for p in _next_positions(steps, built.cursor)
                         if p < len(steps) and steps[p][0] == method and steps[p][2] == self.record.phase), None)
        if position is None:
            position = built.cursor + 1
            recorded = steps[position][0] if position < len(steps) else "nothing more"
            raise RuntimeError(f"the recorded side holds no '{method}' step here (it recorded {recorded}): "
                               "the two runs took different paths; export again with this eqcheck and these settings")
        built.cursor = position
        outcome = steps[position][1]
        if "failure" in outcome:
            raise replayed_exception(outcome["failure"])
        return outcome["result"]

    def activate(self) -> None:
        """Nothing to import: the framework ran on the recording machine."""

    def resolve(self, dotted: str) -> Any:
        return RecordedOp(dotted, self.framework)

    def build(self, obj: Any, init_args: dict, dtype: str, train: bool, seed: int) -> Built:
        if self._opened != self.record.opened:  # a new case or trial: builds count from the first again
            self._opened, self._next_build = self.record.opened, 0
        builds = self.record.current["builds"]
        index, self._next_build = self._next_build, self._next_build + 1
        if index >= len(builds) or builds[index]["dtype"] != dtype:
            raise RuntimeError(f"the recorded side built no {dtype} cell here: the two runs took different paths")
        replayed = Built(fn=None, module=None)
        replayed.record, replayed.cursor = builds[index], -1
        self._replay(replayed, "build")
        return replayed

    def parameters(self, built: Built) -> dict[str, ParamInfo]:
        return self._replay(built, "parameters")

    def load(self, built: Built, arrays: dict[str, np.ndarray]) -> None:
        self._replay(built, "load")  # the runner reads back and compares with `arrays`

    def read(self, built: Built) -> dict[str, np.ndarray]:
        return self._replay(built, "read")

    def tensor(self, array: np.ndarray, dtype: str) -> Any:
        return array

    def call(self, built: Built, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return self._replay(built, "call")

    def grad(self, built, make_args, inputs, wrt, cotangents):
        input_grads, param_grads = self._replay(built, "grad")
        return {name: input_grads[name] for name in wrt}, param_grads

    def submodules(self, built: Built) -> dict[str, str]:
        return self._replay(built, "submodules")

    def watch(self, built, paths, backward=False):
        raise UnsupportedCase("a recorded side holds no layer-by-layer outputs: compare layers in one process")

    def optimizer(self, built, name, args):
        raise UnsupportedCase("a recorded side holds no training steps: compare training in one process")

    def signatures(self, obj):
        return None, None  # checked where the side was recorded

    def is_tensor(self, value: Any) -> bool:
        return isinstance(value, np.ndarray)

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return tensor

    def versions(self) -> dict[str, str]:
        return dict(self._versions)

    def devices(self) -> list[str]:
        return list(self._devices)

    def classify_failure(self, exc: BaseException, dtype: str) -> str:
        return getattr(exc, "eqcheck_status", None) or super().classify_failure(exc, dtype)

    def missing_kernel(self, exc: BaseException) -> str | None:
        return getattr(exc, "eqcheck_kernel", None)
