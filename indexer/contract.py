"""The one search contract both backends honour.

The harvester's outbox relay, the ``reindex`` command and the web service talk to
the index only through these types, so an operator can move from the embedded
index on a laptop to Elasticsearch in production by changing ``SearchSettings``
and nothing else.  ``tests/test_search_contract.py`` runs the same tests against
every backend to keep that promise honest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: The facet fields, in the order results report them; also the only filter keys.
FACET_FIELDS: tuple[str, ...] = ("category", "countries", "ich_domains", "source", "languages",
                                 "media_type")

#: Hard ceilings shared by both backends; Elasticsearch refuses from+size beyond 10 000.
MAX_LIMIT = 100
MAX_WINDOW = 10_000


@dataclass(frozen=True)
class SearchSettings:
    backend: str = "embedded"        # "embedded" | "elasticsearch"
    path: str = "var/index"          # embedded index directory
    url: str | None = None           # Elasticsearch URL
    index: str = "ichlinks"          # ES alias; versioned indices "<index>-v<N>" behind it
    api_key: str | None = None
    verify_certs: bool = True


@dataclass(frozen=True)
class IndexOp:
    """One change from the store's outbox.

    ``version`` is monotonic per record: an op whose version is not higher than the
    one already indexed is *stale* and is reported done without being applied, so
    replaying the outbox after a crash can never roll a record back.
    """

    action: str                              # "upsert" | "delete"
    id: str                                  # ICH record id
    version: int
    record: Mapping[str, Any] | None = None  # the ICH record, for upserts


@dataclass(frozen=True)
class ApplyResult:
    """Per-id outcome of a batch; every op's id appears in exactly one of the two lists."""

    done: list[str]                  # applied, or stale, or a delete of an absent document
    failed: list[tuple[str, str]]    # (id, reason): must stay pending upstream


@dataclass(frozen=True)
class SearchQuery:
    """What a user asked for.

    ``q`` is free text typed by anyone: it is never parsed as engine syntax.  Words
    must all match (in any text field); text in balanced double quotes must match
    as a phrase; punctuation and operators are plain text.  Filter values are
    OR-ed within a field and AND-ed across fields.  The year range keeps records
    whose span of dates (earliest start year to latest end year) overlaps it.
    """

    q: str = ""
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    facets: bool = True
    limit: int = 20
    offset: int = 0


@runtime_checkable
class SearchBackend(Protocol):
    """A search engine holding one derived, rebuildable copy of the ICH records."""

    def apply(self, ops: Sequence[IndexOp]) -> ApplyResult:
        """Apply a batch of outbox ops; never raises for per-document or engine trouble."""
        ...

    def search(self, query: SearchQuery) -> dict[str, Any]:
        """``{"total", "results": [...], "facets": {field: {value: count}}}``."""
        ...

    def count(self) -> int:
        """Number of searchable records."""
        ...

    def searchable_versions(self, ids: Sequence[str]) -> dict[str, int]:
        """For each id with a searchable document, that document's version (ids without one
        are left out), so an operator can tell whether the index holds a record's latest change."""
        ...

    def rebuild(self, ops: Iterable[IndexOp], expected: int) -> dict[str, Any]:
        """Build a fresh index from ``ops``; swap it in only if it holds ``expected`` records."""
        ...

    def status(self) -> dict[str, Any]:
        """``backend``, ``index``, ``doc_count`` and backend details for ``ichlinks index status``."""
        ...

    def close(self) -> None:
        ...
