"""Errors a user can fix. Each renders as one paragraph naming the file and field; the CLI maps them to exit 2."""

from __future__ import annotations


class EqcheckError(Exception):
    """Bad input from the user: a spec, a flag, a weights file, a target. Never a bug in eqcheck."""

    def __init__(self, reason: str, *, file: str | None = None, field: str | None = None, hint: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.field = field
        self.hint = hint

    def paragraph(self) -> str:
        where = ""
        if self.file and self.field:
            where = f"{self.file}: field '{self.field}': "
        elif self.file:
            where = f"{self.file}: "
        elif self.field:
            where = f"field '{self.field}': "
        text = where + self.reason.rstrip(".") + "."
        if self.hint:
            text += " " + self.hint.rstrip(".") + "."
        return text

    def __str__(self) -> str:
        return self.paragraph()


class SpecError(EqcheckError):
    """A spec file that is unreadable, malformed, or inconsistent with the frameworks it names."""


class WeightsError(EqcheckError):
    """A --weights file that does not match a case's weight map."""


class TargetUnavailable(EqcheckError):
    """A framework or device that cannot be used on this machine."""
