"""Outbox ops -> bulk actions with external versions, and bulk item outcomes -> done/failed.

``version_type="external"`` makes Elasticsearch keep the store's version and
refuse any write whose version is not higher (HTTP 409), so a replayed or
reordered outbox batch can never overwrite newer data.  A 409 therefore means
"already newer": done.  A delete answered 404 found nothing to delete: done.
Deleted documents' versions are remembered only for ``index.gc_deletes``
(60 s by default), so a stale upsert replayed later than that resurrects a
record; the outbox relay replays in version order, which avoids it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..contract import IndexOp
from ..errors import DocumentRejected
from ..search_document import search_document
from .definition import source_document


def bulk_actions(ops: Iterable[IndexOp], index: str,
                 rejected: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    """One action per op; records that cannot become documents go to ``rejected`` instead."""
    for op in ops:
        if op.action == "delete":
            yield {"_op_type": "delete", "_index": index, "_id": op.id,
                   "version": op.version, "version_type": "external"}
            continue
        try:
            doc = search_document(op.record)  # type: ignore[arg-type]
        except DocumentRejected as exc:
            rejected.append((op.id, exc.reason))
            continue
        yield {"_op_type": "index", "_index": index, "_id": op.id, "version": op.version,
               "version_type": "external", "_source": source_document(doc, op.version)}


def item_outcome(op_type: str, item: dict[str, Any]) -> str | None:
    """``None`` when the item counts as done, else the reason it failed."""
    status = int(item.get("status", 500))
    if 200 <= status < 300 or status == 409 or (op_type == "delete" and status == 404):
        return None
    error = item.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}".rstrip(": ")
    else:
        reason = str(error or "unknown error")
    return f"HTTP {status} {reason}"
