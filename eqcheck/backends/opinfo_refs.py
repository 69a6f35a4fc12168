"""The numpy/scipy `ref` of an OpInfo entry of torch's op_db (torch's internal test table), for the third opinion.

op_db is an internal torch API: importing it needs the `expecttest` package and takes seconds, so it is imported
once per process, on first use, and only for a failing case that names an entry. Its absence is an answer
("op_db unavailable: …"), never an error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable


@lru_cache(maxsize=1)
def _entries() -> tuple[dict[str, Any], str | None]:
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except Exception as exc:  # noqa: BLE001 - ImportError (no expecttest) or a torch that moved its test table
        return {}, f"op_db unavailable: {type(exc).__name__}: {str(exc)[:160]}"
    return {op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""): op for op in op_db}, None


def reference(entry: str) -> tuple[Callable | None, str]:
    """(the entry's ref, its name) or (None, why there is none)."""
    entries, problem = _entries()
    if problem:
        return None, problem
    op = entries.get(entry)
    if op is None:
        return None, f"op_db has no entry '{entry}'"
    if op.ref is None:
        return None, f"op_db entry '{entry}' has no ref"
    ref = op.ref
    module = getattr(ref, "__module__", None) or ("numpy" if type(ref).__name__ == "ufunc" else "?")  # np.maximum
    return ref, f"{module}.{getattr(ref, '__qualname__', None) or getattr(ref, '__name__', repr(ref))}"
