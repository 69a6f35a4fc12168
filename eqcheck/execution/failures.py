"""How a case fails without ending the run: the failure record and how a framework's exception is worded."""

from __future__ import annotations

from eqcheck.execution import limits


class CaseFailure(Exception):
    """A case that could not produce comparable outputs; `status` is error or unsupported."""

    def __init__(self, status: str, message: str, target: str | None = None, kind: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.target = target  # the label of the target that failed, when one did
        self.kind = kind  # backends.failure_kinds: missing_kernel, missing_api, refused_dtype, wrong_arguments


def short_error(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, UnicodeDecodeError) and isinstance(exc.object, bytes):
        # a native message with a stray byte (MindSpore's Einsum prints a label as one): its own words, not the codec's
        text = exc.object.decode("utf-8", "replace")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip() and not line.strip().startswith("-" * 5)]
    text = lines[0] if lines else ""
    if text.endswith(":") and len(lines) > 1:  # a heading ("- Kernel select failed:"): the line after it says what failed
        text = f"{text} {lines[1]}"
    return limits.memory_note(f"{type(exc).__name__}: {text}"[:400])
