"""eqcheck from Python: compare the torch and MindSpore objects a caller holds, on the data it holds (docs/python.md).

`compare` writes the call down as a spec (the same mapping a YAML file holds, validated by the same loader), its
inputs as a .npz the spec's `file:` entries name, and runs the cases through the same runner, checks and report
as `eqcheck run`. The caller's objects are never resolved by path (no --allow-module) and never changed: each case
builds from a deep copy. `save_spec` keeps the spec and its data as files `eqcheck run` takes.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence, Union

import numpy as np

from eqcheck.errors import EqcheckError
from eqcheck.report.handle import Report

FRAMEWORKS = ("torch", "mindspore")
CALL = "eqcheck.compare()"  # the `file` of an in-memory spec's error paragraphs
ArrayLike = Any  # a numpy array, a torch tensor or a MindSpore tensor
Inputs = Union[ArrayLike, Sequence[ArrayLike], Mapping[str, ArrayLike]]


def compare(
    torch_side: Callable[..., Any],
    mindspore_side: Callable[..., Any],
    inputs: Inputs,
    *,
    name: str | None = None,
    grad: bool = False,
    dtypes: Sequence[str] | None = None,
    keywords: bool = False,
    input_dtypes: Mapping[str, Mapping[str, str]] | None = None,
    weights: Mapping[str, Any] | None = None,
    unmapped: Mapping[str, Mapping[str, str]] | None = None,
    weights_from: str = "torch",
    layers: bool | list[dict[str, str]] | None = None,
    outputs: Sequence[str | Mapping[str, Any]] | None = None,
    output: Mapping[str, str | int | Sequence[str | int]] | None = None,
    mode: Literal["eval", "train"] = "eval",
    tolerance: Mapping[str, Mapping[str, float]] | None = None,
    grad_tolerance: Mapping[str, Mapping[str, float]] | None = None,
    error_budget: bool = True,
    reference: Literal["float64"] | None = None,
    strict_precision: bool = False,
    targets: str = "torch,mindspore",
    device: str = "cpu",
    seed: int | None = None,
    threads: int = 1,
    isolated: bool = False,
    timeout: float | None = None,
    save_spec: str | Path | None = None,
) -> Report:
    """Run `torch_side` and `mindspore_side` on the same inputs and judge every output as `eqcheck run` does.

    Args:
        torch_side: a function (an op pair) or a `torch.nn.Module` (a model pair: weights shared through the automatic
            map, every paired layer compared, the first to deviate named).
        mindspore_side: a function, or the `mindspore.nn.Cell` porting the module.
        inputs: one array, a sequence of arrays (positional arguments) or a dict by name (positional in its order;
            by name with `keywords=True`). numpy arrays, torch or MindSpore tensors; each side gets identical bytes.
            Float inputs follow the case dtype, integer and bool inputs keep theirs.
        name: the spec name in case ids (default: the torch side's name).
        grad: also compare gradients w.r.t. float inputs and trainable parameters.
        dtypes: the float dtypes to run (default: the float inputs' own dtype, else float32): one case each.
        keywords: pass a dict's inputs by name instead of by position.
        input_dtypes: one side's dtype for an input, e.g. `{"mindspore": {"tokens": "int32"}}`.
        weights: the spec's `weights:` section (explicit pairs, layout transforms); everything else is paired
            automatically or refused, never randomly initialized.
        unmapped: the spec's `unmapped:` section: per framework, parameters deliberately not shared, with the reason.
        weights_from: whose values are the shared set: "torch" (the torch module's own), "mindspore", "draw" (the seeded
            draw a spec uses) or a .npz / torch state_dict .pt path of canonical weights (as `run --weights`).
        layers: model pairs: compare every paired layer (default True), or a list of explicit pairs as in a spec.
        outputs: names for the flattened outputs, or `{name, tolerance, ignore}` records as in a spec.
        output: per framework, the part of a side's return value to compare (a spec side's `output:`), e.g.
            `{"torch": "logits"}` for a Hugging Face model returning a ModelOutput.
        mode: "eval" or "train" (batch statistics, dropout) on both sides.
        tolerance: per dtype `{"float32": {"rtol": .., "atol": ..}}`; default: eqcheck's table.
        grad_tolerance: the same for gradient rows.
        error_budget: False: as `run --no-error-budget` (a row failing its tolerance is not judged against float64).
        reference: "float64": as `run --reference float64`, float64 re-runs for every row.
        strict_precision: as `run --strict-precision`: a precision outlier fails its row.
        targets: as `run --targets` (e.g. "torch,mindspore-graph": MindSpore in graph mode; default PyNative).
        device: as `run --device` (e.g. "gpu", or "torch=gpu,mindspore=cpu").
        seed: seeds the cotangents (and the weights with weights_from="draw").
        threads: intra-op threads per framework while the comparison runs (1, as `run`: reports do not depend on cores).
        isolated: run in a worker process (a native crash costs the case, not the caller); the objects must be
            importable: functions by their public name, modules by their class, constructible without arguments.
        timeout: per-case limit in seconds for the isolated worker.
        save_spec: also write the spec reproducing this call there (YAML), its inputs (and weights) beside it.

    Returns:
        A `Report`: the document `eqcheck run --json` writes, `.passed`, `.cases`, `.first_divergent`, `.to_json()`,
        `.to_html()`; `print(report)` shows the run's tables.

    Raises:
        EqcheckError: for input the caller can fix (mismatched shapes, an unpaired parameter, a bad option); its text
            is the one paragraph `eqcheck run` prints.
    """
    from eqcheck.backends.targets import parse_targets
    from eqcheck.cases.draws import DEFAULT_SEED
    from eqcheck.execution.settings import RunSettings

    started = time.perf_counter()
    seed = DEFAULT_SEED if seed is None else seed
    kind = _kind(torch_side, mindspore_side)
    arrays, bfloat16 = _named_inputs(inputs)
    labels = {fw: _label(obj, fw, kind) for fw, obj in zip(FRAMEWORKS, (torch_side, mindspore_side))}
    target_list = parse_targets(targets, device)
    settings = RunSettings(paths=(str(save_spec) if save_spec else CALL,), seed=seed, targets=tuple(target_list),
                           threads=threads, grad=grad, error_budget=error_budget, reference=reference,
                           strict_precision=strict_precision, jobs=1 if isolated else 0, timeout=timeout,
                           weights_file=weights_from if weights_from not in ("torch", "mindspore", "draw") else None)
    options = dict(name=name or labels["torch"].replace(":", ".").rsplit(".", 1)[-1], kind=kind, dtypes=dtypes, keywords=keywords,
                   input_dtypes=input_dtypes or {}, weights=weights, unmapped=unmapped, layers=layers, outputs=outputs, mode=mode,
                   tolerance=tolerance, grad_tolerance=grad_tolerance, bfloat16=bfloat16, grad=grad, reference=reference,
                   output=output or {})
    sides = (torch_side, mindspore_side)
    with tempfile.TemporaryDirectory(prefix="eqcheck-compare-") as scratch:
        if save_spec:
            path = Path(save_spec)
            _write_spec(path, sides, arrays, options, weights_from)
        if isolated:
            path = Path(save_spec) if save_spec else Path(scratch) / "compare.yaml"
            if not save_spec:
                _write_spec(path, sides, arrays, options, weights_from)
            results, environment, histograms = _run_isolated(path, settings, sides, weights_from)
        else:
            np.savez(Path(scratch) / "inputs.npz", **arrays)
            document = _spec_document(labels, arrays, str(Path(scratch) / "inputs.npz"), options)
            results, environment, histograms = _run_here(document, settings, sides, labels, weights_from)
    return _report(results, environment, histograms, settings, weights_from, time.perf_counter() - started)


# ---- what the caller handed in -----------------------------------------------------------------------------------


def _is(obj: Any, framework: str) -> bool:
    """A torch.nn.Module / mindspore.nn.Cell instance; a framework not imported yet cannot have made one."""
    module = sys.modules.get(framework)
    if module is None:
        return False
    base = module.nn.Module if framework == "torch" else module.nn.Cell
    return isinstance(obj, base)


def _kind(torch_side: Any, mindspore_side: Any) -> str:
    modules = (_is(torch_side, "torch"), _is(mindspore_side, "mindspore"))
    if all(modules):
        return "model"
    if any(modules):
        held = "torch.nn.Module" if modules[0] else "mindspore.nn.Cell"
        raise EqcheckError(f"one side is a {held} and the other a function: compare a module with a cell, or two functions",
                           file=CALL, field="torch_side" if not modules[0] else "mindspore_side",
                           hint="wrap the function in a module (or call the module inside a function)")
    for field, obj in zip(("torch_side", "mindspore_side"), (torch_side, mindspore_side)):
        if not callable(obj) or isinstance(obj, type):
            raise EqcheckError(f"{type(obj).__name__} is neither a function nor a module instance", file=CALL, field=field,
                               hint="pass an instance (torch.nn.GELU()), not the class")
    return "op"


def _as_array(value: Any, field: str) -> tuple[np.ndarray, str | None]:
    """(numpy values, 'bfloat16' when the tensor was one); torch tensors are detached and copied to the CPU."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.is_tensor(value):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            return value.float().numpy(), "bfloat16"
        return value.numpy(), None
    mindspore = sys.modules.get("mindspore")
    if mindspore is not None and isinstance(value, mindspore.Tensor):
        if value.dtype == mindspore.bfloat16:
            return value.astype(mindspore.float32).asnumpy(), "bfloat16"
        return value.asnumpy(), None
    if isinstance(value, np.ndarray):
        return value, None
    raise EqcheckError(f"{type(value).__name__} is not an array or a tensor", file=CALL, field=field,
                       hint="pass numpy arrays, torch tensors or MindSpore tensors")


def _named_inputs(inputs: Inputs) -> tuple[dict[str, np.ndarray], set[str]]:
    """The inputs by name, and the names the caller handed as bfloat16 tensors (carried as float32 values)."""
    if isinstance(inputs, Mapping):
        items = [(str(k), v) for k, v in inputs.items()]
    elif isinstance(inputs, (list, tuple)):
        items = [(f"x{i}" if len(inputs) > 1 else "x", v) for i, v in enumerate(inputs)]
    else:
        items = [("x", inputs)]
    if not items:
        raise EqcheckError("no inputs: pass at least one array", file=CALL, field="inputs")
    out, bfloat16 = {}, set()
    for key, value in items:
        if not key.isidentifier():
            raise EqcheckError(f"input name '{key}' is not an identifier", file=CALL, field="inputs")
        out[key], bf16 = _as_array(value, f"inputs.{key}")
        if bf16:
            bfloat16.add(key)
    return out, bfloat16


def _public_path(obj: Any, framework: str) -> str | None:
    """The dotted path a spec may name for a framework function (torch.nn.functional.gelu, mindspore.ops.gelu)."""
    from eqcheck.backends.resolve import resolve_dotted
    from eqcheck.spec import allowlist

    leaf = getattr(obj, "__name__", None)
    if not leaf or not leaf.isidentifier():
        return None
    for namespace in allowlist.NAMESPACES:
        if namespace.split(".")[0] != framework:
            continue
        try:
            if resolve_dotted(f"{namespace}.{leaf}") is obj:
                return f"{namespace}.{leaf}"
        except (LookupError, ImportError, AttributeError):
            continue
    return None


def _import_path(obj: Any) -> str | None:
    """module:qualname of a class or function that importing it by that name gives back (else None)."""
    import importlib

    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qualname}" if found is obj else None


def _label(obj: Any, framework: str, kind: str) -> str:
    """What the report calls a side: an importable path where there is one."""
    if kind == "model":
        cls = type(obj)
        return _import_path(cls) or f"{cls.__module__}:{cls.__qualname__}"
    path = _public_path(obj, framework)
    if path:
        return path
    importable = _import_path(obj)
    if importable:
        return importable.replace(":", ".")
    return f"{getattr(obj, '__module__', None) or framework}.{getattr(obj, '__qualname__', type(obj).__name__)}"


# ---- the spec ----------------------------------------------------------------------------------------------------


def _spec_document(labels: dict[str, str], arrays: dict[str, np.ndarray], data_file: str, options: dict) -> dict[str, Any]:
    """The spec mapping of one call, as a YAML file holds it; the inputs' values come from `data_file`."""
    floats = [a for a in arrays.values() if np.issubdtype(a.dtype, np.floating)]
    dtypes = list(options["dtypes"] or ["bfloat16" if options["bfloat16"] else str(floats[0].dtype) if floats else "float32"])
    entries = []
    for key, array in arrays.items():
        entry: dict[str, Any] = {"name": key, "shape": list(array.shape),
                                 "dtype": "float" if np.issubdtype(array.dtype, np.floating) else str(array.dtype),
                                 "file": data_file, "key": key}
        if options["keywords"]:
            entry["keyword"] = True
        for fw in FRAMEWORKS:
            side_dtype = (options["input_dtypes"].get(fw) or {}).get(key)
            if side_dtype:
                entry[fw] = {"name": key, "dtype": side_dtype}
        entries.append(entry)
    section = "model" if options["kind"] == "model" else "op"
    document: dict[str, Any] = {"name": options["name"], "kind": options["kind"], "summary": "written by eqcheck.compare()",
                                "dtypes": dtypes, "mode": options["mode"], "inputs": entries,
                                **{fw: {section: labels[fw], **({"output": _plain(options["output"][fw])}
                                                                if fw in options["output"] else {})} for fw in FRAMEWORKS}}
    for key in ("grad", "reference", "weights", "unmapped", "outputs", "tolerance", "grad_tolerance", "layers"):
        if options[key] not in (None, False):
            document[key] = _plain(options[key])
    return document


def _plain(value: Any) -> Any:
    """Mappings and sequences as the dicts and lists YAML gives the loader."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _parse(document: dict[str, Any], file: str, held: tuple[str, ...]):
    from eqcheck.cases.sweep import check_expands
    from eqcheck.spec import loader

    return check_expands(loader.parse(document, file, held))


# ---- running -------------------------------------------------------------------------------------------------------


def _side_values(obj: Any, framework: str) -> dict[str, np.ndarray]:
    """A module's or cell's parameters and buffers by its own names, as numpy (the shared set with weights_from)."""
    if framework == "torch":
        named = [*obj.named_parameters(), *obj.named_buffers()]
        return {n: (t.detach().cpu().float() if str(t.dtype) == "torch.bfloat16" else t.detach().cpu()).numpy() for n, t in named}
    return {n: p.asnumpy() for n, p in obj.parameters_and_names()}


def _run_here(document: dict, settings, sides: tuple, labels: dict[str, str], weights_from: str):
    """In this process: the runner gets the caller's objects (a deep copy per build) instead of resolving paths."""
    from eqcheck.backends.base import ModelFactory
    from eqcheck.cases.sweep import expand
    from eqcheck.execution.executor import InProcessExecutor
    from eqcheck.execution.runner import CaseRunner
    from eqcheck.execution.sides import Draws

    spec = _parse(document, CALL, FRAMEWORKS)
    cases = settings.apply(expand(spec))
    side_weights = None
    if spec.is_model and weights_from in FRAMEWORKS:
        obj = sides[FRAMEWORKS.index(weights_from)]
        side_weights = (weights_from, f"the {weights_from} {'module' if weights_from == 'torch' else 'cell'}'s own weights",
                        _side_values(obj, weights_from))
    runner = CaseRunner(list(settings.targets), seed=settings.seed, threads=settings.threads,
                        source=Draws(settings.seed, settings.weights_file, side_weights=side_weights))
    for fw, obj in zip(FRAMEWORKS, sides):
        held = ModelFactory(lambda obj=obj, **_: copy.deepcopy(obj), labels[fw]) if spec.is_model else obj
        runner.resolved[(spec.path, fw)] = held
        runner.checked.add((spec.path, fw))
    torch = sys.modules.get("torch")
    threads_before = torch.get_num_threads() if torch is not None else None
    try:
        executor = InProcessExecutor(runner)
        executor.start(cases)
        results = list(executor.run(cases))
    finally:
        if threads_before is not None:  # the backend fixed torch's threads for the run; the caller's session keeps its own
            torch.set_num_threads(threads_before)
    return results, executor.environment(), _histograms(results)


def _histograms(results) -> dict[str, dict]:
    from eqcheck.report.html import histograms_for

    return {r.id: histograms_for(r) for r in results if r.arrays}


def _report(results, environment: dict, histograms: dict, settings, weights_from: str, seconds: float) -> Report:
    from eqcheck.report import document as doc

    report_settings = {**settings.report(), "weights_from": weights_from}
    document = doc.build_document(results, environment=environment, seed=settings.seed, settings=report_settings,
                                  wall_time_s=seconds, complete=True)
    arrays = {r.id: r.arrays for r in results if r.arrays}
    return Report(document, histograms, arrays)


def _run_isolated(path: Path, settings, sides: tuple, weights_from: str):
    """In a worker process, from the spec file: the workers import the sides by path, as `eqcheck run` would."""
    from eqcheck.cases.sweep import expand, load_spec

    modules = [type(obj).__module__ for obj in sides] if all(_is(obj, fw) for fw, obj in zip(FRAMEWORKS, sides)) else []
    with _worker_environment(modules):
        spec = load_spec(path)
        cases = settings.apply(expand(spec))
        executor = settings.make_executor()
        try:
            executor.start(cases)
            results = list(executor.run(cases))
        finally:
            executor.close()
    return results, executor.environment(), _histograms(results)


@contextlib.contextmanager
def _worker_environment(modules: list[str]) -> Iterator[None]:
    """The caller's model modules opted in (it already imported and ran them) and importable in a fresh interpreter
    (their roots on PYTHONPATH), for the workers started inside; the caller's environment is restored after."""
    import importlib

    from eqcheck.spec import allowlist

    saved_path = os.environ.get("PYTHONPATH")
    roots = []
    for name in modules:
        file = getattr(importlib.import_module(name), "__file__", None)
        if file:
            root = Path(file).resolve().parent
            for _ in range(name.count(".") + (Path(file).name == "__init__.py")):
                root = root.parent
            roots.append(str(root))
    with allowlist.environment_kept(allowlist.MODULES_ENV, "PYTHONPATH"):
        if modules:
            allowlist.allow_modules(modules)
            os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([*roots, *filter(None, [saved_path])]))
        yield


# ---- save_spec ------------------------------------------------------------------------------------------------------


def _saved_label(obj: Any, framework: str, kind: str) -> str:
    """The path a spec file names for a side; EqcheckError where a spec cannot name it (then only in-process works)."""
    field = f"{framework}_side"
    if kind == "op":
        path = _public_path(obj, framework)
        if path is None:
            raise EqcheckError(f"{_label(obj, framework, kind)} is not a public {framework} function a spec may name "
                               f"(such as {framework}.nn.functional.gelu)", file=CALL, field=field,
                               hint="save_spec and isolated=True need both sides importable by path; wrap your function in a "
                                    "module (a model pair), or compare in-process")
        return path
    cls = type(obj)
    path = _import_path(cls)
    if path is None:
        raise EqcheckError(f"{cls.__qualname__} cannot be imported by its name (defined in __main__ or a function)",
                           file=CALL, field=field, hint="define the class in an importable module, or compare in-process")
    try:
        fresh = cls()
    except Exception as exc:  # noqa: BLE001 - user code raises anything
        raise EqcheckError(f"{path}() raised {type(exc).__name__}: {exc}; a saved spec builds each side without arguments",
                           file=CALL, field=field, hint="give the class defaults for its arguments, or compare in-process") from None
    shapes = lambda values: {n: a.shape for n, a in values.items()}
    if shapes(_side_values(fresh, framework)) != shapes(_side_values(obj, framework)):
        raise EqcheckError(f"{path}() builds other parameters than the instance given (it was built with arguments)",
                           file=CALL, field=field, hint="give the class defaults that build this instance, or compare in-process")
    return path


def _write_spec(path: Path, sides: tuple, arrays: dict[str, np.ndarray], options: dict, weights_from: str) -> None:
    """The spec reproducing the call, its inputs (and the shared weights) beside it as .npz files, in the one spec style."""
    from eqcheck.spec import writer

    labels = {fw: _saved_label(obj, fw, options["kind"]) for fw, obj in zip(FRAMEWORKS, sides)}
    path.parent.mkdir(parents=True, exist_ok=True)
    inputs_file = path.with_name(f"{path.stem}.inputs.npz")
    document = _spec_document(labels, arrays, inputs_file.name, options)
    if options["kind"] == "model" and weights_from != "draw":
        if weights_from == "torch":
            weights_file = path.with_name(f"{path.stem}.weights.npz")
            np.savez(weights_file, **_canonical_torch_values(sides[0], options["weights"] or {}))
            document["weights_file"] = weights_file.name
        elif weights_from == "mindspore":
            raise EqcheckError("save_spec writes the shared set under the torch side's names; with weights_from='mindspore' "
                               "it cannot name them", file=CALL, field="weights_from",
                               hint="load the cell's values into the torch module first, or use weights_from='torch'")
        else:  # a copy beside the spec: a spec reads data only from its own folder
            import shutil

            copy_to = path.with_name(f"{path.stem}.weights{Path(weights_from).suffix.lower()}")
            shutil.copyfile(weights_from, copy_to)
            document["weights_file"] = copy_to.name
    np.savez(inputs_file, **arrays)
    modules = sorted({label.split(":")[0] for label in labels.values() if ":" in label})
    command = f"eqcheck run {path}" + "".join(f" --allow-module {m}" for m in modules)
    path.write_text(f"# Written by eqcheck.compare(save_spec=...); run: {command}\n" + writer.dump(document), encoding="utf-8")


def _canonical_torch_values(module: Any, weights: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The torch module's values under canonical names: its own names, except explicit `weights=` entries' names."""
    values = _side_values(module, "torch")
    for canonical, sides in weights.items():
        side = sides.get("torch") if isinstance(sides, Mapping) else None
        name = side.get("name") if isinstance(side, Mapping) else side
        if isinstance(side, Mapping) and side.get("transform"):
            raise EqcheckError(f"the torch side of weight '{canonical}' has a layout transform; save_spec writes the torch "
                               "values as they are", file=CALL, field=f"weights.{canonical}.torch",
                               hint="put the transform on the mindspore side")
        if isinstance(name, str) and name in values and name != canonical:
            values[canonical] = values.pop(name)
    return values
