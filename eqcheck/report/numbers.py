"""How every report format writes a deviation: one rule, so tables, JUnit, Markdown and HTML agree."""

from __future__ import annotations

from typing import Any


def deviation(value: Any, digits: int = 2) -> str:
    """'-' for missing, exact '0', otherwise scientific notation; strings ('nan', 'inf') pass through."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return "0" if value == 0 else f"{value:.{digits}e}"
