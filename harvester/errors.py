"""The harvester's exception tree.

Every error a harvest can meet carries the context an operator needs to act on it
(source, URL, verb, resumption token, record identifier), so a log line or a
``--json`` summary can say *where* without a traceback.  Foreign exceptions
(httpx, lxml, SQLAlchemy) are wrapped at one boundary with ``raise ... from exc``.

::

    IchlinksError                   exit code 1
    ├─ ConfigError                  exit code 2; file, line, key path
    │  └─ ConfigProblems            several at once, each a ConfigError, in line order
    ├─ StoreError                   the database failed or is unreachable
    └─ HarvestError                 source, url, verb, token
       ├─ TransportError            connect/read failures; retryable
       ├─ HTTPStatusError           .status; retryable on 408/429/5xx
       ├─ MalformedResponse         not OAI-PMH XML at all; raw bytes kept
       ├─ HarvestLoopError          a token that repeats or a run of empty pages
       ├─ VanishedSet               a configured set is no longer in the repository's ListSets
       └─ OAIProtocolError          .code; one subclass per OAI-PMH error code
          ├─ BadArgument            badArgument
          ├─ BadResumptionToken     badResumptionToken
          ├─ BadVerb                badVerb
          ├─ CannotDisseminateFormat cannotDisseminateFormat
          ├─ IdDoesNotExist         idDoesNotExist
          ├─ NoMetadataFormats      noMetadataFormats
          ├─ NoRecordsMatch         noRecordsMatch (the harvester treats it as an empty list)
          └─ NoSetHierarchy         noSetHierarchy
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class IchlinksError(Exception):
    """Root of every error the ichlinks command turns into a message and an exit code."""

    exit_code = 1


class ConfigError(IchlinksError):
    """The configuration cannot be used; names the file, line and key path."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 key: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<config>"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            where += f": {self.key}"
        return f"{where}: {self.message}"


class ConfigProblems(ConfigError):
    """Every mistake found in one configuration file, so one edit can fix them all.

    Its own ``message``, ``line`` and ``key`` are the first problem's, so code that handles a
    single :class:`ConfigError` still points somewhere true.
    """

    def __init__(self, problems: Sequence[ConfigError]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, path=first.path, line=first.line, key=first.key)

    @classmethod
    def of(cls, problems: Sequence[ConfigError]) -> ConfigError:
        """One problem as itself; several, sorted by line, as one error listing them."""
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        return ordered[0] if len(ordered) == 1 else cls(ordered)

    def __str__(self) -> str:
        listed = "\n".join(f"  {p}" for p in self.problems)
        return f"{self.path or '<config>'}: {len(self.problems)} problems\n{listed}"


class StoreError(IchlinksError):
    """The record store failed; nothing of the current page was committed."""


class HarvestError(IchlinksError):
    """A harvest request failed; carries what is needed to find and repeat it."""

    retryable = False

    def __init__(self, message: str, *, source: str | None = None, url: str | None = None,
                 verb: str | None = None, token: str | None = None,
                 identifier: str | None = None) -> None:
        self.message = message
        self.source = source
        self.url = url
        self.verb = verb
        self.token = token
        self.identifier = identifier
        super().__init__(str(self))

    def context(self) -> dict[str, Any]:
        return {k: v for k, v in (("source", self.source), ("url", self.url), ("verb", self.verb),
                                  ("token", self.token), ("identifier", self.identifier)) if v}

    def __str__(self) -> str:
        parts = [self.message]
        ctx = self.context()
        if ctx:
            parts.append("(" + ", ".join(f"{k}={v}" for k, v in ctx.items()) + ")")
        return " ".join(parts)


class TransportError(HarvestError):
    """The server could not be reached or the connection broke; worth retrying."""

    retryable = True


class HTTPStatusError(HarvestError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int, retry_after: float | None = None,
                 **context: Any) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message, **context)

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status in (408, 429) or self.status >= 500


class MalformedResponse(HarvestError):
    """The body is not an OAI-PMH response; the bytes are kept for the report."""

    def __init__(self, message: str, *, body: bytes = b"", **context: Any) -> None:
        self.body = body
        super().__init__(message, **context)


class HarvestLoopError(HarvestError):
    """The server keeps the harvest going round: the same token again, or endless empty pages."""


class VanishedSet(HarvestError):
    """A configured set answers noRecordsMatch and is no longer listed by ListSets.

    Not an empty set: its records were probably moved or the set renamed, so a full
    harvest must not take their absence for deletions.
    """


class OAIProtocolError(HarvestError):
    """The server answered with an OAI-PMH <error> element (spec section 3.6)."""

    code = "unknown"

    def __init__(self, message: str, *, code: str | None = None, **context: Any) -> None:
        if code is not None:
            self.code = code
        super().__init__(message, **context)


class BadArgument(OAIProtocolError):
    code = "badArgument"


class BadResumptionToken(OAIProtocolError):
    code = "badResumptionToken"


class BadVerb(OAIProtocolError):
    code = "badVerb"


class CannotDisseminateFormat(OAIProtocolError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIProtocolError):
    code = "idDoesNotExist"


class NoMetadataFormats(OAIProtocolError):
    code = "noMetadataFormats"


class NoRecordsMatch(OAIProtocolError):
    code = "noRecordsMatch"


class NoSetHierarchy(OAIProtocolError):
    code = "noSetHierarchy"


OAI_ERRORS: dict[str, type[OAIProtocolError]] = {
    cls.code: cls
    for cls in (BadArgument, BadResumptionToken, BadVerb, CannotDisseminateFormat,
                IdDoesNotExist, NoMetadataFormats, NoRecordsMatch, NoSetHierarchy)
}


def oai_error(code: str, message: str, **context: Any) -> OAIProtocolError:
    """Build the subclass for an OAI-PMH error code; unknown codes keep their code."""
    cls = OAI_ERRORS.get(code, OAIProtocolError)
    text = f"OAI-PMH error {code}: {message}".rstrip(": ")
    if cls is OAIProtocolError:
        return OAIProtocolError(text, code=code, **context)
    return cls(text, **context)


class SearchIndexError(IchlinksError):
    """The search index could not be read, written or rebuilt (wraps indexer.IndexingError)."""


class SuppressionError(IchlinksError):
    """A record cannot be withheld or released as asked (not found, ambiguous, being harvested)."""
