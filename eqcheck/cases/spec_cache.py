"""What `list` and `validate` learned about each spec file, kept between runs so that an unchanged file is
not parsed and expanded again: its name and case ids (at the spec's own dtypes).

An entry is used only when the file's bytes hash to what they were and the fingerprint matches: eqcheck's
version, every module that parses or expands a spec (their size and mtime), and the operator's allowlist
(EQCHECK_ALLOWED_PREFIXES, allowed modules). A file that fails validation is never stored, so its error is
reported again on every run; the cross-file check (unique spec names) always runs. EQCHECK_NO_CACHE=1
turns it off; the cache lives in EQCHECK_CACHE_DIR (default: ~/.cache/eqcheck). A cache that cannot be read
or written is ignored: it only saves time.

Imports no yaml, no numpy and no framework: a run whose files all hit the cache never loads the spec parser.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import eqcheck

# The modules whose code decides whether a spec is valid and what its case ids are.
_DECIDERS = ("spec", "cases", "dtypes.py", "errors.py", "backends/__init__.py")


@dataclass(frozen=True)
class Summary:
    """One valid spec file as `list` and `validate` need it."""

    path: str
    name: str
    ids: tuple[str, ...]


def _fingerprint() -> str:
    root = Path(eqcheck.__file__).parent
    parts = [getattr(eqcheck, "__version__", "?"), os.environ.get("EQCHECK_ALLOWED_PREFIXES", ""),
             os.environ.get("EQCHECK_ALLOWED_MODULES", "")]
    from eqcheck.spec import allowlist  # no yaml: the allowlist is plain Python

    parts.append(",".join(allowlist.allowed_modules()))
    for name in _DECIDERS:
        target = root / name
        for file in sorted(target.glob("*.py")) if target.is_dir() else [target]:
            try:
                stat = file.stat()
            except OSError:
                continue
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]


class SpecCache:
    def __init__(self, directory: str | os.PathLike | None = None):
        self.enabled = os.environ.get("EQCHECK_NO_CACHE", "") in ("", "0")
        base = directory or os.environ.get("EQCHECK_CACHE_DIR") or Path.home() / ".cache" / "eqcheck"
        self.file = Path(base) / f"specs-{_fingerprint()}.json" if self.enabled else None
        self.entries: dict[str, dict] = {}
        self.dirty = False
        if self.file is not None:
            try:
                self.entries = json.loads(self.file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    @staticmethod
    def digest(data: bytes) -> str:
        return hashlib.sha1(data).hexdigest()

    def get(self, path: Path, digest: str) -> Summary | None:
        entry = self.entries.get(str(path.resolve())) if self.enabled else None
        if not isinstance(entry, dict) or entry.get("sha1") != digest:
            return None
        return Summary(str(path), entry["name"], tuple(entry["ids"]))

    def put(self, path: Path, digest: str, summary: Summary) -> None:
        if self.enabled:
            self.entries[str(path.resolve())] = {"sha1": digest, "name": summary.name, "ids": list(summary.ids)}
            self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.file.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(self.entries), encoding="utf-8")
            os.replace(partial, self.file)
        except OSError:
            pass  # read-only home, full disk: the next run just validates again


def summaries(paths: list[str], cache: SpecCache | None = None) -> list[Summary]:
    """Every spec under `paths`, validated as `eqcheck validate` does (parse, then every case's expressions),
    from the cache where a file is unchanged."""
    from eqcheck.spec.discovery import check_unique_names, discover_spec_files

    cache = cache if cache is not None else SpecCache()
    out = []
    try:
        for path in discover_spec_files(paths):
            try:
                digest = cache.digest(path.read_bytes())
            except OSError:
                digest = None  # the parser reports the unreadable file
            found = cache.get(path, digest) if digest else None
            if found is None:
                found = _validate(path)
                if digest:
                    cache.put(path, digest, found)
            out.append(found)
        check_unique_names([(s.name, s.path) for s in out])
    finally:
        cache.save()  # what was validated before an error stays learned
    return out


def _validate(path: Path) -> Summary:
    from eqcheck.cases.sweep import expand
    from eqcheck.spec.loader import parse_spec

    spec = parse_spec(path)
    cases = expand(spec)
    for case in cases:  # every expression at every sweep point, as cases.load_spec checks
        case.resolve_everything()
    return Summary(spec.path, spec.name, tuple(case.id for case in cases))
