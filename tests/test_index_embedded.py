"""The embedded (tantivy) backend's own promises: one writer, fresh readers, atomic rebuild swaps."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import tantivy

from indexer import (
    BackendUnavailable,
    IndexLocked,
    IndexOp,
    RebuildCountMismatch,
    SearchQuery,
    SearchSettings,
    open_backend,
)
from indexer.embedded import generations


def rid(key: str) -> str:
    return f"test:{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def record(key: str, title: str) -> dict[str, Any]:
    return {
        "schema_version": "1.0", "id": rid(key), "source": "ichcap",
        "partner": {"name": "P", "country": "KR"},
        "oai": {"identifier": f"oai:t:{key}", "datestamp": None, "sets": [], "metadata_prefix": "oai_dc"},
        "category": "element", "title": [{"value": title, "lang": "en"}],
        "provenance": {"harvested_at": None, "mapping": "oai_dc", "mapping_version": "1",
                       "raw_sha256": "0" * 64},
    }


def upsert(key: str, title: str, version: int = 1) -> IndexOp:
    rec = record(key, title)
    return IndexOp("upsert", rec["id"], version, rec)


def titles(backend, q: str = "") -> list[str]:
    return sorted(r["title"] for r in backend.search(SearchQuery(q=q, limit=100))["results"])


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "index"


def open_at(root: Path):
    return open_backend(SearchSettings(backend="embedded", path=str(root)))


def live_dir(root: Path) -> Path:
    name = generations.current(root)
    assert name is not None
    return root / name


# -- writer lock -------------------------------------------------------------------------------

def test_a_locked_index_fails_the_batch_and_recovers_when_released(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha")])
    other = tantivy.Index.open(str(live_dir(root)))
    holder = other.writer(15_000_000, 1)
    result = backend.apply([upsert("b", "beta"), IndexOp("delete", rid("a"), 2, None)])
    assert result.done == []
    assert {i for i, _ in result.failed} == {rid("b"), rid("a")}
    assert all("locked" in reason for _, reason in result.failed)
    assert titles(backend) == ["alpha"]
    del holder
    result = backend.apply([upsert("b", "beta")])
    assert result.done == [rid("b")]
    assert titles(backend) == ["alpha", "beta"]


def test_a_writer_in_another_process_blocks_apply_until_it_exits(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha")])
    script = textwrap.dedent(f"""
        import sys, tantivy
        index = tantivy.Index.open({str(live_dir(root))!r})
        writer = index.writer(15_000_000, 1)
        print("locked", flush=True)
        sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        result = backend.apply([upsert("b", "beta")])
        assert result.done == [] and [i for i, _ in result.failed] == [rid("b")]
    finally:
        proc.communicate("\n", timeout=30)
    assert backend.apply([upsert("b", "beta")]).done == [rid("b")]


def test_the_writer_lock_is_released_after_each_batch(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha")])
    # Would raise LockBusy if apply had kept its writer.
    writer = tantivy.Index.open(str(live_dir(root))).writer(15_000_000, 1)
    del writer


# -- readers -----------------------------------------------------------------------------------

def test_a_long_lived_reader_sees_every_commit(root):
    reader, writer = open_at(root), open_at(root)
    assert titles(reader) == []
    writer.apply([upsert("a", "alpha")])
    assert titles(reader) == ["alpha"]
    writer.apply([IndexOp("delete", rid("a"), 2, None), upsert("b", "beta")])
    assert titles(reader) == ["beta"]
    assert reader.count() == 1


def test_tombstones_are_neither_counted_nor_found(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha"), IndexOp("delete", rid("ghost"), 3, None)])
    assert backend.count() == 1
    assert backend.status()["doc_count"] == 1
    res = backend.search(SearchQuery())
    assert [r["id"] for r in res["results"]] == [rid("a")]
    assert res["facets"]["category"] == {"element": 1}


class _NoStoredDocuments:
    """A searcher that refuses to read stored documents (the columnar fields must do)."""

    def __init__(self, searcher: tantivy.Searcher) -> None:
        self._searcher = searcher

    def doc(self, address: Any) -> Any:
        raise AssertionError("stored document read")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._searcher, name)


def test_indexed_versions_come_from_the_columns_across_segments(root):
    from indexer.embedded.backend import EmbeddedBackend

    backend = open_at(root)
    backend.apply([upsert("a", "alpha", 3), upsert("b", "beta", 1)])   # one segment
    backend.apply([IndexOp("delete", rid("b"), 7, None), upsert("c", "gamma", 2)])  # another
    searcher = _NoStoredDocuments(backend._current().searcher())
    ids = [rid("a"), rid("b"), rid("c"), rid("never")]
    assert EmbeddedBackend._indexed_versions(searcher, ids) == {rid("a"): 3, rid("b"): 7, rid("c"): 2}
    # A replay older than what is indexed changes nothing; a newer one lands.
    backend.apply([upsert("a", "stale", 2), upsert("c", "fresh", 4)])
    assert titles(backend) == ["alpha", "fresh"]


# -- rebuild -----------------------------------------------------------------------------------

def test_rebuild_switches_the_pointer_and_a_running_reader_follows(root):
    reader, admin = open_at(root), open_at(root)
    admin.apply([upsert("a", "alpha")])
    first = generations.current(root)
    assert titles(reader) == ["alpha"]
    report = admin.rebuild(iter([upsert("b", "beta"), upsert("c", "gamma")]), expected=2)
    second = generations.current(root)
    assert second != first and report["generation"] == second and report["previous"] == first
    assert titles(reader) == ["beta", "gamma"]
    assert (root / first).is_dir(), "the replaced generation stays for readers that still use it"
    admin.rebuild(iter([upsert("d", "delta")]), expected=1)
    assert generations.generations(root) == [second, generations.current(root)]
    assert titles(reader) == ["delta"]


def test_a_failed_rebuild_leaves_no_generation_behind(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha")])
    before = generations.generations(root)
    with pytest.raises(RebuildCountMismatch):
        backend.rebuild(iter([upsert("b", "beta")]), expected=3)
    assert generations.generations(root) == before
    assert titles(backend) == ["alpha"]


def test_batches_arriving_during_a_rebuild_stay_pending_then_land_in_the_new_index(root):
    admin, relay = open_at(root), open_at(root)
    relay.apply([upsert("a", "alpha")])
    during: list[Any] = []

    def stream():
        yield upsert("a", "alpha")
        during.append(relay.apply([upsert("late", "late arrival")]))
        yield upsert("b", "beta")

    admin.rebuild(stream(), expected=2)
    (result,) = during
    assert result.done == [] and [i for i, _ in result.failed] == [rid("late")]
    assert relay.apply([upsert("late", "late arrival")]).done == [rid("late")]
    assert titles(admin) == ["alpha", "beta", "late arrival"]


def test_rebuild_refuses_while_another_writer_holds_the_index(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha")])
    holder = tantivy.Index.open(str(live_dir(root))).writer(15_000_000, 1)
    before = generations.generations(root)
    with pytest.raises(IndexLocked):
        backend.rebuild(iter([upsert("b", "beta")]), expected=1)
    del holder
    assert generations.generations(root) == before
    assert titles(backend) == ["alpha"]


def test_rebuild_consumes_the_stream_once_and_lazily(root):
    backend = open_at(root)
    pulled = []

    def stream():
        for i in range(300):
            pulled.append(i)
            yield upsert(f"r{i}", f"record {i}")

    backend.rebuild(stream(), expected=300)
    assert pulled == list(range(300))
    assert backend.count() == 300
    assert backend.search(SearchQuery(q="record", limit=5))["total"] == 300


# -- generations and opening -------------------------------------------------------------------

def test_only_one_first_generation_can_be_claimed(tmp_path):
    a, b = generations.make_next(tmp_path), generations.make_next(tmp_path)
    assert a != b
    assert generations.claim_first(tmp_path, a.name) is True
    assert generations.claim_first(tmp_path, b.name) is False
    assert generations.current(tmp_path) == a.name
    generations.switch(tmp_path, b.name)
    assert generations.current(tmp_path) == b.name
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_corrupt_pointer_is_reported_not_guessed(root):
    root.mkdir(parents=True)
    (root / generations.POINTER).write_text("../../etc\n")
    with pytest.raises(BackendUnavailable):
        open_at(root).count()


def test_an_index_built_with_another_schema_asks_for_a_reindex(root):
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("something_else", stored=True)
    path = generations.make_next(root)
    tantivy.Index(builder.build(), path=str(path))
    generations.switch(root, path.name)
    with pytest.raises(BackendUnavailable, match="reindex"):
        open_at(root).search(SearchQuery(q="x"))


def test_status_reports_the_live_generation(root):
    backend = open_at(root)
    backend.apply([upsert("a", "alpha")])
    status = backend.status()
    assert status["backend"] == "embedded"
    assert status["index"] == str(root)
    assert status["generation"] == generations.current(root)
    assert status["doc_count"] == 1


def test_bigrams_are_written_as_one_term_each_in_order():
    from indexer.embedded.analysis import analyzer, bigram_index_text, query_tokens

    text = "ab 판소리는 x 歌舞伎 の"
    assert bigram_index_text(text) == "판소 소리 리는 歌舞 舞伎 の"
    assert analyzer("bigram", writing=True).analyze(bigram_index_text(text)) == [
        "판소", "소리", "리는", "歌舞", "舞伎", "の"]
    assert bigram_index_text("plain latin words") == ""
    # the query side produces the same terms
    assert query_tokens("bigram", "판소리") == ["판소", "소리"]
    assert query_tokens("folded", "Hát Đồng") == ["hat", "dong"]


def test_bigram_phrases_match_only_in_order_and_snippets_highlight_the_characters(root):
    backend = open_at(root)
    try:
        backend.apply([upsert("p", "판소리는 한국의 전통 음악"), upsert("k", "歌舞伎は日本の伝統芸能"),
                       upsert("r", "한국의 판소리")])
        # parts of two words: only the bigram form can match, by positions running on
        # from one run to the next
        assert titles(backend, '"소리는 한국"') == ["판소리는 한국의 전통 음악"]
        assert titles(backend, '"한국 소리는"') == []
        assert titles(backend, '"판소리는 한국의"') == ["판소리는 한국의 전통 음악"]
        assert titles(backend, '"한국의 판소리는"') == []
        assert titles(backend, '"한국의 판소리"') == ["한국의 판소리"]
        assert titles(backend, "판소리") == sorted(["한국의 판소리", "판소리는 한국의 전통 음악"])
        assert titles(backend, '"伎は日本"') == ["歌舞伎は日本の伝統芸能"]
        (hit,) = backend.search(SearchQuery(q="芸能"))["results"]
        assert "<b>芸能</b>" in hit["snippet"]
        # a rebuilt generation is written the same way
        backend.rebuild([upsert("p", "판소리는 한국의 전통 음악")], 1)
        assert titles(backend, '"소리는 한국"') == ["판소리는 한국의 전통 음악"]
        assert titles(backend, '"한국 소리는"') == []
    finally:
        backend.close()


# -- memory ----------------------------------------------------------------------------------------

def test_free_heap_is_handed_back_after_every_writer(root, monkeypatch):
    """glibc keeps a dropped writer's arenas unless asked (relay peak RSS 237 -> 161 MB at 100k)."""
    from indexer.embedded import backend as backend_module
    from indexer.embedded.heap import trim_heap

    if sys.platform.startswith("linux"):
        assert trim_heap() is True, "glibc's malloc_trim must be found on Linux"
    calls: list[bool] = []
    monkeypatch.setattr(backend_module, "trim_heap", lambda: calls.append(True) or True)
    backend = open_at(root)
    assert backend.apply([upsert("a", "Pansori")]).done
    assert backend.apply([upsert("b", "Xoan singing")]).done
    assert len(calls) == 2
    backend.rebuild(iter([upsert("a", "Pansori", 2)]), expected=1)
    assert len(calls) >= 4, "the rebuild's writer and the held live writer"
