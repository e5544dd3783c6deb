"""The indexer's exception tree.

The search index is a derived copy of the store, so every error here is about
*this copy*: the caller (the outbox relay, the ``reindex`` command, the web
service) decides whether to retry, leave work pending or rebuild.  Foreign
exceptions (tantivy's ``ValueError``, the Elasticsearch client's
``TransportError``/``ApiError``) are wrapped at the backend boundary with
``raise ... from exc``.

::

    IndexingError                  root; the indexer never raises anything else on purpose
    ├─ BackendUnavailable          engine unreachable or index unopenable; retry later
    ├─ IndexLocked                 another process holds the embedded index's writer lock
    ├─ DocumentRejected            one record cannot become a search document; .record_id
    ├─ RebuildCountMismatch        rebuilt index holds a different number of docs; no swap
    └─ InvalidSearch               a SearchQuery the contract does not allow (unknown filter field)
"""

from __future__ import annotations


class IndexingError(Exception):
    """Root of every error the indexer raises."""


class BackendUnavailable(IndexingError):
    """The engine cannot be reached or the index cannot be opened; worth retrying."""


class IndexLocked(IndexingError):
    """Another writer holds the embedded index; the caller's ops stay pending."""


class DocumentRejected(IndexingError):
    """One ICH record cannot be turned into a search document."""

    def __init__(self, record_id: str | None, reason: str) -> None:
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"{record_id or '<no id>'}: {reason}")


class RebuildCountMismatch(IndexingError):
    """A rebuilt index does not hold what the store said it should; the old index stays live."""

    def __init__(self, expected: int, actual: int, failed: list[tuple[str, str]] | None = None) -> None:
        self.expected = expected
        self.actual = actual
        self.failed = list(failed or [])
        detail = ""
        if self.failed:
            shown = "; ".join(f"{rid}: {why}" for rid, why in self.failed[:5])
            more = f" (+{len(self.failed) - 5} more)" if len(self.failed) > 5 else ""
            detail = f"; rejected documents: {shown}{more}"
        super().__init__(
            f"rebuilt index holds {actual} documents, expected {expected}; not swapped{detail}")


class InvalidSearch(IndexingError, ValueError):
    """The SearchQuery itself breaks the contract (not the user's text, which is always accepted)."""
