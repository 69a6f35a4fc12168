"""Where built samples live and how missing ones get built (a child process: op_db costs 4-6 s to import).

Layout: CACHE/torch-VERSION/SOURCE/index.json (every entry name the source has) and SOURCE/ENTRY.json + ENTRY.npz
(its samples). CACHE is $EQCHECK_SAMPLES_CACHE, else $XDG_CACHE_HOME/eqcheck/samples, else ~/.cache/eqcheck/samples.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import warnings
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

from eqcheck.errors import EqcheckError

CACHE_ENV = "EQCHECK_SAMPLES_CACHE"
FORMAT = 4  # bump when the record layout changes: older caches are rebuilt, never misread (2: module error inputs, defaults; 3: signatures of dispatching wrappers; 4: ATen schemas)
BUILD_TIMEOUT_S = 1800


def cache_root() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "eqcheck" / "samples"


@functools.cache
def torch_version() -> str:
    """The installed torch's version, read from its metadata (no import; parsing it costs ~10 ms, once per process)."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        raise EqcheckError("--explore uses torch's own test samples, but torch is not installed in this environment",
                           field="--explore") from None


# sources whose records follow a table in their own module (borrowed.py's BORROW): that file's hash names their
# folder, so an edited table rebuilds them instead of serving samples converted by the old one
TABLED = ("borrowed",)


@functools.cache
def _code_digest(source: str) -> str:
    import hashlib
    import importlib.util

    from eqcheck.backends.samples import SOURCES

    origin = importlib.util.find_spec(SOURCES[source]).origin
    return hashlib.sha256(Path(origin).read_bytes()).hexdigest()[:8]


def folder(source: str) -> Path:
    name = f"{source}-{_code_digest(source)}" if source in TABLED else source
    return cache_root() / f"torch-{torch_version()}-f{FORMAT}" / name


def entry_file(source: str, entry: str) -> Path:
    return folder(source) / f"{entry}.json"


def read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def intact(arrays: Path) -> bool:
    """The entry's .npz reads back: a zip whose every member matches its CRC-32 (a truncated or altered file does not)."""
    try:
        with zipfile.ZipFile(arrays) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError, ValueError):
        return False


def entries(source: str, names: list[str]) -> dict[str, dict]:
    """Each named entry's record (samples, error inputs, signature; `missing` where the source has no such entry,
    `entry` the real name where the asked one is an alias), building the missing ones in one child. An entry whose
    arrays fail their checksums is rebuilt once, with a warning; still corrupt after that, it is an error."""
    missing = [n for n in names if read_json(entry_file(source, n)) is None]
    corrupt = [n for n in names if n not in missing and not intact(entry_file(source, n).with_suffix(".npz"))]
    if corrupt:
        warnings.warn(f"the cached {source} samples of {', '.join(corrupt)} in {folder(source)} are corrupt "
                      f"(checksum); rebuilding them", stacklevel=2)
        for name in corrupt:
            entry_file(source, name).unlink(missing_ok=True)
    if missing or corrupt:
        _build(source, missing + corrupt)
    out = {}
    for name in names:
        record = read_json(entry_file(source, name))
        if record is None:
            raise EqcheckError(f"the {source} samples of '{name}' were not built", file=str(entry_file(source, name)))
        if name in corrupt and not intact(entry_file(source, name).with_suffix(".npz")):
            raise EqcheckError(f"the {source} samples of '{name}' are corrupt again after a rebuild",
                               file=str(entry_file(source, name).with_suffix(".npz")))
        out[name] = record
    return out


def variants(source: str, name: str) -> list[str]:
    """The entries standing for an asked name the source has no entry of: its variants, each its own sample source
    (op_db's `max` -> `max.binary`, `max.reduction_no_dim`, `max.reduction_with_dim`; an alias's: `divide` -> `div.*`).
    Read from the source's index, which any build writes."""
    index = read_json(folder(source) / "index.json") or {}
    base = (index.get("aliases") or {}).get(name, name)
    return [n for n in index.get("names", ()) if n.startswith(base + ".") and "." not in n[len(base) + 1:]]


def mindspore_names(ops: list[str]) -> dict[str, dict]:
    """Each MindSpore op's parameter names (`call`, `init`; None where unreadable), built once per MindSpore version."""
    try:
        version = metadata.version("mindspore")
    except metadata.PackageNotFoundError:
        return {}
    records = entries("mindspore", [f"{version}/{op}" for op in ops])
    return {op: records[f"{version}/{op}"] for op in ops}


def _build(source: str, names: list[str]) -> None:
    command = [sys.executable, "-m", "eqcheck.backends.samples.build", str(folder(source)), source, *names]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[3]),
                                                                      os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise EqcheckError(f"building torch's {source} samples took over {BUILD_TIMEOUT_S} s", field="--explore") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit code {done.returncode}"
        raise EqcheckError(
            f"--explore needs torch's own test samples (torch.testing._internal: op_db, module_db, optim_db), and the installed "
            f"torch {torch_version()} could not provide them ({last[:300]}); they import only with the small package "
            f"'expecttest' installed (pip install 'eqcheck[explore]'), and are an internal torch API that a torch other "
            f"than the pinned one may have moved; a run without --explore does not need them", field="--explore")
