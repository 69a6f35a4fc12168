"""Where a case's inputs, weights and cotangents come from, and which backend serves each target.

- `Draws`: seeded draws (or a --weights file) and the real backends: every ordinary run.
- `ExportSide` (--export-side DIR): draws as usual, runs one real side and records every step it takes
  (backends/recorded.py), plus the inputs, canonical weights and cotangents, one compressed .npz per case in
  DIR/cases/. The second target is a *mirror* replaying that record in the same run, so the export's own report
  is a self-check of the record (every deviation 0). The CLI writes DIR/manifest.json when the run completes.
- `AgainstSide` (--against DIR): the inputs, weights and cotangents come from DIR, and the recorded side answers
  from its record; the other side runs here for real. The runner and the reports cannot tell the difference.

`check_against` refuses (exit 2, naming the file and field) a folder recorded with other specs, seed, settings
or eqcheck version.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from eqcheck import __version__
from eqcheck.backends import TARGETS, backend_class
from eqcheck.backends.base import Backend
from eqcheck.backends.recorded import RecordingBackend, ReplayBackend, SideRecord, write_atomic
from eqcheck.backends.targets import Target, parse_targets
from eqcheck.cases import draws, weights
from eqcheck.cases.sweep import Case
from eqcheck.errors import EqcheckError, TargetUnavailable, WeightsError
from eqcheck.dtypes import is_float
from eqcheck.execution.checks import reference
from eqcheck.execution.failures import CaseFailure
from eqcheck.verdict.results import ERROR

MANIFEST = "manifest.json"
FORMAT = 2  # 2: each recorded step names the runner's check it belongs to


def real_backend(target: Target, threads: int) -> Backend:
    try:
        backend = backend_class(target.name)(target.device, threads)
    except ImportError as exc:
        raise TargetUnavailable(f"cannot import {target.framework} ({exc})", field="--targets",
                                hint=f"install {target.framework} in this environment") from None
    backend.activate()
    return backend


class Draws:
    """Seeded inputs, weights (or the --weights file) and cotangents; the real backends."""

    # Calls beyond a trial's recorded sequence (a probe, a decoy, a layer alone, an OpInfo ref on the torch side)
    # are possible: no side is recorded or replayed.
    extra_calls = True

    def __init__(self, seed: int, weights_file: str | None = None):
        self.seed = seed
        self.weights_file = weights_file
        self._weights_file_arrays = weights.read_weights_file(weights_file) if weights_file else None

    def backend(self, target: Target, threads: int) -> Backend:
        return real_backend(target, threads)

    def open(self, case: Case, seed: int) -> None:
        """A case's trial starts."""

    def close(self, case: Case) -> None:
        """A case (all its trials) is done."""

    def phase(self, check: str) -> None:
        """The runner starts one of a trial's checks (state, gradient, training, repeat, float64; forward at open)."""

    def environment(self) -> dict[str, Any]:
        return {}

    def inputs(self, case: Case, seed: int) -> dict[str, np.ndarray]:
        return draws.make_inputs(case, seed)

    def canonical(self, case: Case, weight_map: weights.WeightMap, seed: int) -> dict[str, np.ndarray]:
        if self._weights_file_arrays is not None:
            return weights.check_weights_file(weight_map, self._weights_file_arrays, self.weights_file, case.id, case.dtype)
        return weights.generate(weight_map, draws.case_rng(seed, case.id, "weights"), case.dtype)

    def cotangents(self, case: Case, seed: int, outputs: list[tuple[str, np.ndarray]]) -> list[np.ndarray | None]:
        """One per output of the reference side (`outputs`, flattened)."""
        return draws.cotangents(case, seed, outputs)

    def wants_float64(self, case: Case, result) -> bool:
        """Does this case re-run in float64 (checks/reference.py: a failing row, --reference, --strict-precision)."""
        return reference.wanted(case, result)


class ExportSide(Draws):
    """--export-side: record the real side and its materials; the mirror target replays the record (module docstring)."""

    extra_calls = False

    def __init__(self, seed: int, weights_file: str | None, folder: str | None):
        super().__init__(seed, weights_file)
        self.folder = Path(folder) if folder else None  # None: keep each case's record in `recorded` (Ray)
        self.record = SideRecord()
        self.recorded: dict[str, bytes] = {}
        self._recording: Backend | None = None

    def backend(self, target: Target, threads: int) -> Backend:
        if target.side == "mirror":
            real = self._recording
            return ReplayBackend(self.record, target.framework, target.name, target.device, real.versions(), real.devices())
        self._recording = RecordingBackend(real_backend(target, threads), self.record)
        return self._recording

    def phase(self, check: str) -> None:
        self.record.phase = check  # tags each step recorded or replayed (backends/recorded.py)

    def open(self, case: Case, seed: int) -> None:
        self.record.open(case.id, seed)

    def close(self, case: Case) -> None:
        if self.record.case_id == case.id and self.folder is None:
            self.recorded[case.id] = self.record.dumps()
        elif self.record.case_id == case.id:
            cases = self.folder / "cases"
            cases.mkdir(parents=True, exist_ok=True)
            self.record.save(cases / case_file(case.id))

    def wants_float64(self, case: Case, result) -> bool:
        # Whether the error budget re-runs a case in float64 depends on the other side, unknown here: record the
        # float64 run of every case that could need one (a replay that does not need it never reads it).
        return is_float(case.dtype) and case.dtype != "float64"

    def _keep(self, kind: str, value):
        self.record.current["materials"][kind] = value
        return value

    def inputs(self, case, seed):
        return self._keep("inputs", super().inputs(case, seed))

    def canonical(self, case, weight_map, seed):
        return self._keep("weights", super().canonical(case, weight_map, seed))

    def cotangents(self, case, seed, outputs):
        return self._keep("cotangents", super().cotangents(case, seed, outputs))


class AgainstSide(Draws):
    """--against: materials and the recorded side's steps from the folder; the other side runs here (module docstring)."""

    extra_calls = False

    def __init__(self, seed: int, folder: str | None, manifest: dict | None = None):
        super().__init__(seed)
        # folder None: records arrive in memory (`records`, case id -> bytes) with a manifest of target and environment
        self.folder = Path(folder) if folder else None
        self.manifest = manifest or read_manifest(folder)
        self.record = SideRecord()
        self.records: dict[str, bytes] = {}

    def backend(self, target: Target, threads: int) -> Backend:
        if target.side != "replay":
            return real_backend(target, threads)
        recorded = self.manifest["target"]
        return ReplayBackend(self.record, target.framework, target.name, target.device,
                             self.manifest["environment"].get("versions", {}),
                             self.manifest["environment"].get("devices", {}).get(recorded["label"], []))

    def environment(self) -> dict[str, Any]:
        if self.folder is None:
            return {}
        return {"recorded_side": {"folder": str(self.folder), "target": self.manifest["target"]["label"],
                                  **self.manifest["environment"]}}

    def phase(self, check: str) -> None:
        self.record.phase = check  # tags each step recorded or replayed (backends/recorded.py)

    def open(self, case: Case, seed: int) -> None:
        if self.record.case_id != case.id:
            source = self.records.get(case.id) if self.folder is None else self.folder / "cases" / self.manifest["cases"][case.id]
            try:
                if source is None:
                    raise KeyError(f"no record of {case.id} arrived")
                self.record.load(source)
            except Exception as exc:  # noqa: BLE001 - a truncated or foreign file (zip, zlib, JSON errors): this case's error
                self.record.case_id = None
                raise CaseFailure(ERROR, f"cannot read the recorded side of this case ({source if self.folder else 'memory'}): "
                                         f"{type(exc).__name__}: {exc}") from None
        if seed not in self.record.trials:
            raise CaseFailure(ERROR, f"{self.folder} holds no trial with seed {seed} for this case")
        self.record.open(case.id, seed)

    def _recorded(self, kind: str):
        return self.record.current["materials"][kind]

    def inputs(self, case, seed):
        return self._recorded("inputs")

    def canonical(self, case, weight_map, seed):
        path = self.folder / "cases" / self.manifest["cases"][case.id] if self.folder else "the recorded side"
        recorded = self._recorded("weights")
        framework = self.manifest["target"]["framework"]
        unshared = [w.name for w in weight_map.weights if w.name not in recorded and framework not in w.sides]
        if unshared:  # parameters only this side has (unmapped with an init): the seeded draw, as in one process
            drawn = super().canonical(case, weight_map, seed)  # shared weights come first in the map: same stream
            recorded = {**recorded, **{name: drawn[name] for name in unshared}}
        try:
            return weights.check_weights_file(weight_map, recorded, str(path), case.id, case.dtype)
        except WeightsError as exc:
            raise CaseFailure(ERROR, f"the recorded weights ({path}) {exc.reason}") from None

    def cotangents(self, case, seed, outputs):
        return self._recorded("cotangents")


def source_for(targets: list[Target], seed: int, weights_file: str | None) -> Draws:
    """The source a runner's targets ask for: a recorded side names its folder."""
    roles = {t.side: t.folder for t in targets if t.side}
    if "export" in roles:
        return ExportSide(seed, weights_file, roles["export"])
    if "replay" in roles:
        return AgainstSide(seed, roles["replay"])
    return Draws(seed, weights_file)


def split_targets(targets: str, device: str, *, export_side: str | None, against: str | None, weights_file: str | None,
                  seed: int | None) -> tuple[list[Target], int | None, dict, dict | None]:
    """--export-side / --against: the run's two targets (one real, one recorded), its seed, its report settings
    entries and the --against folder's manifest (checked against the selected cases by `check_against`). Usage
    errors are click's, as backends/targets.py's are."""
    import click

    if export_side and against:
        raise click.UsageError("--export-side and --against are two halves of a split run: give one of them")
    why = "to run here (the other side is " + ("recorded on another machine)" if export_side else f"recorded in {against})")
    side = parse_targets(targets, device, count=1, why=why)[0]
    if export_side:
        Path(export_side).mkdir(parents=True, exist_ok=True)
        return ([Target(side.name, side.device, "export", export_side), Target(side.name, side.device, "mirror", export_side)],
                seed, {"export_side": export_side}, None)
    if weights_file:
        raise click.UsageError(f"--weights cannot be combined with --against: the weights come from {against}")
    manifest = read_manifest(against)
    seed = manifest.get("seed") if seed is None else seed
    recorded = manifest["target"]
    if recorded.get("name") not in TARGETS:
        raise EqcheckError(f"records target '{recorded.get('name')}', which this eqcheck does not know",
                           file=f"{against}/{MANIFEST}", field="target.name")
    if recorded["label"] == side.label:  # the same side twice; another device or mode of the framework is fine
        raise click.BadParameter(f"{against} records {recorded['label']}; run another target against it",
                                 param_hint="'--targets'")
    return [Target(recorded["name"], recorded["device"], "replay", against), side], seed, {"against": against}, manifest


# ---- the folder: case files and the manifest ---------------------------------------------------------


def case_file(case_id: str) -> str:
    """A portable file name for a case id (ids hold brackets, commas, '='); the digest keeps it unique."""
    readable = re.sub(r"[^A-Za-z0-9._=-]+", "_", case_id).strip("_")[:80]
    return f"{readable}-{hashlib.sha1(case_id.encode()).hexdigest()[:10]}.npz"


def spec_hashes(cases: list[Case]) -> dict[str, dict[str, str]]:
    """sha256 of each spec file's bytes, by spec name."""
    out = {}
    for case in cases:
        spec = case.spec
        if spec.name not in out:
            out[spec.name] = {"path": spec.path, "sha256": hashlib.sha256(Path(spec.path).read_bytes()).hexdigest()}
    return out


def write_manifest(folder: str, *, target: Target, seed: int, settings: dict, cases: list[Case], environment: dict) -> Path:
    """DIR/manifest.json, atomically, once every case file is written."""
    manifest = {
        "format": FORMAT,
        "eqcheck_version": __version__,
        "seed": seed,
        "target": {"name": target.name, "device": target.device, "label": target.label, "framework": target.framework},
        "settings": dict(settings),  # RunSettings.shared(): what both halves must agree on
        "environment": environment,
        "specs": spec_hashes(cases),
        "cases": {case.id: case_file(case.id) for case in cases},
    }
    path = Path(folder) / MANIFEST
    write_atomic(path, lambda handle: handle.write((json.dumps(manifest, indent=2) + "\n").encode()))
    return path


def read_manifest(folder: str) -> dict:
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EqcheckError("no manifest: not a folder written by `eqcheck run --export-side` (or that run did not finish)",
                           file=str(path), field="--against") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EqcheckError(f"cannot read the manifest ({exc})", file=str(path), field="--against") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise EqcheckError(f"not a side manifest of format {FORMAT}", file=str(path), field="format")
    return manifest


def check_against(folder: str, manifest: dict, *, seed: int, settings: dict, cases: list[Case]) -> None:
    """Exit 2 unless the folder was recorded with this eqcheck, these specs, this seed and these settings."""
    path = str(Path(folder) / MANIFEST)

    def refuse(field: str, reason: str, hint: str | None = None):
        raise EqcheckError(reason, file=path, field=field,
                           hint=hint or "export the side again with the same specs, --seed, settings and eqcheck version")

    if manifest.get("eqcheck_version") != __version__:
        refuse("eqcheck_version", f"recorded by eqcheck {manifest.get('eqcheck_version')}, this is eqcheck {__version__}")
    if manifest.get("seed") != seed:
        refuse("seed", f"recorded with seed {manifest.get('seed')}, this run uses --seed {seed}")
    recorded_settings = manifest.get("settings", {})
    for key in sorted(set(settings) | set(recorded_settings)):
        recorded, here = recorded_settings.get(key), settings.get(key)
        if recorded != here:
            refuse(f"settings.{key}", f"recorded with {key} = {recorded!r}, this run has {here!r}")
    recorded_specs = manifest.get("specs", {})
    for name, here in spec_hashes(cases).items():
        there = recorded_specs.get(name)
        if there is None:
            refuse(f"specs.{name}", f"spec '{name}' ({here['path']}) was not part of the exported run")
        if there["sha256"] != here["sha256"]:
            refuse(f"specs.{name}", f"{here['path']} differs from the spec the side was exported with ({there['path']}, "
                                    f"sha256 {there['sha256'][:12]}…, here {here['sha256'][:12]}…)")
    missing = [case.id for case in cases if case.id not in manifest.get("cases", {})]
    if missing:
        refuse("cases", f"{len(missing)} selected case(s) were not exported, e.g. {missing[0]}",
               hint="select the exported cases (-k), or export them too")
    for case in cases:
        if not (Path(folder) / "cases" / manifest["cases"][case.id]).is_file():
            refuse(f"cases.{case.id}", f"the case file {manifest['cases'][case.id]} is missing from {folder}/cases")
