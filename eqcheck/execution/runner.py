"""One case across two targets: build both, load one shared weight set, feed identical inputs, compare every output."""

from __future__ import annotations

import dataclasses
import time
import traceback
from contextlib import nullcontext
from typing import Any, Iterable

import numpy as np

from eqcheck.cases import draws, weights
from eqcheck.backends.base import Backend, ModelFactory, UnsupportedCase
from eqcheck.cases.boundary import Boundary, describe_boundary
from eqcheck.cases.edges import describe_edge
from eqcheck.cases.explore import hash_of
from eqcheck.cases.sweep import Case
from eqcheck.execution import layouts, replay, sides
from eqcheck.execution.checks import determinism, gradients, reference, refusal, stale, state, training
from eqcheck.execution.layers import LayerSession, pair_layers
from eqcheck.execution.trial import Trial
from eqcheck.execution.checks import high_precision, third_opinion  # mpmath for float64; an OpInfo ref where the sides disagree
from eqcheck.verdict import declarations, diagnosis, rounding
from eqcheck.verdict.compare import compare, json_safe
from eqcheck.dtypes import is_float
from eqcheck.errors import EqcheckError, SpecError
from eqcheck.execution.failures import CaseFailure, short_error
from eqcheck.verdict.results import (
    ERROR, FAIL, NONDETERMINISTIC, PASS, UNSUPPORTED, CaseResult, OutputResult,
)
from eqcheck.spec import allowlist, signature
from eqcheck.spec.loader import SAMPLE_INDEX
from eqcheck.spec.model import Literal, OutputSpec, TensorArg
from eqcheck.backends.targets import Target
from eqcheck.execution.trials import combine as combine_trials
from eqcheck.execution.trials import trial_seeds
from eqcheck.execution import optimizer_steps, schedules

# Spec kinds with their own execution path (no module built, no forward call): kind -> a module with
# run(runner, case, result, seed) and attempt(runner, case, target, seed), one side alone (a refusal check)
STEP_PATHS = {"optimizer": optimizer_steps, "schedule": schedules}


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
        self.checked: set[tuple[str, str]] = set()  # keys whose plain spec had its keywords checked
        # The last trial that reached its outputs (inputs, weights, cotangents ...): `eqcheck repro` writes it.
        self.trial: Trial | None = None
        self.layers: LayerSession | None = None  # model specs: this case's layer hooks (execution/layers.py)

    # ---- set-up, once per process -------------------------------------------------------------

    def start(self) -> None:
        """Import the frameworks and select devices; TargetUnavailable if one cannot run here."""
        for target in self.targets:
            self.backends[target.label] = self.source.backend(target, self.threads)

    def healthy(self) -> bool:
        """Every backend still computes right (asked after an error case; see Backend.healthy)."""
        return all(backend.healthy() for backend in self.backends.values())

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
                if key in self.resolved and (case.sample is not None or key in self.checked):
                    continue
                side = case.spec.sides[target.framework]
                field = f"{target.framework}.{'model' if case.spec.is_model else 'op'}"
                if case.sample is None:
                    self.checked.add(key)
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
                    if case.sample is None:  # an explored case's keywords come from its map: a wrong one errs that case
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
            result.expected = declarations.record(expected)
        if case.spec.trains:
            modes = {t.framework: case.spec.side_mode(t.framework) for t in self.targets}
            result.details["mode"] = case.spec.mode if len(set(modes.values())) == 1 else modes
        if case.edge is not None:  # details.edge, or details.boundary for a --boundary variant
            result.details[case.edge.FAMILY] = {"variant": case.edge.name, **describe_edge(case), **describe_boundary(case)}
        if case.sample is not None:  # --explore: the torch sample this case runs, tensors as shape and dtype
            result.details["sample"] = case.sample.describe()
        if case.skipped_edges:  # --edges: the variants the spec opts out, so the report says which and why
            result.details["edges_skipped"] = dict(case.skipped_edges)
        failure: CaseFailure | None = None
        try:
            if case.sample is not None and case.sample.error is not None:  # --explore: an input torch must refuse
                refusal.run_refusal(self, case, result, seed)
            else:
                stale.run_decoy(self, case, seed)  # --boundary stale: the op first runs on other data
                self._run(case, result, seed)
        except EqcheckError as exc:
            if case.sample is None:
                raise
            # an explored sample the spec cannot describe (its weight map, a keyword): that case errs, the run goes on
            result.status, result.message = ERROR, f"the spec cannot run this sample: {exc.paragraph()}"
            for backend in self.backends.values():
                backend.recover()
        except CaseFailure as caught:
            failure = caught
            result.status, result.message = failure.status, failure.message
            if failure.kind:  # the same on every release, whatever its wording (backends/failure_kinds.py)
                result.details["failure_kind"] = failure.kind
            if isinstance(case.edge, Boundary):  # both sides refusing is agreement, one side alone a finding
                refusal.judge(self, case, result, failure, seed)
            elif (case.sample is not None and failure.status == ERROR and failure.target != self.targets[0].label
                  and expected is not None and set(expected.when) - {"dtype"}):
                # a torch sample only the candidate refuses, declared by the sample's own arguments (`when:`):
                # reported as the declared difference; a spec-wide declaration does not cover a refusal
                result.status = FAIL
            elif case.edge is not None and failure.status == ERROR and failure.target == self.targets[0].label:
                # The reference side refuses these inputs (glu over an odd size, BCELoss on NaN): outside the op's
                # domain, so no difference to report; the candidate refusing what the reference accepts stays an error.
                result.status, result.message = UNSUPPORTED, f"the edge variant does not apply: {failure.message}"
            for backend in self.backends.values():
                backend.recover()
        result.duration_s = time.perf_counter() - started
        # A declaration for the plain case that an edge variant does not reproduce is no reason to update the spec.
        # Nor is an explored sample that does not reproduce it (the declaration names the spec's own points, or a
        # class of samples), unless it declares this very sample's refusal or crash (by its hash). Nor is a run where
        # an intermittent difference did not show; a declaration no case matches is listed as stale after the run.
        declared_here = (expected is not None and expected.names_variant(case.edge) and not expected.intermittent
                         and (case.sample is None or (expected.symptom is not None and SAMPLE_INDEX in expected.when)))
        labels = tuple(t.label for t in self.targets)
        refused = (declarations.Failure(declarations.REFUSAL, failure.message)
                   if failure is not None and failure.target != labels[0] else None)
        measured = declarations.failing_rows(result.outputs, result.arrays, labels)
        if declarations.observed(measured, refused) and result.status in (FAIL, ERROR):  # what a fingerprint is written from
            result.details["measured"] = declarations.observed(measured, refused)
        result.status, result.message = declarations.case_status(result.status, result.message, expected, measured, refused,
                                                                 declared_here)
        if case.sample is not None and result.status != PASS:  # the name a declaration gives this sample
            result.details["sample"]["hash"] = hash_of(case)
        if result.status == PASS and expected:
            result.expected = None  # this variant passes: the declaration does not concern it
            if declarations.exercised(expected, result.outputs):  # it applied here: a declaration no such case matches is stale
                result.details["covered_by"] = expected.field
                if expected.intermittent:  # an upgrade diff does not read its pass as a change
                    result.details["covered_intermittent"] = True
        nondeterministic = determinism.nondeterminism_message(result)
        if nondeterministic and result.status != ERROR:
            result.status, result.message = NONDETERMINISTIC, nondeterministic
        return result

    def _run(self, case: Case, result: CaseResult, seed: int) -> None:
        spec = case.spec
        self.source.open(case, seed)
        if self.step_path(case) is not None:
            return self.step_path(case).run(self, case, result, seed)
        inputs = self.source.inputs(case, seed)
        built = {t.label: self.step(t, case, "build", lambda t=t: self.build(t, case, seed)) for t in self.targets}

        params = {}
        for t in self.targets:  # one target per framework defines that framework's parameters
            params.setdefault(t.framework, self.backends[t.label].parameters(built[t.label]))
        # The probe orders modules for the weight map and the layer pairs; with neither, no extra call (a port
        # whose kernel leaves memory unwritten would otherwise show it on the plain case already).
        fired = self.probe(case, built, inputs) if spec.layers or any(params.values()) else {}
        weight_map = weights.bind(case, params, fired)
        result.weights = weight_map.describe()
        canonical = self.source.canonical(case, weight_map, seed)
        self.layers = None
        if spec.layers:
            submodules = {t.framework: self.backends[t.label].submodules(built[t.label]) for t in self.targets}
            self.layers = LayerSession(pair_layers(weight_map, submodules, fired, spec.layer_pairs), tuple(t.label for t in self.targets))

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
            cand = self.targets[1]
            if self.source.extra_calls:  # local verdicts (execution/replay.py); a recorded side cannot run a layer alone
                self.layers.local = replay.replay_layers(self.layers, self.backends[cand.label], built[cand.label], cand.label, case.dtype)
            result.details["layers"] = {"forward": self.layers.report(case, "forward")}
        names = [o.name for o in result.outputs]
        result.arrays = {label: dict(zip(names, (a for _, a in items))) for label, items in flat.items()}
        trial = self.trial = Trial(case, seed, built, params, weight_map, canonical, loaded, inputs, flat)

        if spec.compare_state if spec.compare_state is not None else spec.trains:
            trial.state_rows = state.stateful_weights(weight_map, params)
            self.source.phase("state")  # a recorded side's steps are tagged with their check (backends/recorded.py)
            state.compare_state(self, trial, result)
        if spec.grad:
            self.source.phase("gradient")
            (ref_label, ref), (_, cand) = flat.items()
            if all(a.shape == b.shape for (_, a), (_, b) in zip(ref, cand)):
                trial.cotangents = self.source.cotangents(case, seed, ref)  # seeded, or recorded (execution/sides.py)
                trial.wrt = gradients.differentiable_inputs(self, case)
                gradients.compare_gradients(self, trial, result)
            else:  # one cotangent cannot fit both sides: the forward failure already says why
                result.details["gradients"] = {"status": "skipped", "message": "forward outputs differ in shape"}
        if spec.train is not None:
            self.source.phase("training")
            training.compare_training(self, trial, result)
        if spec.repeat > 1:
            self.source.phase("repeat")
            self._repeat_calls(trial, result)
        if self.source.wants_float64(case, result):  # the error budget: float64 re-runs, when a row failed (or asked)
            self.source.phase("float64")
            reference.judge(self, trial, result)
        if high_precision.wanted(case, result):  # float64 rows of elementwise ops: mpmath at 40 digits
            high_precision.judge(self, trial, result)
        if third_opinion.wanted(self, case, result):  # an OpInfo entry's numpy ref, where the sides disagree
            third_opinion.judge(self, trial, result)
        self._diagnose(case, result, inputs)
        result.status = PASS if all(o.passed for o in result.outputs) else FAIL
        culprits = [f"{section['first_divergent']} ({direction})" for direction, section in result.details.get("layers", {}).items()
                    if section and section.get("first_divergent")]
        if culprits:  # a layer beyond its budget fails the model even when the residual path hides it at the output
            result.status = FAIL
            result.message = f"first layer to deviate: {', '.join(culprits)}"
        stale = self._stale_layers(result, weight_map, built) if spec.is_model else []
        if stale:  # running statistics that differ while every output agrees: name the layers holding them
            note = f"state differs after the call in {', '.join(stale)}"
            result.status = FAIL
            result.message = f"{result.message}; {note}" if result.message else note
        diverged = (result.details.get("training") or {}).get("first_divergent")
        if diverged:
            note = f"parameters differ after optimizer step {diverged['step']}, first in {diverged['weight']}"
            result.message = f"{result.message}; {note}" if result.message else note

    def _stale_layers(self, result: CaseResult, weight_map, built) -> list[str]:
        """'bn1 (BatchNorm2d): running_mean, running_var' for each layer whose buffers failed their state rows."""
        ref = self.targets[0]
        kinds = self.backends[ref.label].submodules(built[ref.label])
        by_name = {w.name: w for w in weight_map.weights}
        layers: dict[str, list[str]] = {}
        for out in result.outputs:
            weight = by_name.get(out.name.removeprefix("state:")) if out.kind == "state" else None
            if weight is None or out.passed or ref.framework not in weight.sides:
                continue
            module, _, leaf = weight.sides[ref.framework].param.rpartition(".")
            layers.setdefault(module, []).append(leaf)
        return [f"{m or 'the model'}{f' ({kinds[m]})' if m in kinds else ''}: {', '.join(leaves)}" for m, leaves in layers.items()]

    def map_case(self, case: Case) -> dict[str, Any]:
        """`eqcheck map`: build both sides and bind the weight map (SpecError if it cannot); only the probe call runs."""
        try:
            built = {t.label: self.build(t, case) for t in self.targets}
        except CaseFailure as failure:  # a user factory that raised: one paragraph naming it
            field = f"{next(t.framework for t in self.targets if t.label == failure.target)}.model" if failure.target else None
            raise SpecError(failure.message, file=case.spec.path, field=field) from None
        params = {}
        for t in self.targets:
            params.setdefault(t.framework, self.backends[t.label].parameters(built[t.label]))
        fired = self.probe(case, built, self.source.inputs(case, self.seed)) if case.spec.is_model else {}
        weight_map = weights.bind(case, params, fired)
        submodules = {t.framework: self.backends[t.label].submodules(built[t.label]) for t in self.targets}
        layers = pair_layers(weight_map, submodules, fired, case.spec.layer_pairs) if case.spec.is_model else []
        return {"weight_map": weight_map, "params": params, "layers": layers, "submodules": submodules, "built": built,
                "probe_failures": dict(getattr(self, "probe_failures", {}))}

    def probe(self, case: Case, built, inputs) -> dict[str, list[tuple[str, list[list[int]]]]]:
        """Model specs: one call per side with hooks on every submodule, before any weight is loaded.

        Per framework, (module path, [input shapes, output shapes]) in the order the hooks fired: the execution order that pairs
        modules (cases/automap.py) and parameter-free layers (execution/layers.py). A side whose probe fails, or
        a recorded side (nothing may be called out of its recorded order), falls back to declaration order.
        """
        if not case.spec.is_model or not self.source.extra_calls:
            return {}
        fired = {}
        self.probe_failures = {}  # framework -> why its probe call failed (`eqcheck map` refuses a map resting on it)
        for t in self.targets:
            backend = self.backends[t.label]
            if t.framework in fired:
                continue
            try:
                watch = backend.watch(built[t.label], list(backend.submodules(built[t.label])))
                try:
                    args, kwargs, _ = self._arguments(case, t, backend, inputs)
                    backend.call(built[t.label], args, kwargs)
                finally:
                    watch.close()
            except Exception as exc:  # noqa: BLE001 - the probe only orders the map; the real call reports what fails
                self.probe_failures[t.framework] = short_error(exc)
                backend.recover()
                continue
            shapes = lambda leaves: [list(np.shape(leaf)) for leaf in leaves or () if isinstance(leaf, np.ndarray)]
            fired[t.framework] = [(path, [shapes(watch.inputs.get(path, [None])[0]), shapes(watch.records[path][0])])
                                  for path, call in watch.order if call == 0]
        return fired

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
            # The NaN/Inf hints only where the compared NaN/Inf patterns differ (the row's own count says so).
            hints = None if out.deviation.nonfinite_mismatch else [h for h in diagnosis.HINTS if h not in diagnosis.NONFINITE_HINTS]
            found = diagnosis.diagnosis_of(result.arrays[labels[0]][out.name], result.arrays[labels[1]][out.name], context, hints)
            out.diagnosis, out.diagnosis_kind, out.diagnosis_side = found.text, found.kind, found.side

    def _repeat_calls(self, trial: Trial, result: CaseResult) -> None:
        """--repeat: call each side again on the same inputs and weights; its outputs must match bit for bit."""
        case, built, loaded, inputs, flat = trial.case, trial.built, trial.loaded, trial.inputs, trial.flat
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

    def step_path(self, case: Case):
        """The module that runs this spec kind instead of a build and a forward call (STEP_PATHS), or None."""
        return STEP_PATHS.get(case.spec.kind)

    def build(self, target: Target, case: Case, seed: int | None = None, obj=None):
        """Build the spec's op for this target (or `obj` in its place: a float64 stand-in, backends/standins)."""
        obj = self.resolved[(case.spec.path, target.framework)] if obj is None else obj
        backend = self.backends[target.label]
        init_args = {k: self.materialize(case, backend, v) for k, v in case.init_args(target.framework).items()}
        try:
            seed = self.seed if seed is None else seed
            built = backend.build(obj, init_args, case.dtype, case.spec.side_mode(target.framework) == "train", seed)
            path = case.spec.sides[target.framework].output
            if path:  # `output:` picks one output of a tuple, dict or ModelOutput; gradients follow the picked one
                pick = lambda fn: (lambda *a, **k: pick_output(fn(*a, **k), path, target.label))
                built = dataclasses.replace(built, fn=pick(built.fn), compiled=pick(built.compiled) if built.compiled else None)
            return built
        except TypeError as exc:
            text = str(exc)
            if ("unexpected keyword argument" in text or "required positional argument" in text) and case.sample is None:
                raise SpecError(f"{case.spec.sides[target.framework].op} rejects these arguments: {text}",
                                file=case.spec.path, field=f"{target.framework}.init") from None
            if isinstance(obj, ModelFactory):
                raise self._factory_failure(obj, target, init_args, exc) from exc
            raise
        except UnsupportedCase:
            raise
        except Exception as exc:  # user code raises anything; one paragraph naming the factory
            if isinstance(obj, ModelFactory):
                raise self._factory_failure(obj, target, init_args, exc) from exc
            raise

    @staticmethod
    def _factory_failure(factory: ModelFactory, target: Target, init_args: dict, exc: Exception) -> CaseFailure:
        where = next((f"{frame.filename}:{frame.lineno}" for frame in reversed(traceback.extract_tb(exc.__traceback__))), "")
        return CaseFailure(ERROR, f"the {target.framework} model factory {factory.path} raised {short_error(exc)}"
                                  f"{f' (at {where})' if where else ''} when called with init {json_safe(init_args)}; "
                                  f"fix the factory or the spec's {target.framework}.init", target.label)

    def watch_layers(self, target: Target, built, direction: str, **options):
        """Layer hooks on this target around a forward or gradient call; nothing for op specs."""
        if self.layers is None:
            return nullcontext()
        return self.layers.watching(self.backends[target.label], built, target.label, direction, **options)

    def step(self, target: Target, case: Case, what: str, action):
        """Run one framework step; its failure becomes the case's status instead of ending the run."""
        try:
            return action()
        except (EqcheckError, CaseFailure):
            raise
        except Exception as exc:  # frameworks raise anything; the report shows it
            backend = self.backends[target.label]
            kernel, kind = backend.missing_kernel(exc), backend.failure_kind(exc, case.dtype)
            if kernel:
                raise CaseFailure(UNSUPPORTED, f"{target.label} has no {kernel} kernel on {backend.device} "
                                               f"(failed to {what}: {short_error(exc)})", target.label, kind) from exc
            raise CaseFailure(backend.classify_failure(exc, case.dtype), f"{target.label} failed to {what}: {short_error(exc)}",
                              target.label, kind) from exc

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
            tensors[inp.name] = self.input_tensor(case, backend, inputs[inp.name], dtype)
            described.append({"name": side.name, "shape": list(inputs[inp.name].shape), "dtype": dtype})
        args, kwargs = self.pack(case, target, tensors)
        return args, kwargs, described

    @staticmethod
    def input_tensor(case: Case, backend: Backend, array: np.ndarray, dtype: str):
        """A shared input as `backend`'s tensor, in the memory layout a --boundary variant asks for."""
        return layouts.place(backend, array, dtype, getattr(case.edge, "layout", None))

    def pack(self, case: Case, target: Target, tensors: dict[str, Any]) -> tuple[list, dict]:
        """This side's (args, kwargs) from tensors by canonical input name: nested args layout, keyword inputs, call args."""
        backend = self.backends[target.label]
        kwargs = {k: self.materialize(case, backend, v) for k, v in case.call_args(target.framework).items()}
        layout = case.spec.sides[target.framework].args
        if layout is None:
            layout = tuple(inp.name for inp in case.spec.inputs if not inp.keyword)
        positional = case.spec.sides[target.framework].positional_names()
        for inp in case.spec.inputs:  # an explored case's layout names the keyword inputs one side takes positionally
            if inp.keyword and inp.name not in positional:
                kwargs[inp.sides[target.framework].name] = tensors[inp.name]

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
        specs = case.output_specs(len(ref))
        if specs and len(specs) != len(ref):
            raise CaseFailure(ERROR, f"the spec names {len(specs)} outputs ({', '.join(o.name for o in specs)}) but "
                                     f"{ref_label} returned {len(ref)}: {structure(ref)}")
        results = []
        for out_spec, (path, a), (_, b) in zip(self.forward_names(case, len(ref), [p for p, _ in ref]), ref, cand):
            name, ignored = out_spec.name, out_spec.ignore
            deviation = None if ignored else compare(a, b, row_tolerance(case, name))
            results.append(OutputResult(name, list(a.shape), {ref_label: str(a.dtype), cand_label: str(b.dtype)}, deviation, ignored))
        return results

    @staticmethod
    def forward_names(case: Case, count: int, paths: list[str] | None = None) -> list[OutputSpec]:
        """The row of each flattened output: the spec's named outputs, else out, out.0, out.1.h ... by path."""
        if specs := case.output_specs(count):
            return list(specs[:count])
        paths = paths or (["out"] if count == 1 else [f"out.{i}" for i in range(count)])
        return [OutputSpec(path) for path in paths]


def row_tolerance(case: Case, name: str):
    """A forward row's tolerance: the spec's, else the dtype's table -- except an elementwise op below float64 with no
    tolerance of its own in the spec, judged in ulps (verdict/rounding.py): a row further apart than ULP_THRESHOLD
    ulps goes to its float64 re-runs, where each side is measured against float64."""
    spec = case.spec
    own = case.dtype in spec.tolerance or any(o.name == name and case.dtype in o.tolerance for o in spec.outputs)
    if own or not is_float(case.dtype) or reference.structure_of(case) != "elementwise":
        return case.tolerance(name)
    if case.dtype == "float64" and high_precision.entry(case) is None:  # no wider reference to judge ulps against
        return case.tolerance(name)
    return rounding.elementwise_tolerance(case.dtype)


def pick_output(value: Any, path: tuple, label: str) -> Any:
    """The part of a model's return value that `output:` names: an index into a tuple/list, a key of a dict or ModelOutput."""
    for depth, part in enumerate(path):
        where = "".join(f"[{p!r}]" for p in path[:depth])
        if isinstance(part, int) and isinstance(value, (tuple, list)) and -len(value) <= part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            value = value[part]  # a Hugging Face ModelOutput is a dict holding its non-None fields
        elif isinstance(part, str) and not isinstance(value, dict) and hasattr(value, part):
            value = getattr(value, part)
        else:
            has = f"keys {', '.join(map(str, value))}" if isinstance(value, dict) else (
                f"{len(value)} items" if isinstance(value, (tuple, list)) else "no parts")
            raise CaseFailure(ERROR, f"{label} returned {type(value).__name__}{where} ({has}): output {part!r} is not in it; "
                                     f"fix the spec's output:", label)
    return value
