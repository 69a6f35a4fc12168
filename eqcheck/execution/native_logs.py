"""Native log lines belong to their case: a worker's stdout and stderr (file descriptors 1 and 2, where MindSpore's
C++ `[ERROR]`/`[WARNING]` lines and torch's C++ warnings land, below Python's reach) are files the parent opened;
the worker reads what each case added and gives every chunk to the side whose backend call wrote it.

- `Capture` (worker side): `attribute(runner)` wraps the runner's backends so each call marks its side as the
  writer; `case()` is the text each side wrote during one case, attached as `details.native_log`, with
  `details.native_errors` (count, first line, the C++ sources named) when a kernel logged an error.
- `read_since` / `crash_note` (parent side): what a worker wrote between a case's start and its death.
- `enforce_strict` (--strict-logs): a row whose kernel logged an error fails.

Not captured: `--jobs 0` (the reporting process's own stderr carries its progress bar) and Ray actors.
"""

from __future__ import annotations

import ctypes
import os
import re
import stat
import sys
from typing import Any

STREAMS = {1: "stdout", 2: "stderr"}
KEPT_CHARS = 16_384  # per side and stream; beyond it the log says how much was cut
UNATTRIBUTED = "eqcheck"  # written between backend calls (eqcheck's own numpy, Python warnings)
# MindSpore (glog): "[ERROR] KERNEL(pid,tid,python):time [path/file.h:153] func] message"; torch (c10): "[E1201 ...] ..."
ERROR_LINE = re.compile(r"^\[(?:ERROR|CRITICAL)\]|^\[E\d{4} ")
SOURCE = re.compile(r"\[(?:[^\[\]\s]*/)?([^/\[\]\s]+\.(?:h|hpp|hh|cc|cpp|cxx|c|cu)):\d+\]")
MESSAGE = re.compile(r"^.*?\[[^\[\]\s]+:\d+\] [^\]\s]*\] ?")  # glog's prefix up to the function name


def _flush_c_streams() -> None:
    try:
        ctypes.CDLL(None).fflush(None)  # C stdio buffers (stdout is block-buffered into a file)
    except (OSError, AttributeError):
        pass


class Capture:
    """Worker side: what each side wrote to fds 1 and 2 during the case in flight (see the module docstring)."""

    def __init__(self):
        self.enabled = all(_is_file(fd) for fd in STREAMS)
        self.offsets = {fd: _size(fd) for fd in STREAMS} if self.enabled else {}
        self.writer = UNATTRIBUTED
        self.logs: dict[str, dict[str, list[str]]] = {}

    def attribute(self, runner) -> None:
        """Each backend call of `runner` marks its target as the writer of what appears meanwhile."""
        if self.enabled:
            runner.backends = {label: _Attributed(backend, label, self) for label, backend in runner.backends.items()}

    def switch(self, writer: str) -> str:
        previous = self.writer
        self.collect()
        self.writer = writer
        return previous

    def collect(self) -> None:
        if not self.enabled:
            return
        sys.stdout.flush()
        sys.stderr.flush()
        _flush_c_streams()
        for fd, stream in STREAMS.items():
            end = _size(fd)
            if end > self.offsets[fd]:
                text = os.pread(fd, end - self.offsets[fd], self.offsets[fd]).decode("utf-8", "replace")
                self.offsets[fd] = end
                self.logs.setdefault(self.writer, {}).setdefault(stream, []).append(text)

    def begin(self) -> None:
        self.collect()
        self.logs, self.writer = {}, UNATTRIBUTED

    def position(self) -> dict[str, int]:
        """Where the next case's lines will start in each log (the parent reads from there if the worker dies)."""
        if not self.enabled:
            return {}
        self.collect()
        return {stream: self.offsets[fd] for fd, stream in STREAMS.items()}

    def case(self) -> dict[str, dict[str, str]]:
        """Everything written since `begin`, per side and stream."""
        self.collect()
        return {side: {stream: _trim("".join(parts)) for stream, parts in streams.items()}
                for side, streams in self.logs.items()}

    def attach(self, result) -> None:
        log = self.case()
        if log:
            result.details["native_log"] = log
            errors = summarize(log)
            if errors:
                result.details["native_errors"] = errors


class _Attributed:
    """A backend whose every method call is attributed to its target in the capture."""

    def __init__(self, backend, label: str, capture: Capture):
        self._backend, self._label, self._capture = backend, label, capture

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._backend, name)
        if not callable(value) or name.startswith("__"):
            return value

        def attributed(*args, **kwargs):
            previous = self._capture.switch(self._label)
            try:
                return value(*args, **kwargs)
            finally:
                self._capture.switch(previous)

        return attributed


def summarize(log: dict[str, dict[str, str]]) -> dict[str, Any] | None:
    """The error lines a case's log holds: how many per side, the first one's message, the C++ sources named."""
    per_side: dict[str, int] = {}
    first, sources = None, []
    for side, streams in log.items():
        for text in streams.values():
            for line in text.splitlines():
                if not ERROR_LINE.match(line):
                    continue
                per_side[side] = per_side.get(side, 0) + 1
                first = first or MESSAGE.sub("", line).strip()[:300]
                source = SOURCE.search(line)
                if source and source.group(1) not in sources:
                    sources.append(source.group(1))
    if not per_side:
        return None
    errors = {"count": sum(per_side.values()), "sides": per_side, "first": first, "sources": sources}
    return {**errors, "note": note(errors)}


def note(errors: dict[str, Any]) -> str:
    """One line for the table and the HTML report."""
    sides = ", ".join(f"{side} {count}" for side, count in errors["sides"].items())
    where = f" in {', '.join(errors['sources'])}" if errors.get("sources") else ""
    return f"a kernel logged {errors['count']} error line(s) during this case ({sides}){where}: {errors['first']}"


def enforce_strict(result) -> None:
    """--strict-logs: a case whose kernel logged an error fails, whatever its rows say."""
    from eqcheck.verdict.results import ERROR, FAIL

    errors = result.details.get("native_errors")
    if errors and result.status != ERROR:
        result.status = FAIL
        result.message = "; ".join(filter(None, [result.message, f"--strict-logs: {note(errors)}"]))


# ---- parent side ------------------------------------------------------------------------------------


def read_since(handle, offset: int) -> str:
    """What a worker wrote to one of its log files from `offset` on (the parent reads it after a crash)."""
    end = os.fstat(handle.fileno()).st_size
    return _trim(os.pread(handle.fileno(), max(0, end - offset), offset).decode("utf-8", "replace")) if end > offset else ""


def crash_log(texts: dict[str, str]) -> dict[str, Any]:
    """The details of a case whose worker died: what it wrote meanwhile, and its error lines."""
    log = {"worker": {stream: text for stream, text in texts.items() if text}}
    if not log["worker"]:
        return {}
    errors = summarize(log)
    return {"native_log": log, **({"native_errors": errors} if errors else {})}


def _trim(text: str) -> str:
    """Head and tail: the first error line explains a log, the last lines explain a crash (the fault handler's)."""
    if len(text) <= KEPT_CHARS:
        return text
    half = KEPT_CHARS // 2
    return text[:half] + f"\n… {len(text) - 2 * half} characters not kept …\n" + text[-half:]


def _is_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


def _size(fd: int) -> int:
    return os.fstat(fd).st_size
