"""The JSON report written during the run, not only at its end: what survives a SIGKILL or a power cut.

After a case finishes, the partial document (`"complete": false`) replaces the report atomically, at most once per
interval; the interval grows with the time a write takes (ten times it, between MIN_INTERVAL_S and MAX_INTERVAL_S), so
a 20,000-case run spends about a tenth of its time writing at most. `eqcheck show` reads such a file and says it is partial.
"""

from __future__ import annotations

import time
from typing import Any, Callable

MIN_INTERVAL_S = 2.0
MAX_INTERVAL_S = 30.0


class Checkpoint:
    def __init__(self, path: str | None, build: Callable[[], dict[str, Any]]):
        self.path, self.build = path, build
        self.interval = MIN_INTERVAL_S
        self.last: float | None = None  # the clock starts at the first finished case, not while workers import

    def maybe(self) -> None:
        if self.last is None:
            self.last = time.monotonic()
        if not self.path or time.monotonic() - self.last < self.interval:
            return
        from eqcheck.report.document import write_atomic

        started = time.monotonic()
        write_atomic(self.path, self.build())
        self.last = time.monotonic()
        self.interval = min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, 10 * (self.last - started)))
