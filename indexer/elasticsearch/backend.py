"""The Elasticsearch search backend: versioned indices behind one alias.

::

    ichlinks  (alias, the only name readers and the outbox relay use)
      └─ ichlinks-v3   (concrete index; a rebuild creates ichlinks-v4, loads and counts it,
                        then moves the alias in one atomic _aliases call and drops v3)

Writes go through ``helpers.streaming_bulk`` with per-document outcomes, retried
with backoff on 429; connection trouble fails the remaining ops of the batch
(they stay pending upstream) and never raises out of ``apply``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elasticsearch import (
    ApiError,
    BadRequestError,
    Elasticsearch,
    NotFoundError,
    TransportError,
    helpers,
)

from ..contract import ApplyResult, IndexOp, SearchQuery, SearchSettings
from ..errors import BackendUnavailable, IndexingError, RebuildCountMismatch
from ..op_batch import coalesce, op_problem
from ..search_request import empty_facets, search_request
from .bulk_actions import bulk_actions, item_outcome
from .definition import index_body
from .query_dsl import search_body, search_result

CHUNK_SIZE = 500
MAX_RETRIES = 5           # per chunk, on 429 (Too Many Requests)
INITIAL_BACKOFF = 0.5     # seconds, doubled per retry
MAX_BACKOFF = 30.0
REQUEST_TIMEOUT = 30.0

_ES_ERRORS = (ApiError, TransportError)

log = logging.getLogger("ichlinks.index")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def make_client(settings: SearchSettings) -> Elasticsearch:
    if not settings.url:
        raise IndexingError("the elasticsearch backend needs SearchSettings.url (ICHLINKS_ES_URL)")
    return Elasticsearch(settings.url, api_key=settings.api_key, verify_certs=settings.verify_certs,
                         request_timeout=REQUEST_TIMEOUT, retry_on_timeout=True, max_retries=3)


class ElasticsearchBackend:
    """``SearchBackend`` over Elasticsearch 9."""

    def __init__(self, settings: SearchSettings, client: Elasticsearch | None = None) -> None:
        self.alias = settings.index
        self.url = _redact(settings.url or "")
        self._client = client if client is not None else make_client(settings)
        self._alias_ready = False
        self._versioned = re.compile(rf"^{re.escape(self.alias)}-v(\d+)$")
        #: Make each applied batch visible to searches before apply returns, as embedded does.
        self.refresh_on_apply: str | bool = "wait_for"

    # -- indices -----------------------------------------------------------------------------

    def _indices_behind_alias(self) -> list[str]:
        try:
            return sorted(self._client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    def _versioned_indices(self) -> list[str]:
        try:
            names = self._client.indices.get(index=f"{self.alias}-v*", allow_no_indices=True).body
        except NotFoundError:
            return []
        return sorted((n for n in names if self._versioned.match(n)),
                      key=lambda n: int(self._versioned.match(n).group(1)))  # type: ignore[union-attr]

    def _next_index(self) -> str:
        numbers = [int(self._versioned.match(n).group(1))  # type: ignore[union-attr]
                   for n in self._versioned_indices() + self._indices_behind_alias()
                   if self._versioned.match(n)]
        return f"{self.alias}-v{max(numbers, default=0) + 1}"

    def _create(self, name: str, *, with_alias: bool, loading: bool = False) -> None:
        body = index_body()
        if loading:
            body["settings"]["index"]["refresh_interval"] = "-1"
        if with_alias:
            body["aliases"] = {self.alias: {"is_write_index": True}}
        self._client.indices.create(index=name, body=body)

    def _ensure_alias(self) -> None:
        """Create ``<alias>-v1`` behind the alias on first use."""
        if self._alias_ready:
            return
        if not self._client.indices.exists_alias(name=self.alias):
            if self._client.indices.exists(index=self.alias):
                raise IndexingError(
                    f"{self.alias!r} is a concrete index, not an alias; run `ichlinks reindex`"
                    " after deleting or renaming it")
            try:
                self._create(self._next_index(), with_alias=True)
            except ApiError:
                # Another process won the race; its alias is as good as ours.
                if not self._client.indices.exists_alias(name=self.alias):
                    raise
        self._alias_ready = True

    # -- SearchBackend -----------------------------------------------------------------------

    def apply(self, ops: Sequence[IndexOp]) -> ApplyResult:
        winners, failed = coalesce(ops)
        done: list[str] = []
        if not winners:
            return ApplyResult(done=done, failed=failed)
        reported: set[str] = set()
        rejected: list[tuple[str, str]] = []
        try:
            self._ensure_alias()
            for ok, info in helpers.streaming_bulk(
                    self._client, bulk_actions(winners, self.alias, rejected),
                    chunk_size=CHUNK_SIZE, raise_on_error=False, raise_on_exception=False,
                    max_retries=MAX_RETRIES, initial_backoff=INITIAL_BACKOFF,
                    max_backoff=MAX_BACKOFF, refresh=self.refresh_on_apply):
                op_type, item = next(iter(info.items()))
                record_id = str(item.get("_id"))
                reason = None if ok else item_outcome(op_type, item)
                if reason is None:
                    done.append(record_id)
                else:
                    failed.append((record_id, reason))
                reported.add(record_id)
        except (*_ES_ERRORS, IndexingError) as exc:
            reason = f"elasticsearch unavailable: {exc}"
            failed.extend((op.id, reason) for op in winners
                          if op.id not in reported and op.id not in {r for r, _ in rejected})
        failed.extend(rejected)
        return ApplyResult(done=done, failed=failed)

    def search(self, query: SearchQuery) -> dict[str, Any]:
        request = search_request(query)
        if request.impossible:
            return {"total": 0, "results": [], "facets": empty_facets()}
        try:
            response = self._client.search(index=self.alias, body=search_body(request))
        except NotFoundError:
            return {"total": 0, "results": [], "facets": empty_facets()}  # nothing indexed yet
        except BadRequestError as exc:
            # Our query, built from user text, was refused (e.g. too many clauses): the
            # contract promises no exception for user text, so answer "nothing found".
            log.warning("elasticsearch refused a search (%s); answering no results", exc)
            return {"total": 0, "results": [], "facets": empty_facets()}
        except _ES_ERRORS as exc:
            raise BackendUnavailable(f"elasticsearch search failed: {exc}") from exc
        return search_result(response.body, request)

    def count(self) -> int:
        try:
            return int(self._client.count(index=self.alias).body["count"])
        except NotFoundError:
            return 0
        except _ES_ERRORS as exc:
            raise BackendUnavailable(f"elasticsearch count failed: {exc}") from exc

    def searchable_versions(self, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        try:
            # Real-time get: a document written but not yet refreshed into search counts too,
            # as it will be searchable within the refresh interval.
            body = self._client.mget(index=self.alias, ids=list(ids), source=False).body
        except NotFoundError:
            return {}  # nothing indexed yet
        except _ES_ERRORS as exc:
            raise BackendUnavailable(f"elasticsearch get failed: {exc}") from exc
        return {str(doc["_id"]): int(doc["_version"]) for doc in body.get("docs", [])
                if doc.get("found")}

    def rebuild(self, ops: Iterable[IndexOp], expected: int) -> dict[str, Any]:
        started = time.monotonic()
        client = self._client
        try:
            previous = self._indices_behind_alias()
            if not previous and client.indices.exists(index=self.alias):
                raise IndexingError(f"{self.alias!r} is a concrete index, not an alias; delete it first")
            new = self._next_index()
            self._create(new, with_alias=False, loading=True)
        except _ES_ERRORS as exc:
            raise BackendUnavailable(f"cannot create the new index: {exc}") from exc
        rejected: list[tuple[str, str]] = []

        def upserts() -> Iterable[IndexOp]:
            for op in ops:
                if op.action == "delete":
                    continue  # nothing to delete in a fresh index
                problem = op_problem(op)
                if problem is not None:
                    rejected.append((str(op.id), problem))
                    continue
                yield op

        try:
            for ok, info in helpers.streaming_bulk(
                    client, bulk_actions(upserts(), new, rejected),
                    chunk_size=CHUNK_SIZE, raise_on_error=False, raise_on_exception=False,
                    max_retries=MAX_RETRIES, initial_backoff=INITIAL_BACKOFF,
                    max_backoff=MAX_BACKOFF):
                if not ok:
                    op_type, item = next(iter(info.items()))
                    reason = item_outcome(op_type, item)
                    if reason is not None:
                        rejected.append((str(item.get("_id")), reason))
            client.indices.put_settings(index=new, settings={"index": {"refresh_interval": None}})
            client.indices.refresh(index=new)
            actual = int(client.count(index=new).body["count"])
        except _ES_ERRORS as exc:
            self._drop(new)
            raise BackendUnavailable(f"rebuild of {new} failed: {exc}") from exc
        if actual != expected:
            self._drop(new)
            raise RebuildCountMismatch(expected, actual, rejected)
        actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": self.alias}} for old in previous]
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        try:
            client.indices.update_aliases(actions=actions)
        except _ES_ERRORS as exc:
            self._drop(new)
            raise BackendUnavailable(f"alias swap to {new} failed; {previous} still live: {exc}") from exc
        self._alias_ready = True
        dropped = [old for old in previous if self._drop(old)]
        return {
            "backend": "elasticsearch",
            "index": self.alias,
            "concrete_index": new,
            "previous": previous,
            "dropped": dropped,
            "count": actual,
            "expected": expected,
            "rejected": rejected,
            "seconds": round(time.monotonic() - started, 3),
        }

    def _drop(self, name: str) -> bool:
        try:
            self._client.indices.delete(index=name)
            return True
        except _ES_ERRORS:
            return False

    def status(self) -> dict[str, Any]:
        try:
            behind = self._indices_behind_alias()
            health = self._client.cluster.health(index=self.alias).body.get("status") if behind else None
        except _ES_ERRORS as exc:
            raise BackendUnavailable(f"elasticsearch status failed: {exc}") from exc
        return {
            "backend": "elasticsearch",
            "index": self.alias,
            "url": self.url,
            "concrete_indices": behind,
            "doc_count": self.count() if behind else 0,
            "health": health,
        }

    def close(self) -> None:
        self._client.close()

