"""`eqcheck watch`: which files changed, and a re-run of their specs on a pool kept warm between runs.

Files are polled (modification time, size and inode of every spec file under the watched paths, every
`POLL_S`): no dependency, the same on every platform and filesystem (network mounts, containers), and a scan of
the whole catalog costs a few milliseconds. An editor that saves by renaming a new file into place changes the
inode, so it is seen too.

Warm never means stale: each re-run is a new plan, for which every worker builds a fresh `CaseRunner` (only the
imported modules carry over), and a worker is replaced after any `error` case (workers.py). A changed Python
file under the watched paths (a model spec's module) is already imported in the workers, so it restarts them.
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

from eqcheck.spec.loader import SPEC_SUFFIXES
from eqcheck.execution.workers import WorkerPoolExecutor, order_results

POLL_S = 0.05  # half of it, on average, is added to the answer after a save
CODE_SUFFIXES = (".py",)


@dataclass
class Change:
    specs: list[str] = field(default_factory=list)  # spec files added or modified, to run again
    removed: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)  # Python files: the workers must import them afresh
    everything: bool = False  # Enter: run every spec under the watched paths
    saved_at: float | None = None  # wall-clock time of the newest change seen (a file's modification time)

    def __bool__(self) -> bool:
        return bool(self.specs or self.removed or self.code or self.everything)


class FileWatch:
    """The spec (and Python) files under some paths, and what changed since the last look."""

    def __init__(self, paths: list[str]):
        self.paths = list(paths)
        self.seen = self._scan()

    def spec_files(self) -> list[str]:
        return sorted(path for path in self.seen if path.endswith(SPEC_SUFFIXES))

    def _scan(self) -> dict[str, tuple[int, int, int]]:
        found: dict[str, tuple[int, int, int]] = {}
        for raw in self.paths:
            if os.path.isdir(raw):
                for folder, _, names in os.walk(raw):
                    for name in names:
                        if name.endswith(SPEC_SUFFIXES + CODE_SUFFIXES):
                            self._stat(os.path.join(folder, name), found)
            else:
                self._stat(raw, found)
        return found

    @staticmethod
    def _stat(path: str, found: dict) -> None:
        try:
            info = os.stat(path)
        except OSError:  # deleted between listing and stat, or mid-save
            return
        found[path] = (info.st_mtime_ns, info.st_size, info.st_ino)

    def changes(self) -> Change:
        now = self._scan()
        change = Change()
        for path, stamp in now.items():
            if self.seen.get(path) != stamp:
                (change.code if path.endswith(CODE_SUFFIXES) else change.specs).append(path)
                change.saved_at = max(change.saved_at or 0.0, stamp[0] / 1e9)
        change.removed = sorted(set(self.seen) - set(now))
        self.seen = now
        return change


def wait_for_change(files: FileWatch, keys: TextIO | None, poll_s: float = POLL_S) -> tuple[Change, TextIO | None]:
    """Block until a watched file changes or a line arrives on `keys` (Enter); also returns `keys`, None once it
    reached end of file (stdin from /dev/null or a closed pipe: keep watching files only)."""
    while True:
        if keys is not None:
            readable, _, _ = select.select([keys], [], [], poll_s)
            if readable:
                if keys.readline() == "":
                    keys = None
                else:
                    return Change(everything=True, saved_at=time.time()), keys
        else:
            time.sleep(poll_s)
        change = files.changes()
        if change:
            return change, keys


@dataclass
class Rerun:
    cases: list
    results: list
    seconds: float  # from the start of loading the specs to the last result


class WarmSession:
    """A pool kept warm across runs; `rerun(files)` loads those spec files and runs their cases on it."""

    def __init__(self, pool: WorkerPoolExecutor, load_cases: Callable[[list[str]], list]):
        self.pool = pool
        self.load_cases = load_cases
        pool.launch()

    def rerun(self, spec_files: list[str]) -> Rerun:
        started = time.perf_counter()
        cases = self.load_cases(spec_files)
        self.pool.start(cases)
        results = order_results(list(self.pool.run(cases)), cases)
        return Rerun(cases, results, time.perf_counter() - started)

    def restart(self) -> None:
        """Fresh workers: Python files they imported have changed."""
        self.pool.close()
        self.pool.launch()

    def close(self) -> None:
        self.pool.close()
