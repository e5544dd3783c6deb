"""Diagnostics: every repair the parser makes is reported, never done silently.

A diagnostic belongs to the record whose text it touched (``identifier`` set) or to
the page when the repair was outside any record, so the store can keep it beside the
raw record and an operator can see why a record looks the way it does.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

WARNING = "warning"
ERROR = "error"


@dataclass(frozen=True)
class Diagnostic:
    level: str  # "warning" | "error"
    code: str  # kebab-case, e.g. "illegal-xml-char"
    message: str  # what and where: offset/line, code point as U+XXXX
    identifier: str | None = None


def code_point(char: str) -> str:
    """U+XXXX notation, the way the Unicode standard names a character."""
    return f"U+{ord(char):04X}"


_NEWLINE = re.compile("\n")


class LineIndex:
    """Offset -> line number for the decoded page, built only when a diagnostic needs it."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def line(self, offset: int) -> int:
        if self._starts is None:
            self._starts = [m.end() for m in _NEWLINE.finditer(self._text)]
        return bisect.bisect_right(self._starts, offset) + 1

    def where(self, offset: int) -> str:
        return f"offset {offset} (line {self.line(offset)})"
