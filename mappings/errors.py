"""The mapping package's one exception: a crosswalk *definition* that cannot be used.

Bad *data* never raises; it becomes a :class:`~mappings.records.MappingDiagnostic`.  A bad
definition (unknown transform, XPath that does not compile, a chain whose output does not fit
the ICH field) is a mistake in a file a librarian edits, so the error names the file, the line
and the field, like a compiler would.
"""

from __future__ import annotations


class MappingError(Exception):
    """A crosswalk definition is invalid; raised at load time, never while mapping records."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<crosswalk>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"
