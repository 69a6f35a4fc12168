"""Text from specs, frameworks and reports made safe to print or embed: control characters become visible escapes.

A spec's name or a framework's error message can carry ESC sequences (an OSC escape rewrites a terminal's title)
or characters XML 1.0 cannot hold at all (a JUnit file with one is unparsable). Every view that embeds such text
(terminal, JUnit, HTML) passes it through `printable`.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls; and the two non-characters XML refuses.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def printable(text: str) -> str:
    """`text` with each control character written as its escape (`\\x1b`), so nothing reaches a terminal or parser raw."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)
