"""Which files are specs, and the one check that spans files (unique spec names). No yaml: `list` and
`validate` find files and check names before (or, with every file cached, instead of) parsing any."""

from __future__ import annotations

from pathlib import Path

from eqcheck.errors import SpecError

SPEC_SUFFIXES = (".yaml", ".yml")


def discover_spec_files(paths: list[str]) -> list[Path]:
    """Spec files under the given files and folders, sorted, each once."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found.extend(sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file()))
            elif path.exists():
                found.append(path)
            else:
                raise SpecError("no such file or folder", file=raw)
        except OSError as exc:  # a name too long, a folder we may not list, ...
            raise SpecError(f"cannot read this path ({exc.strerror or type(exc).__name__})", file=raw[:200]) from None
    unique = list(dict.fromkeys(found))
    if not unique:
        raise SpecError(f"no spec files (*.yaml, *.yml) found under {', '.join(paths)}")
    return unique


def check_unique_names(named: list[tuple[str, str]]) -> None:
    """(spec name, file) pairs: a name used twice is an error naming both files."""
    seen: dict[str, str] = {}
    for name, path in named:
        if name in seen:
            raise SpecError(f"spec name '{name}' is also used by {seen[name]}", file=path, field="name")
        seen[name] = path
