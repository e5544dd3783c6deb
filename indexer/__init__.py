"""Search index for ICH records: an embedded tantivy index or Elasticsearch, one contract.

The indexer knows the ICH record (``mappings/schema/ich-record.schema.json``) and
the engines, never the database: the harvester's outbox relay hands it batches of
``IndexOp`` and keeps whatever ``ApplyResult.failed`` names pending.
"""

from .backends import open_backend
from .contract import (
    FACET_FIELDS,
    ApplyResult,
    IndexOp,
    SearchBackend,
    SearchQuery,
    SearchSettings,
)
from .errors import (
    BackendUnavailable,
    DocumentRejected,
    IndexingError,
    IndexLocked,
    InvalidSearch,
    RebuildCountMismatch,
)

__all__ = [
    "FACET_FIELDS",
    "ApplyResult",
    "BackendUnavailable",
    "DocumentRejected",
    "IndexLocked",
    "IndexOp",
    "IndexingError",
    "InvalidSearch",
    "RebuildCountMismatch",
    "SearchBackend",
    "SearchQuery",
    "SearchSettings",
    "open_backend",
]
