"""Report paths checked before a run starts: a path the run could not write is exit 2 before any case runs, not a
traceback after the run with the other reports lost; and no report replaces a device node or a symlink.

A report path must be a regular file or absent, its nearest existing folder writable. A device (`/dev/full`,
`/dev/stdout`), a FIFO or a symlink is refused unless the operator says `--force`; then the report is written
through it, never put in its place.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from eqcheck.errors import EqcheckError


def check_output(path: str | os.PathLike, option: str, force: bool = False) -> None:
    target = Path(path)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, ENOTDIR (a parent is a file), a NUL byte
        raise EqcheckError(f"cannot write a report to '{path}' ({getattr(exc, 'strerror', None) or exc})", field=option) from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise EqcheckError(f"'{path}' is a folder; give a file name", field=option)
        if not stat.S_ISREG(info.st_mode) and not force:
            kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "not a regular file (a device, FIFO or socket)"
            raise EqcheckError(f"'{path}' is {kind}; a report would replace or write through it", field=option,
                               hint="give a regular file path, or --force to write through it")
    folder = target.absolute().parent
    while not folder.exists():  # the writers create missing folders: the nearest existing one must take them
        folder = folder.parent
    if not folder.is_dir():
        raise EqcheckError(f"cannot write a report to '{path}': '{folder}' is not a folder", field=option)
    if not os.access(folder, os.W_OK | os.X_OK) or (info is not None and not os.access(target, os.W_OK)):
        raise EqcheckError(f"cannot write a report to '{path}': permission denied", field=option)


def check_outputs(paths: dict[str, str | os.PathLike | None], force: bool = False) -> None:
    """Every requested report path ({option: path}), before anything runs."""
    for option, path in paths.items():
        if path:
            check_output(path, option, force)


def replaceable(path: str | os.PathLike) -> bool:
    """Whether a writer may put a new file in place of `path` (absent or a regular file, not a symlink)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True


def write_through(path: str | os.PathLike, text: str) -> None:
    """Write into what `path` is (a device, a symlink's target) without replacing it; a failure is the user's to fix."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise EqcheckError(f"cannot write the report to '{path}' ({exc.strerror or exc})") from None


def write_text(path: str | os.PathLike, text: str) -> None:
    """The text reports (HTML, Markdown): folders created, a device or symlink written through, errors as exit 2."""
    target = Path(path)
    if not replaceable(target):
        return write_through(target, text)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EqcheckError(f"cannot write the report to '{path}' ({exc.strerror or exc})") from None
