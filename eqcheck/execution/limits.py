"""What a worker process may do to the machine: it dies with its parent, and its address space is bounded.

- Parent death: a worker runs in its own session (a terminal's Ctrl-C is the parent's), so nothing else would stop
  it when the parent is killed; a hung native kernel would run on forever. On Linux it asks the kernel for SIGKILL
  when the parent dies (prctl PR_SET_PDEATHSIG) and leaves at once if the parent is already gone.
- Memory: RLIMIT_AS of MEMORY_GIB (default 8 GiB; a worker holding torch and MindSpore maps 2.5 GB before its
  first case, and one case's inputs are bounded at 2**28 elements, 1 GiB of float32). An allocation past it fails
  in that worker: the case is one `error` row whose message names the limit, the machine keeps its memory.
  EQCHECK_WORKER_MEMORY=GiB changes it, 0 turns it off.
"""

from __future__ import annotations

import os
import signal
import sys

PARENT_ENV = "EQCHECK_PARENT_PID"
MEMORY_ENV = "EQCHECK_WORKER_MEMORY"
MEMORY_GIB = 8.0
_PR_SET_PDEATHSIG = 1
_applied: int | None = None  # the address-space limit this process runs under, for error messages


def memory_limit() -> int | None:
    """Bytes of address space a worker may map; None when the operator turned the limit off."""
    raw = os.environ.get(MEMORY_ENV, "").strip()
    try:
        gib = float(raw) if raw else MEMORY_GIB
    except ValueError:
        gib = MEMORY_GIB
    return int(gib * 2**30) if gib > 0 else None


def die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def limit_memory() -> None:
    global _applied
    limit = memory_limit()
    if limit is None:
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    _applied = limit


def apply_in_worker() -> None:
    """Called first thing in a worker process."""
    die_with_parent(int(os.environ.get(PARENT_ENV, "0") or 0))
    limit_memory()


_MEMORY_WORDS = ("MemoryError", "can't allocate memory", "cannot allocate memory", "out of memory", "bad_alloc",
                 "Failed to allocate", "failed to alloc")


def memory_note(message: str, evidence: str | None = None, limit: int | None = None) -> str:
    """An error message with the worker's memory limit named, when the failure (or the worker's log, `evidence`) is an
    allocation past it. In a worker the limit is the one applied; the parent passes the one its workers run under."""
    limit = limit or _applied
    text = (evidence if evidence is not None else message).lower()
    if limit is None or not any(word.lower() in text for word in _MEMORY_WORDS):
        return message
    return (f"{message} (the worker's address space is limited to {limit / 2**30:g} GiB; "
            f"{MEMORY_ENV}=GiB changes it, 0 turns it off)")
