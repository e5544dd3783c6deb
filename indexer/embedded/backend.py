"""The embedded search backend: a tantivy index in a local directory, no server.

One writer at a time (tantivy's directory lock, across processes): ``apply``
takes the lock per batch and gives it back, so the outbox relay and a
``reindex`` can run as separate processes; a batch that finds the lock taken
fails as a whole and stays pending.  Readers (the web service) reopen the
searcher before every query, so they see each commit and each rebuild swap.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import tantivy

from ..contract import FACET_FIELDS, ApplyResult, IndexOp, SearchQuery, SearchSettings
from ..errors import BackendUnavailable, DocumentRejected, IndexLocked, RebuildCountMismatch
from ..op_batch import coalesce, op_problem
from ..search_document import field_config, search_document
from ..search_request import empty_facets, ordered_counts, search_request
from ..snippets import leading_snippet
from . import generations
from .heap import trim_heap
from .analysis import layout, register_analyzers, text_field
from .documents import index_document, tombstone_document
from .queries import full_query

log = logging.getLogger("ichlinks.index")

# Writer memory: tantivy flushes a segment when the heap is full, so memory stays
# bounded whatever the repository size.  (15 MB per thread is tantivy's minimum.)
APPLY_HEAP = 32_000_000
REBUILD_HEAP = 96_000_000
# Snippet sources, best first: a highlighted description beats a highlighted title.
_SNIPPET_GROUPS = ("description", "title")


def _finish_merges(session: _WriterSession) -> None:
    """Let the merges this commit started finish before the writer is dropped.

    A writer dropped mid-merge throws the merge away, so with one short-lived writer
    per batch segments were never merged: every batch left one more segment, and each
    commit restarted (and lost) the same merge work.  The batch is committed already;
    a failed merge only leaves segments as they were, so it does not fail the batch.
    """
    try:
        session.writer.wait_merging_threads()  # consumes the writer
    except (ValueError, RuntimeError) as exc:
        log.warning("index merge after commit failed (segments left unmerged): %s", exc)


def _is_lock_busy(exc: Exception) -> bool:
    return "LockBusy" in str(exc)


class _WriterSession:
    """Holds the only reference to a tantivy writer, so releasing it frees the directory lock."""

    def __init__(self, writer: tantivy.IndexWriter) -> None:
        self.writer: Any = writer

    def release(self) -> None:
        self.writer = None  # tantivy drops the lock when the writer is garbage


class EmbeddedBackend:
    """``SearchBackend`` over tantivy; see the module docstring for the concurrency rules."""

    def __init__(self, settings: SearchSettings) -> None:
        self.root = Path(settings.path)
        self._lock = threading.RLock()
        self._generation: str | None = None
        self._index: tantivy.Index | None = None
        self._write_index: tantivy.Index | None = None

    # -- opening -----------------------------------------------------------------------------

    def _open(self, path: Path, *, writing: bool = False) -> tantivy.Index:
        """An ``Index`` object on ``path``; ``writing`` ones only ever serve writers (see
        ``register_analyzers``), the others searches and snippets."""
        try:
            index = tantivy.Index(layout().schema, path=str(path), reuse=True)
        except ValueError as exc:
            raise BackendUnavailable(
                f"cannot open index {path}: {exc} (built by another version? run `ichlinks reindex`)"
            ) from exc
        register_analyzers(index, writing=writing)
        index.config_reader("manual", 0)
        return index

    def _ensure_generation(self) -> str:
        name = generations.current(self.root)
        if name is not None:
            return name
        path = generations.make_next(self.root)
        self._open(path)  # creates the empty index files
        if generations.claim_first(self.root, path.name):
            return path.name
        generations.remove(self.root, path.name)
        name = generations.current(self.root)
        assert name is not None
        return name

    def _current(self, *, writing: bool = False) -> tantivy.Index:
        """The live generation's index with a fresh searcher (``writing``: the object writers use)."""
        with self._lock:
            try:
                name = self._ensure_generation()
            except (OSError, ValueError) as exc:
                raise BackendUnavailable(f"cannot open index under {self.root}: {exc}") from exc
            if name != self._generation or self._index is None:
                self._index = self._open(self.root / name)
                self._write_index = None
                self._generation = name
            if writing and self._write_index is None:
                self._write_index = self._open(self.root / name, writing=True)
            index = self._write_index if writing else self._index
            assert index is not None
            try:
                index.reload()
            except ValueError as exc:
                raise BackendUnavailable(f"cannot reload index {self.root / name}: {exc}") from exc
            return index

    @contextmanager
    def _writer(self, index: tantivy.Index, heap: int, threads: int) -> Iterator[_WriterSession]:
        try:
            session = _WriterSession(index.writer(heap, threads))
        except ValueError as exc:
            if _is_lock_busy(exc):
                raise IndexLocked(f"index {self.root} is locked by another writer") from exc
            raise BackendUnavailable(f"cannot open a writer on {self.root}: {exc}") from exc
        try:
            yield session
        except BaseException:
            try:
                session.writer.rollback()
            except (ValueError, RuntimeError):  # RuntimeError: consumed by _finish_merges
                pass
            raise
        finally:
            session.release()
            trim_heap()  # the writer's arenas are free now; see heap.py

    # -- documents ---------------------------------------------------------------------------

    @staticmethod
    def _indexed_versions(searcher: tantivy.Searcher, ids: list[str]) -> dict[str, int]:
        """Version of the live document or tombstone currently indexed for each id.

        Read from the fast (columnar) ``id`` and ``version`` fields, never from stored
        documents: fetching those decompressed a doc-store block per id, and an update
        of 500 records mapped some 30 MB of a 100,000-record index into the process.
        """
        found: dict[str, int] = {}
        chunk = 512
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            query = tantivy.Query.term_set_query(layout().schema, "id", part)
            hits = searcher.search(query, limit=max(1, 2 * len(part)), order_by_field="id").hits
            versions = searcher.fast_field_values("version", [address for _, address in hits])
            for (rid, _), version in zip(hits, versions):
                found[rid] = max(version, found.get(rid, version))
        return found

    # -- SearchBackend -----------------------------------------------------------------------

    def apply(self, ops: Sequence[IndexOp]) -> ApplyResult:
        winners, failed = coalesce(ops)
        done: list[str] = []
        if not winners:
            return ApplyResult(done=done, failed=failed)
        written: list[str] = []
        settled: set[str] = set()
        try:
            index = self._current(writing=True)
            with self._writer(index, APPLY_HEAP, 1) as session:
                if generations.current(self.root) != self._generation:
                    raise IndexLocked("index was swapped by a rebuild while this batch started")
                versions = self._indexed_versions(index.searcher(), [op.id for op in winners])
                for op in winners:
                    have = versions.get(op.id)
                    if have is not None and have >= op.version:
                        done.append(op.id)  # stale replay, or a delete of something already gone
                        settled.add(op.id)
                        continue
                    if op.action == "upsert":
                        try:
                            document = index_document(search_document(op.record), op.version)  # type: ignore[arg-type]
                        except DocumentRejected as exc:
                            failed.append((op.id, exc.reason))
                            settled.add(op.id)
                            continue
                    else:
                        document = tombstone_document(op.id, op.version)
                    session.writer.delete_documents_by_term("id", op.id)
                    session.writer.add_document(document)
                    written.append(op.id)
                session.writer.commit()
                _finish_merges(session)
            done.extend(written)
        except (IndexLocked, BackendUnavailable) as exc:
            failed.extend((op.id, str(exc)) for op in winners if op.id not in settled)
        except (ValueError, OSError, RuntimeError) as exc:
            failed.extend((op.id, f"index write failed: {exc}") for op in winners
                          if op.id not in settled)
        return ApplyResult(done=done, failed=failed)

    def search(self, query: SearchQuery) -> dict[str, Any]:
        request = search_request(query)
        config = field_config()
        index = self._current()
        searcher = index.searcher()
        if request.impossible:
            return {"total": 0, "results": [], "facets": empty_facets()}
        run, text = full_query(request)
        fetch = max(1, request.limit)
        if text is None:
            # No text: every hit scores the same, so list by id for stable paging.
            found = searcher.search(run, limit=fetch, offset=request.offset, count=True,
                                    order_by_field="id", order=tantivy.Order.Asc)
        else:
            found = searcher.search(run, limit=fetch, offset=request.offset, count=True)
        hits = found.hits[: request.limit]
        results = []
        snippet_makers = self._snippet_makers(searcher, text) if hits and text is not None else []
        for score, address in hits:
            stored = searcher.doc(address)
            display = orjson.loads(bytes(stored.get_first(layout().display)))
            results.append({
                "id": stored.get_first("id"),
                "title": display["title"],
                "category": display["category"],
                "countries": display["countries"],
                "source": display["source"],
                "snippet": self._snippet(snippet_makers, display, config.snippet_chars),
                "score": float(score) if text is not None else 1.0,
            })
        facets = self._facets(searcher, run) if request.facets else empty_facets()
        return {"total": int(found.count), "results": results, "facets": facets}

    @staticmethod
    def _snippet_makers(searcher: tantivy.Searcher, text: tantivy.Query) -> list[tuple[str, str, Any]]:
        makers = []
        chars = field_config().snippet_chars
        for group in _SNIPPET_GROUPS:
            for form in layout().forms:
                field = text_field(group, form)
                maker = tantivy.SnippetGenerator.create(searcher, text, layout().schema, field)
                maker.set_max_num_chars(chars)
                makers.append((group, field, maker))
        return makers

    @staticmethod
    def _snippet(makers: list[tuple[str, str, Any]], display: dict[str, Any], chars: int) -> str:
        sources = {"description": display["descriptions"], "title": display["titles"]}
        for group, field, maker in makers:
            values = sources[group]
            if not values:
                continue
            doc = tantivy.Document()
            for value in values:
                doc.add_text(field, value)
            snippet = maker.snippet_from_doc(doc)
            if snippet.highlighted():
                return snippet.to_html()
        return leading_snippet(display["descriptions"], display["titles"], chars)

    @staticmethod
    def _facets(searcher: tantivy.Searcher, query: tantivy.Query) -> dict[str, dict[str, int]]:
        size = field_config().facet_size
        aggs = {name: {"terms": {"field": name, "size": size}} for name in FACET_FIELDS}
        raw = searcher.aggregate(query, aggs)
        return {name: ordered_counts([(str(b["key"]), int(b["doc_count"]))
                                      for b in raw.get(name, {}).get("buckets", [])], size)
                for name in FACET_FIELDS}

    def count(self) -> int:
        searcher = self._current().searcher()
        live = tantivy.Query.term_query(layout().schema, "live", 1)
        return int(searcher.search(live, limit=1, count=True).count)

    def searchable_versions(self, ids: Sequence[str]) -> dict[str, int]:
        searcher = self._current().searcher()
        schema = layout().schema
        live = tantivy.Query.term_query(schema, "live", 1)
        found: dict[str, int] = {}
        chunk = 512
        for i in range(0, len(ids), chunk):
            part = list(ids[i:i + chunk])
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, tantivy.Query.term_set_query(schema, "id", part)),
                (tantivy.Occur.Must, live)])
            hits = searcher.search(query, limit=max(1, 2 * len(part)), order_by_field="id").hits
            versions = searcher.fast_field_values("version", [address for _, address in hits])
            for (rid, _), version in zip(hits, versions):
                found[rid] = max(version, found.get(rid, version))
        return found

    def rebuild(self, ops: Iterable[IndexOp], expected: int) -> dict[str, Any]:
        started = time.monotonic()
        old_index = self._current()
        old_name = self._generation
        rejected: list[tuple[str, str]] = []
        # Hold the live index's writer lock throughout: outbox batches arriving meanwhile
        # fail, stay pending and land in the new generation after the swap.
        with self._writer(old_index, 15_000_000, 1):
            new_path = generations.make_next(self.root)
            try:
                new_index = self._open(new_path, writing=True)
                threads = max(1, min(2, os.cpu_count() or 1))
                with self._writer(new_index, REBUILD_HEAP, threads) as session:
                    for op in ops:
                        if op.action == "delete":
                            continue  # nothing to delete in a fresh index
                        problem = op_problem(op)
                        if problem is not None:
                            rejected.append((str(op.id), problem))
                            continue
                        try:
                            doc = search_document(op.record)  # type: ignore[arg-type]
                        except DocumentRejected as exc:
                            rejected.append((op.id, exc.reason))
                            continue
                        session.writer.add_document(index_document(doc, op.version))
                    session.writer.commit()
                    session.writer.wait_merging_threads()
                new_index.reload()
                live = tantivy.Query.term_query(layout().schema, "live", 1)
                actual = int(new_index.searcher().search(live, limit=1, count=True).count)
                if actual != expected:
                    raise RebuildCountMismatch(expected, actual, rejected)
            except BaseException:
                new_index = None  # release files before removing them
                generations.remove(self.root, new_path.name)
                raise
            generations.switch(self.root, new_path.name)
        pruned = generations.prune(self.root, keep={new_path.name, old_name or ""})
        self._current()
        return {
            "backend": "embedded",
            "index": str(self.root),
            "generation": new_path.name,
            "previous": old_name,
            "count": actual,
            "expected": expected,
            "rejected": rejected,
            "pruned": pruned,
            "seconds": round(time.monotonic() - started, 3),
        }

    def status(self) -> dict[str, Any]:
        index = self._current()
        searcher = index.searcher()
        return {
            "backend": "embedded",
            "index": str(self.root),
            "generation": self._generation,
            "path": str(self.root / (self._generation or "")),
            "doc_count": self.count(),
            "segments": int(searcher.num_segments),
            "schema_revision": layout().revision,
            "generations": generations.generations(self.root),
        }

    def close(self) -> None:
        with self._lock:
            self._index = None
            self._write_index = None
            self._generation = None
