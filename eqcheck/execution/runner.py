"""One case across two targets: build both, load one shared weight set, feed identical inputs, compare every output."""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any, Iterable

import numpy as np

from eqcheck.cases import draws, weights
from eqcheck.backends.base import Backend, ModelFactory
from eqcheck.cases.edges import describe_edge
from eqcheck.cases.sweep import Case
from eqcheck.execution import sides
from eqcheck.execution.checks import determinism, gradients, reference, state, training
from eqcheck.execution.layers import LayerSession, pair_layers
from eqcheck.verdict import diagnosis
from eqcheck.verdict.compare import compare, json_safe
from eqcheck.dtypes import is_float
from eqcheck.errors import EqcheckError, SpecError
from eqcheck.execution.failures import CaseFailure, short_error
from eqcheck.verdict.results import (
    ERROR, EXPECTED_DIFFERENCE, FAIL, NONDETERMINISTIC, PASS, UNEXPECTED_PASS, UNSUPPORTED, CaseResult, OutputResult,
)
from eqcheck.spec import allowlist, signature
from eqcheck.spec.model import Literal, OutputSpec, TensorArg
from eqcheck.backends.targets import Target
from eqcheck.execution.trials import combine as combine_trials
from eqcheck.execution.trials import trial_seeds
from eqcheck.execution import optimizer_steps, schedules

# Spec kinds with their own execution path (no module built, no forward call): kind -> run(runner, case, result, seed)
STEP_PATHS = {"optimizer": optimizer_steps.run_optimizer, "schedule": schedules.run_schedule}


class CaseRunner:
    def __init__(self, targets: list[Target], seed: int = draws.DEFAULT_SEED, weights_file: str | None = None, threads: int = 1,
                 source: sides.Draws | None = None):
        self.threads = threads
        self.targets = targets
        self.seed = seed
        self.weights_file = weights_file
        # inputs, weights, cotangents and the backends: seeded draws, or a side recorded to/from a folder (sides.py)
        self.source = source or sides.source_for(targets, seed, weights_file)
        self.backends: dict[str, Backend] = {}
        self.resolved: dict[tuple[str, str], Any] = {}
        # What the last case ran on (inputs, canonical weights, side arrays, cotangents): `eqcheck repro` saves it.
        self.materials: dict[str, Any] | None = None
        self.layers: LayerSession | None = None  # model specs: this case's layer hooks (execution/layers.py)

    # ---- set-up, once per process -------------------------------------------------------------

    def start(self) -> None:
        """Import the frameworks and select devices; TargetUnavailable if one cannot run here."""
        for target in self.targets:
            self.backends[target.label] = self.source.backend(target, self.threads)

    def environment(self) -> dict[str, Any]:
        versions, devices = {}, {}
        for label, backend in self.backends.items():
            versions.update(backend.versions())
            devices[label] = backend.devices()
        return {"versions": versions, "devices": devices, "targets": [t.label for t in self.targets], **self.source.environment()}

    def preflight(self, cases: Iterable[Case]) -> None:
        """Resolve every dotted path before any case runs, so a typo is exit 2 with nothing run."""
        for case in cases:
            for target in self.targets:
                key = (case.spec.path, target.framework)
                if key in self.resolved:
                    continue
                side = case.spec.sides[target.framework]
                field = f"{target.framework}.{'model' if case.spec.is_model else 'op'}"
                try:
                    self.resolved[key] = self.backends[target.label].resolve(side.op)
                except (LookupError, ImportError) as exc:
                    raise SpecError(f"cannot resolve '{side.op}': {exc}", file=case.spec.path, field=field) from None
                except Exception as exc:  # noqa: BLE001 - importing user code runs it; its error is the user's to fix
                    raise SpecError(f"importing '{side.op}' failed: {short_error(exc)}", file=case.spec.path, field=field) from None
                if case.spec.is_model:
                    allowlist.check_resolved_model(side.op, self.resolved[key], case.spec.path, field)
                    self.resolved[key] = ModelFactory(self.resolved[key], side.op)
                else:
                    allowlist.check_resolved(side.op, self.resolved[key], case.spec.path, field)
                    signature.check_keywords(case.spec, target.framework, *self.backends[target.label].signatures(self.resolved[key]))

    # ---- one case -------------------------------------------------------------------------------

    def run(self, case: Case) -> CaseResult:
        """One case; with `trials: N` (or --trials) N seeds, keeping the worst trial and the spread."""
        try:
            if case.spec.trials <= 1:
                return self._run_trial(case, self.seed)
            seeds = trial_seeds(self.seed, case.spec.trials)
            return combine_trials([self._run_trial(case, seed) for seed in seeds], seeds)
        finally:
            self.source.close(case)

    def _run_trial(self, case: Case, seed: int) -> CaseResult:
        started = time.perf_counter()
        result = CaseResult(id=case.id, spec=case.spec.path, status=PASS, targets=[t.label for t in self.targets])
        expected = case.expected_difference
        if len({t.framework for t in self.targets}) == 1:
            expected = None  # one framework across modes or devices: a declared torch/MindSpore difference does not apply
        if expected:
            result.expected = {"reason": expected.reason, "link": expected.link}
        if case.spec.trains:
            modes = {t.framework: case.spec.side_mode(t.framework) for t in self.targets}
            result.details["mode"] = case.spec.mode if len(set(modes.values())) == 1 else modes
        if case.edge is not None:
            result.details["edge"] = {"variant": case.edge.name, **describe_edge(case)}
        if case.skipped_edges:  # --edges: the variants the spec opts out, so the report says which and why
            result.details["edges_skipped"] = dict(case.skipped_edges)
        try:
            self._run(case, result, seed)
        except CaseFailure as failure:
            result.status, result.message = failure.status, failure.message
            if case.edge is not None and failure.status == ERROR and failure.target == self.targets[0].label:
                # The reference side refuses these inputs (glu over an odd size, BCELoss on NaN): outside the op's
                # domain, so no difference to report; the candidate refusing what the reference accepts stays an error.
                result.status, result.message = UNSUPPORTED, f"the edge variant does not apply: {failure.message}"
            for backend in self.backends.values():
                backend.recover()
        result.duration_s = time.perf_counter() - started
        # A declaration for the plain case that an edge variant does not reproduce is no reason to update the spec.
        declared_here = expected is not None and expected.edge == (case.edge.kind if case.edge else None)
        if result.status in (PASS, FAIL) and expected and (result.status == FAIL or declared_here):
            result.status = EXPECTED_DIFFERENCE if result.status == FAIL else UNEXPECTED_PASS
            if result.status == UNEXPECTED_PASS:
                result.message = f"declared as differing ({expected.reason}), but every output passed: update the spec"
        if result.status == PASS and expected:
            result.expected = None  # this variant passes: the declaration does not concern it
        nondeterministic = determinism.nondeterminism_message(result)
        if nondeterministic and result.status != ERROR:
            result.status, result.message = NONDETERMINISTIC, nondeterministic
        return result

    def _run(self, case: Case, result: CaseResult, seed: int) -> None:
        spec = case.spec
        self.source.open(case, seed)
        if spec.kind in STEP_PATHS:
            return STEP_PATHS[spec.kind](self, case, result, seed)
        inputs = self.source.inputs(case, seed)
        built = {t.label: self.step(t, case, "build", lambda t=t: self.build(t, case, seed)) for t in self.targets}

        params = {}
        for t in self.targets:  # one target per framework defines that framework's parameters
            params.setdefault(t.framework, self.backends[t.label].parameters(built[t.label]))
        weight_map = weights.bind(case, params)
        result.weights = weight_map.describe()
        canonical = self.source.canonical(case, weight_map, seed)
        self.layers = None
        if spec.layers:
            submodules = {t.framework: self.backends[t.label].submodules(built[t.label]) for t in self.targets}
            self.layers = LayerSession(pair_layers(weight_map, submodules), tuple(t.label for t in self.targets))

        raw_outputs, loaded = {}, {}
        for t in self.targets:
            backend = self.backends[t.label]
            side_arrays = loaded[t.label] = {
                name: array.astype(params[t.framework][name].default.dtype, copy=False)
                for name, array in weight_map.to_side(t.framework, canonical).items()
            }
            self.step(t, case, "load weights", lambda: backend.load(built[t.label], side_arrays))
            self.verify_loaded(t, backend.read(built[t.label]), side_arrays)
            args, kwargs, described = self._arguments(case, t, backend, inputs)
            result.sides[t.label] = {
                "op": spec.sides[t.framework].op,
                "init": json_safe(case.init_args(t.framework)),
                "call": json_safe(case.call_args(t.framework)),
                "inputs": described,
            }
            with self.watch_layers(t, built[t.label], "forward"):
                raw_outputs[t.label] = self.step(t, case, "call", lambda: backend.call(built[t.label], args, kwargs))

        # Reading outputs is part of the call: MindSpore runs kernels asynchronously and raises here.
        flat = {
            t.label: self.step(t, case, "call", lambda t=t: self.flatten(self.backends[t.label], raw_outputs[t.label], t.label))
            for t in self.targets
        }
        result.outputs = self._compare(case, flat)
        if self.layers is not None:
            result.details["layers"] = {"forward": self.layers.report(case, "forward")}
        names = [o.name for o in result.outputs]
        result.arrays = {label: dict(zip(names, (a for _, a in items))) for label, items in flat.items()}
        self.materials = {"case": case, "seed": seed, "inputs": inputs, "canonical": canonical, "weight_map": weight_map,
                          "loaded": loaded, "params": params, "cotangents": None, "wrt": []}

        state_rows = None
        if spec.compare_state if spec.compare_state is not None else spec.trains:
            state_rows = state.stateful_weights(weight_map, params)
            self.source.phase("state")  # a recorded side's steps are tagged with their check (backends/recorded.py)
            state.compare_state(self, case, result, built, weight_map, params)
        if spec.grad:
            self.source.phase("gradient")
            (ref_label, ref), (_, cand) = flat.items()
            if all(a.shape == b.shape for (_, a), (_, b) in zip(ref, cand)):
                gradients.compare_gradients(self, case, result, seed, built, weight_map, loaded, inputs, flat)
            else:  # one cotangent cannot fit both sides: the forward failure already says why
                result.details["gradients"] = {"status": "skipped", "message": "forward outputs differ in shape"}
        if spec.train is not None:
            self.source.phase("training")
            training.compare_training(self, case, result, seed, built, weight_map, loaded, inputs, flat)
        if spec.repeat > 1:
            self.source.phase("repeat")
            self._repeat_calls(case, result, built, loaded, inputs, flat)
        if self.source.wants_float64(case, result):  # the error budget: float64 re-runs, when a row failed (or asked)
            self.source.phase("float64")
            reference.judge(self, case, result, seed, weight_map, canonical, inputs, state_rows)
        self._diagnose(case, result, inputs)
        result.status = PASS if all(o.passed for o in result.outputs) else FAIL
        culprits = [f"{section['first_divergent']} ({direction})" for direction, section in result.details.get("layers", {}).items()
                    if section and section.get("first_divergent")]
        if culprits:  # a layer beyond its budget fails the model even when the residual path hides it at the output
            result.status = FAIL
            result.message = f"first layer to deviate: {', '.join(culprits)}"
        diverged = (result.details.get("training") or {}).get("first_divergent")
        if diverged:
            note = f"parameters differ after optimizer step {diverged['step']}, first in {diverged['weight']}"
            result.message = f"{result.message}; {note}" if result.message else note

    def map_case(self, case: Case) -> dict[str, Any]:
        """`eqcheck map`: build both sides and bind the weight map (SpecError if it cannot), run nothing."""
        built = {t.label: self.build(t, case) for t in self.targets}
        params = {}
        for t in self.targets:
            params.setdefault(t.framework, self.backends[t.label].parameters(built[t.label]))
        weight_map = weights.bind(case, params)
        submodules = {t.framework: self.backends[t.label].submodules(built[t.label]) for t in self.targets}
        return {"weight_map": weight_map, "params": params, "layers": pair_layers(weight_map, submodules) if case.spec.is_model else [],
                "submodules": submodules, "built": built}

    def export(self, case: Case, target: Target, path: str) -> weights.WeightMap:
        """Load the shared set (--weights, or the seeded draw) into `target`'s model, prove it took, save its checkpoint."""
        proposal = self.map_case(case)
        weight_map, params, built = proposal["weight_map"], proposal["params"], proposal["built"][target.label]
        backend = self.backends[target.label]
        side_arrays = {name: array.astype(params[target.framework][name].default.dtype, copy=False)
                       for name, array in weight_map.to_side(target.framework, self.source.canonical(case, weight_map, self.seed)).items()}
        backend.load(built, side_arrays)
        try:
            self.verify_loaded(target, backend.read(built), side_arrays)
        except CaseFailure as failure:
            raise EqcheckError(failure.message, file=path) from None
        backend.save(built, path)
        return weight_map

    def _diagnose(self, case: Case, result: CaseResult, inputs: dict[str, np.ndarray]) -> None:
        """A diagnosis line for every failing row, from both sides' arrays and the case's inputs."""
        labels = tuple(t.label for t in self.targets)
        for out in result.outputs:
            if out.deviation is None or out.passed or out.name not in result.arrays.get(labels[0], {}):
                continue
            context = diagnosis.Context(out.name, out.kind, labels, case.dtype, inputs)
            out.diagnosis = diagnosis.diagnose(result.arrays[labels[0]][out.name], result.arrays[labels[1]][out.name], context)

    def _repeat_calls(self, case: Case, result: CaseResult, built, loaded, inputs, flat) -> None:
        """--repeat: call each side again on the same inputs and weights; its outputs must match bit for bit."""
        for t in self.targets:
            backend = self.backends[t.label]

            def again(t=t, backend=backend):
                self.step(t, case, "load weights", lambda: backend.load(built[t.label], loaded[t.label]))
                args, kwargs, _ = self._arguments(case, t, backend, inputs)
                value = self.step(t, case, "call", lambda: backend.call(built[t.label], args, kwargs))
                return self.step(t, case, "call", lambda: self.flatten(backend, value, t.label))

            determinism.check_repeats(result, t.label, "output", flat[t.label], again, case.spec.repeat)

    # ---- beyond forward outputs: state, gradients, float64 attribution ----------------------------

    def row(self, name: str, kind: str, a: np.ndarray, b: np.ndarray, tolerance, ignored: str | None = None) -> OutputResult:
        (ref_label, cand_label) = (t.label for t in self.targets)
        deviation = None if ignored else compare(a, b, tolerance)
        return OutputResult(name, list(a.shape), {ref_label: str(a.dtype), cand_label: str(b.dtype)}, deviation, ignored, kind=kind)

    def add_rows(self, result: CaseResult, rows: list[tuple[OutputResult, np.ndarray, np.ndarray]]) -> None:
        for row, a, b in rows:
            result.outputs.append(row)
            for label, array in zip((t.label for t in self.targets), (a, b)):
                result.arrays.setdefault(label, {})[row.name] = array

    def build(self, target: Target, case: Case, seed: int | None = None):
        obj = self.resolved[(case.spec.path, target.framework)]
        backend = self.backends[target.label]
        init_args = {k: self.materialize(case, backend, v) for k, v in case.init_args(target.framework).items()}
        try:
            seed = self.seed if seed is None else seed
            return backend.build(obj, init_args, case.dtype, case.spec.side_mode(target.framework) == "train", seed)
        except TypeError as exc:
            text = str(exc)
            if "unexpected keyword argument" in text or "required positional argument" in text:
                raise SpecError(f"{case.spec.sides[target.framework].op} rejects these arguments: {text}",
                                file=case.spec.path, field=f"{target.framework}.init") from None
            raise

    def watch_layers(self, target: Target, built, direction: str):
        """Layer hooks on this target around a forward or gradient call; nothing for op specs."""
        if self.layers is None:
            return nullcontext()
        return self.layers.watching(self.backends[target.label], built, target.label, direction)

    def step(self, target: Target, case: Case, what: str, action):
        """Run one framework step; its failure becomes the case's status instead of ending the run."""
        try:
            return action()
        except (EqcheckError, CaseFailure):
            raise
        except Exception as exc:  # noqa: BLE001 - frameworks raise anything; the report shows it
            backend = self.backends[target.label]
            kernel = backend.missing_kernel(exc)
            if kernel:
                raise CaseFailure(UNSUPPORTED, f"{target.label} has no {kernel} kernel on {backend.device} "
                                               f"(failed to {what}: {short_error(exc)})", target.label) from exc
            raise CaseFailure(backend.classify_failure(exc, case.dtype), f"{target.label} failed to {what}: {short_error(exc)}",
                              target.label) from exc

    def verify_loaded(self, target: Target, readback: dict[str, np.ndarray], loaded: dict[str, np.ndarray]) -> None:
        """The read-back proof: every loaded parameter holds exactly the shared value (a CaseFailure if not)."""
        for name, array in loaded.items():
            if not np.array_equal(readback[name], array, equal_nan=True):
                raise CaseFailure(ERROR, f"{target.label} parameter '{name}' did not take the shared value after loading")

    def _arguments(self, case: Case, target: Target, backend: Backend, inputs: dict[str, np.ndarray]):
        described, tensors = [], {}
        for inp in case.spec.inputs:
            side = inp.sides[target.framework]
            dtype = case.input_dtype(inp, target.framework)
            tensors[inp.name] = backend.tensor(inputs[inp.name], dtype)
            described.append({"name": side.name, "shape": list(inputs[inp.name].shape), "dtype": dtype})
        args, kwargs = self.pack(case, target, tensors)
        return args, kwargs, described

    def pack(self, case: Case, target: Target, tensors: dict[str, Any]) -> tuple[list, dict]:
        """This side's (args, kwargs) from tensors by canonical input name: nested args layout, keyword inputs, call args."""
        backend = self.backends[target.label]
        kwargs = {k: self.materialize(case, backend, v) for k, v in case.call_args(target.framework).items()}
        for inp in case.spec.inputs:
            if inp.keyword:
                kwargs[inp.sides[target.framework].name] = tensors[inp.name]
        layout = case.spec.sides[target.framework].args
        if layout is None:
            layout = tuple(inp.name for inp in case.spec.inputs if not inp.keyword)

        def pack(node):
            if isinstance(node, tuple):
                return tuple(pack(n) for n in node)
            if isinstance(node, Literal):
                return case.resolve(node.value, f"{target.framework}.args")
            return tensors[node]

        return list(pack(layout)), kwargs

    @staticmethod
    def materialize(case: Case, backend: Backend, value: Any) -> Any:
        """A resolved init/call value for `backend`: a tensor argument becomes the framework's tensor."""
        if isinstance(value, TensorArg):
            dtype = case.tensor_dtype(value)
            return backend.tensor(draws.cast(np.asarray(value.values, dtype=np.float64 if is_float(dtype) else None), dtype), dtype)
        return value

    def flatten(self, backend: Backend, value: Any, label: str, path: str = "out") -> list[tuple[str, np.ndarray]]:
        if backend.is_tensor(value):
            return [(path, backend.to_numpy(value))]
        if isinstance(value, (tuple, list)):
            return [item for i, v in enumerate(value) for item in self.flatten(backend, v, label, f"{path}.{i}")]
        if isinstance(value, dict):
            return [item for k, v in value.items() for item in self.flatten(backend, v, label, f"{path}.{k}")]
        if isinstance(value, (int, float, bool, np.ndarray, np.generic)):
            return [(path, np.asarray(value))]
        raise CaseFailure(ERROR, f"{label} returned {type(value).__name__} at {path}, which is not a tensor")

    def _compare(self, case: Case, flat: dict[str, list[tuple[str, np.ndarray]]]) -> list[OutputResult]:
        (ref_label, ref), (cand_label, cand) = flat.items()
        structure = lambda items: ", ".join(f"{p} {list(a.shape)}" for p, a in items) or "nothing"
        if [p for p, _ in ref] != [p for p, _ in cand]:
            raise CaseFailure(ERROR, f"the outputs differ in structure: {ref_label} returned {structure(ref)}; "
                                     f"{cand_label} returned {structure(cand)}")
        specs = case.spec.outputs
        if specs and len(specs) != len(ref):
            raise CaseFailure(ERROR, f"the spec names {len(specs)} outputs ({', '.join(o.name for o in specs)}) but "
                                     f"{ref_label} returned {len(ref)}: {structure(ref)}")
        results = []
        for out_spec, (path, a), (_, b) in zip(self.forward_names(case, len(ref), [p for p, _ in ref]), ref, cand):
            name, ignored = out_spec.name, out_spec.ignore
            deviation = None if ignored else compare(a, b, case.tolerance(name))
            results.append(OutputResult(name, list(a.shape), {ref_label: str(a.dtype), cand_label: str(b.dtype)}, deviation, ignored))
        return results

    @staticmethod
    def forward_names(case: Case, count: int, paths: list[str] | None = None) -> list[OutputSpec]:
        """The row of each flattened output: the spec's named outputs, else out, out.0, out.1.h ... by path."""
        if case.spec.outputs:
            return list(case.spec.outputs[:count])
        paths = paths or (["out"] if count == 1 else [f"out.{i}" for i in range(count)])
        return [OutputSpec(path) for path in paths]
