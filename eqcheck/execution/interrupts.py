"""Every way a run can be asked to end goes through Ctrl-C's path: SIGTERM (a CI job cancelled, `kill`) and SIGHUP
(the terminal closed) become KeyboardInterrupt in the main thread, so the run stops its workers and writes every
requested report marked incomplete, exactly as after Ctrl-C. SIGKILL cannot be caught: the JSON report's
checkpoints (report/checkpoint.py) are what survives it."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def as_keyboard_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # signal handlers live in the main thread only
        yield
        return
    previous = {s: signal.signal(s, _interrupt) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
