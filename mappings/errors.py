"""The mapping package's one exception: a crosswalk *definition* that cannot be used.

Bad *data* never raises; it becomes a :class:`~mappings.records.MappingDiagnostic`.  A bad
definition (unknown transform, XPath that does not compile, a chain whose output does not fit
the ICH field) is a mistake in a file a librarian edits, so the error names the file, the line
and the field, like a compiler would.
"""

from __future__ import annotations

from collections.abc import Sequence


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


class MappingErrors(MappingError):
    """Every mistake found in one crosswalk file at one stage (reading, then compiling).

    Each field's rules are checked even after another field failed, so whoever edits the
    file sees them all at once.  Its own ``message``, ``line`` and ``field`` are the first
    problem's, for code that handles a single :class:`MappingError`.
    """

    def __init__(self, problems: Sequence[MappingError]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, path=first.path, line=first.line, field=first.field)

    @classmethod
    def of(cls, problems: Sequence[MappingError]) -> MappingError:
        """One problem as itself; several, sorted by line, as one error listing them."""
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        return ordered[0] if len(ordered) == 1 else cls(ordered)

    def __str__(self) -> str:
        listed = "\n".join(f"  {p}" for p in self.problems)
        return f"{self.path or '<crosswalk>'}: {len(self.problems)} problems\n{listed}"
