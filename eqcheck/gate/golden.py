"""Golden outputs: each target's raw outputs per case, stored once (`--save-golden DIR`) and compared later
(`--golden DIR`) against that same target's outputs in another environment.

The torch-vs-MindSpore comparison cannot tell which side moved when a framework is upgraded; a golden
comparison can: torch 2.13 is compared with the torch outputs stored earlier, MindSpore 2.10 with the
MindSpore 2.9 outputs, each on its own. It needs nothing from the other target, so a run whose targets are
`torch,torch-compile` (MindSpore not installed) still checks torch against its stored outputs. Limits: a run
always has two targets (the golden check rides on a normal run); a target checks only against outputs
stored under the same target label (`torch`, `mindspore`, `torch:gpu`); inputs and weights are re-drawn
from the seed, so the seed must equal the stored one (refused otherwise) and the spec must not have
changed its inputs (a changed shape shows as drift).

Layout of DIR: `golden.json` (the manifest: format, eqcheck version, seed, framework versions, targets, and
per case id its file and which array key holds which target's output) and one `<safe case id>.npz` per
case (np.savez_compressed; keys `a0, a1, …` so no case or output name ever becomes a path).

Pure numpy; never prints.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from eqcheck import __version__
from eqcheck.verdict.compare import compare
from eqcheck.errors import EqcheckError

MANIFEST = "golden.json"
FORMAT = "eqcheck-golden"
FORMAT_VERSION = 1

MATCH, DRIFT, MISSING = "match", "drift", "missing"


class GoldenError(EqcheckError):
    """A golden folder that is missing, foreign, or was stored with another seed."""


def case_file_name(case_id: str) -> str:
    """A file name that is safe on every file system, readable, and unique per case id (hash suffix)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", case_id).strip("._")[:80] or "case"
    digest = hashlib.sha1(case_id.encode("utf-8")).hexdigest()[:10]
    return f"{stem}-{digest}.npz"


def _write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise GoldenError(f"no {MANIFEST} here: not a golden folder written by `eqcheck run --save-golden`",
                          file=str(folder), field="--golden")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GoldenError(f"cannot read the golden manifest ({exc})", file=str(path), field="--golden") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise GoldenError("not an eqcheck golden manifest", file=str(path), field="--golden")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise GoldenError(f"golden format version {manifest.get('format_version')!r} is not readable by eqcheck "
                          f"{__version__} (reads {FORMAT_VERSION})", file=str(path), field="--golden")
    return manifest


class GoldenWriter:
    """--save-golden DIR: one compressed .npz per case as results arrive, the manifest rewritten after each."""

    def __init__(self, folder: str | os.PathLike, *, seed: int, environment: dict[str, Any]):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        versions = environment.get("versions", {})
        self.manifest: dict[str, Any] = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "eqcheck_version": __version__,
            "seed": seed, "versions": versions, "targets": environment.get("targets", []), "cases": {},
        }
        if (self.folder / MANIFEST).exists():  # adding to an existing folder (shards, a second spec folder)
            old = read_manifest(self.folder)
            if old.get("seed") != seed or old.get("versions") != versions:
                raise GoldenError(
                    f"this folder holds golden outputs for seed {old.get('seed')} and versions {old.get('versions')}; "
                    f"this run has seed {seed} and versions {versions}", file=str(self.folder), field="--save-golden",
                    hint="save into an empty folder")
            self.manifest["cases"] = old.get("cases", {})
            self.manifest["targets"] = list(dict.fromkeys([*old.get("targets", []), *self.manifest["targets"]]))

    def add(self, case_id: str, arrays: dict[str, dict[str, np.ndarray]], seed: int | None = None) -> None:
        if not arrays:
            return  # an error or unsupported case produced nothing to keep
        name = case_file_name(case_id)
        keys, entries = {}, []
        for label, outputs in arrays.items():
            for output, array in outputs.items():
                key = f"a{len(keys)}"
                keys[key] = np.asarray(array)
                entries.append({"key": key, "target": label, "output": output,
                                "dtype": str(np.asarray(array).dtype), "shape": list(np.shape(array))})
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez_compressed(handle, **keys)
            os.replace(tmp, self.folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.manifest["cases"][case_id] = {"file": name, "seed": self.manifest["seed"] if seed is None else seed,
                                           "arrays": entries}

    def close(self) -> None:
        self.manifest["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        _write_json_atomic(self.folder / MANIFEST, self.manifest)


class GoldenChecker:
    """--golden DIR: each target's current outputs against its own stored outputs, with the case tolerance."""

    def __init__(self, folder: str | os.PathLike, *, seed: int):
        self.folder = Path(folder)
        self.manifest = read_manifest(folder)
        if self.manifest.get("seed") != seed:
            raise GoldenError(f"the golden outputs were stored with seed {self.manifest.get('seed')}, this run uses "
                              f"seed {seed}: the inputs would differ", file=str(folder), field="--golden",
                              hint=f"run with --seed {self.manifest.get('seed')}")

    def header(self) -> dict[str, Any]:
        m = self.manifest
        return {"dir": str(self.folder), "eqcheck_version": m.get("eqcheck_version"), "seed": m.get("seed"),
                "versions": m.get("versions", {}), "targets": m.get("targets", []), "created": m.get("created")}

    def _stored(self, case_id: str) -> dict[str, dict[str, np.ndarray]] | None:
        entry = self.manifest.get("cases", {}).get(case_id)
        if entry is None:
            return None
        path = self.folder / entry["file"]
        try:
            with np.load(path, allow_pickle=False) as npz:
                stored: dict[str, dict[str, np.ndarray]] = {}
                for item in entry["arrays"]:
                    stored.setdefault(item["target"], {})[item["output"]] = npz[item["key"]]
        except (OSError, KeyError, ValueError) as exc:
            raise GoldenError(f"cannot read the golden outputs of {case_id} ({exc})", file=str(path), field="--golden") from None
        return stored

    def check(self, case_id: str, arrays: dict[str, dict[str, np.ndarray]], tolerance_of,
              seed: int | None = None) -> dict[str, Any] | None:
        """The case's golden section: per target {status, outputs[]}; None if the case ran to no outputs.

        `tolerance_of(output name)` gives the tolerance for that row (the case's, or its gradient table).
        """
        if not arrays:
            return None
        entry = self.manifest.get("cases", {}).get(case_id)
        if entry is not None and seed is not None and entry.get("seed", seed) != seed:
            message = (f"stored from seed {entry.get('seed')}, this run's outputs come from seed {seed} "
                       "(--trials keeps the worst trial's outputs)")
            return {label: {"status": MISSING, "outputs": [], "message": message} for label in arrays}
        stored = self._stored(case_id)
        section: dict[str, Any] = {}
        for label, outputs in arrays.items():
            old = (stored or {}).get(label)
            if old is None:
                section[label] = {"status": MISSING, "outputs": [],
                                  "message": "no stored outputs for this case" if stored is None else
                                  f"no stored outputs for target {label}"}
                continue
            rows = []
            for name, array in outputs.items():
                if name not in old:
                    rows.append({"name": name, "passed": False, "reason": "not in the golden outputs"})
                    continue
                current = np.asarray(array)
                identical = (old[name].shape == current.shape and old[name].dtype == current.dtype
                             and np.array_equal(old[name], current, equal_nan=True))
                dev = compare(old[name], current, tolerance_of(name))
                keep = ("max_abs", "tolerance") if identical else (
                    "max_abs", "max_rel", "mismatched", "worst_index", "worst_values", "tolerance", "reason")
                rows.append({"name": name, "passed": dev.passed, "identical": bool(identical),
                             **{k: v for k, v in dev.as_dict().items() if k in keep}})
            for name in old:
                if name not in outputs:
                    rows.append({"name": name, "passed": False, "reason": "in the golden outputs, not produced now"})
            section[label] = {"status": MATCH if all(r["passed"] for r in rows) else DRIFT, "outputs": rows}
        return section


def drifted(document: dict) -> list[tuple[str, str]]:
    """(case id, target) for every golden drift in a report."""
    return [(case["id"], label) for case in document.get("cases", [])
            for label, entry in (case.get("golden") or {}).items() if entry.get("status") == DRIFT]


def summarize(cases: Iterable[dict]) -> dict[str, int]:
    counts = {MATCH: 0, DRIFT: 0, MISSING: 0}
    for case in cases:
        for entry in (case.get("golden") or {}).values():
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    return {"matched": counts[MATCH], "drifted": counts[DRIFT], "missing": counts[MISSING]}
