"""What the Elasticsearch backend *sends*, through the real ``elasticsearch`` client.

No Elasticsearch server runs here.  A tiny HTTP server on 127.0.0.1 records the
requests the real client serialises and answers with minimal, hand-written
Elasticsearch JSON (including per-item bulk errors, 409 and 404).  These tests
prove the request bodies and our handling of those answers; they do NOT prove
that Elasticsearch accepts or interprets them as intended: that is what
``tests/test_search_contract.py`` checks when ``ICHLINKS_TEST_ES_URL`` is set.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import indexer.elasticsearch.backend as es_backend
from indexer import (
    FACET_FIELDS,
    IndexOp,
    RebuildCountMismatch,
    SearchQuery,
    SearchSettings,
    open_backend,
)
from indexer.elasticsearch.definition import index_body, search_fields
from indexer.search_document import field_config, search_document

# -- the recording server --------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]


Reply = tuple[int, Any]


@dataclass
class FakeES:
    """Routes are (method regex, path regex) -> function(Seen, match) -> (status, json)."""

    routes: list[tuple[str, str, Callable[[Seen, re.Match], Reply]]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def on(self, method: str, path: str, reply: Callable[[Seen, re.Match], Reply] | Reply) -> None:
        fn = reply if callable(reply) else (lambda _s, _m, r=reply: r)
        self.routes.insert(0, (method, path, fn))

    def answer(self, seen: Seen) -> Reply:
        self.seen.append(seen)
        for method, path, fn in self.routes:
            m = re.fullmatch(path, seen.path)
            if re.fullmatch(method, seen.method) and m:
                return fn(seen, m)
        return 400, {"error": {"type": "unexpected_request", "reason": f"{seen.method} {seen.path}"},
                     "status": 400}

    def requests(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if re.fullmatch(method, s.method) and re.fullmatch(path, s.path)]


def _handler(fake: FakeES):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, unquote(parts.path), parse_qs(parts.query),
                        {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            status, payload = fake.answer(seen)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.elasticsearch+json;compatible-with=9")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake():
    es = FakeES()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(es))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    es.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield es
    server.shutdown()
    server.server_close()
    thread.join()


def backend_for(es: FakeES, **settings: Any):
    return open_backend(SearchSettings(backend="elasticsearch", url=es.url, **settings))  # type: ignore[attr-defined]


def alias_exists(es: FakeES, alias: str = "ichlinks", index: str = "ichlinks-v1") -> None:
    es.on("HEAD", f"/_alias/{alias}", (200, None))
    es.on("GET", f"/_alias/{alias}", (200, {index: {"aliases": {alias: {}}}}))


def bulk_items(reply: Callable[[list[Any]], list[dict[str, Any]]]):
    """A /_bulk route answering each action line with ``reply(actions)``."""
    def route(seen: Seen, _m: re.Match) -> Reply:
        lines = seen.ndjson()
        actions = [line for line in lines if set(line) & {"index", "delete", "create", "update"}]
        items = reply(actions)
        return 200, {"took": 1, "errors": any(i[next(iter(i))]["status"] >= 300 for i in items),
                     "items": items}
    return route


def created(actions: list[Any]) -> list[dict[str, Any]]:
    out = []
    for action in actions:
        op, meta = next(iter(action.items()))
        out.append({op: {"_index": "ichlinks-v1", "_id": meta["_id"], "_version": meta.get("version"),
                         "result": "created" if op != "delete" else "deleted",
                         "status": 201 if op != "delete" else 200}})
    return out


def rid(key: str) -> str:
    return f"test:{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def record(key: str, title: str, **extra: Any) -> dict[str, Any]:
    rec = {
        "schema_version": "1.0", "id": rid(key), "source": "ichcap",
        "partner": {"name": "P", "country": "KR"},
        "oai": {"identifier": f"oai:t:{key}", "datestamp": None, "sets": [], "metadata_prefix": "oai_dc"},
        "category": "element", "title": [{"value": title, "lang": "en"}],
        "provenance": {"harvested_at": None, "mapping": "oai_dc", "mapping_version": "1",
                       "raw_sha256": "0" * 64},
    }
    rec.update(extra)
    return rec


PANSORI = record("pansori", "판소리", description=[{"value": "판소리는 전통 음악", "lang": "ko"}],
                 countries=["KR"], ich_domains=["performing_arts"], languages=["ko"],
                 dates=[{"type": "created", "value": "2003", "start_year": 2003, "end_year": 2003}],
                 media=[{"type": "video", "url": "https://example.org/v"}])
XOAN = record("xoan", "Hát xoan", countries=["VN"])


# -- the index definition ----------------------------------------------------------------------

BUILTIN_TOKENIZERS = {"standard", "thai", "whitespace", "keyword"}
BUILTIN_FILTERS = {"lowercase", "asciifolding", "cjk_width", "cjk_bigram", "keep_types"}


def test_index_definition_uses_only_analysis_built_into_a_stock_image():
    body = index_body()
    analysis = body["settings"]["analysis"]
    assert "icu" not in json.dumps(body).lower() and "kuromoji" not in json.dumps(body).lower()
    custom = {name: spec["type"] for name, spec in analysis.get("filter", {}).items()}
    assert set(custom.values()) <= BUILTIN_FILTERS
    for name, analyzer in analysis["analyzer"].items():
        assert analyzer["tokenizer"] in BUILTIN_TOKENIZERS, name
        assert {custom.get(f, f) for f in analyzer.get("filter", [])} <= BUILTIN_FILTERS, name
    used = {spec.get("analyzer") for spec in body["mappings"]["properties"].values()}
    used |= {sub["analyzer"] for spec in body["mappings"]["properties"].values()
             for sub in spec.get("fields", {}).values()}
    assert used - {None} == set(analysis["analyzer"])


def test_index_definition_maps_every_searchable_and_facet_field():
    props = index_body()["mappings"]["properties"]
    assert index_body()["mappings"]["dynamic"] == "strict"
    for group in field_config().text_groups:
        spec = props[f"{group}_text"]
        assert spec["type"] == "text"
        assert set(spec["fields"]) == {"folded", "cjk", "thai"}
    for name in FACET_FIELDS:
        assert props[name] == {"type": "keyword"}
    assert props["year_min"]["type"] == props["year_max"]["type"] == "integer"
    # every field named in a query exists in the mapping
    for entry in search_fields():
        name = entry.split("^")[0]
        top, _, sub = name.partition(".")
        assert top in props and (not sub or sub in props[top]["fields"])


def test_documents_have_exactly_the_mapped_fields():
    from indexer.elasticsearch.definition import source_document

    source = source_document(search_document(PANSORI), 7)
    props = index_body()["mappings"]["properties"]
    assert set(source) <= set(props)
    assert source["version"] == 7 and source["title"] == "판소리"
    assert source["description_text"] == ["판소리는 전통 음악"]
    assert source["media_type"] == ["video"] and source["year_min"] == source["year_max"] == 2003


# -- apply -------------------------------------------------------------------------------------

def test_first_apply_creates_v1_behind_the_alias_with_the_index_definition(fake):
    fake.on("HEAD", "/_alias/ichlinks", (404, None))
    fake.on("HEAD", "/ichlinks", (404, None))
    fake.on("GET", "/ichlinks-v\\*", (200, {}))
    fake.on("GET", "/_alias/ichlinks", (404, {"error": "alias [ichlinks] missing", "status": 404}))
    fake.on("PUT", "/ichlinks-v1", (200, {"acknowledged": True, "index": "ichlinks-v1"}))
    fake.on("PUT|POST", "/_bulk", bulk_items(created))
    result = backend_for(fake).apply([IndexOp("upsert", PANSORI["id"], 1, PANSORI)])
    assert result.done == [PANSORI["id"]] and result.failed == []
    (create,) = fake.requests("PUT", "/ichlinks-v1")
    expected = index_body()
    expected["aliases"] = {"ichlinks": {"is_write_index": True}}
    assert create.json() == expected


def test_bulk_lines_carry_the_record_version_as_external_version(fake):
    alias_exists(fake)
    fake.on("PUT|POST", "/_bulk", bulk_items(created))
    ops = [IndexOp("upsert", PANSORI["id"], 41, PANSORI), IndexOp("delete", XOAN["id"], 9, None)]
    result = backend_for(fake).apply(ops)
    assert sorted(result.done) == sorted([PANSORI["id"], XOAN["id"]])
    (bulk,) = fake.requests("PUT|POST", "/_bulk")
    lines = bulk.ndjson()
    assert lines[0] == {"index": {"_index": "ichlinks", "_id": PANSORI["id"], "version": 41,
                                  "version_type": "external"}}
    assert lines[1]["id"] == PANSORI["id"] and lines[1]["version"] == 41
    assert lines[1]["countries"] == ["KR"] and lines[1]["title_text"] == ["판소리"]
    assert lines[2] == {"delete": {"_index": "ichlinks", "_id": XOAN["id"], "version": 9,
                                   "version_type": "external"}}
    assert len(lines) == 3, "a delete has no source line"
    assert bulk.query.get("refresh") == ["wait_for"]


def test_bulk_outcomes_409_and_404_are_done_other_errors_fail_with_their_id(fake):
    alias_exists(fake)
    stale, gone, bad, fine = rid("stale"), rid("gone"), rid("bad"), rid("fine")

    def reply(actions):
        by_id = {
            stale: {"index": {"_id": stale, "status": 409, "error": {
                "type": "version_conflict_engine_exception",
                "reason": "[x]: version conflict, current version [5] is higher or equal"}}},
            gone: {"delete": {"_id": gone, "status": 404, "result": "not_found"}},
            bad: {"index": {"_id": bad, "status": 400, "error": {
                "type": "document_parsing_exception", "reason": "failed to parse field [year_min]"}}},
            fine: {"index": {"_id": fine, "status": 201, "result": "created"}},
        }
        return [by_id[next(iter(a.values()))["_id"]] for a in actions]

    fake.on("PUT|POST", "/_bulk", bulk_items(reply))
    ops = [IndexOp("upsert", stale, 2, record("stale", "s")), IndexOp("delete", gone, 3, None),
           IndexOp("upsert", bad, 1, record("bad", "b")), IndexOp("upsert", fine, 1, record("fine", "f"))]
    result = backend_for(fake).apply(ops)
    assert sorted(result.done) == sorted([stale, gone, fine])
    assert [i for i, _ in result.failed] == [bad]
    assert "document_parsing_exception" in result.failed[0][1] and "400" in result.failed[0][1]


def test_429_items_are_retried_with_backoff_and_then_succeed(fake, monkeypatch):
    monkeypatch.setattr(es_backend, "INITIAL_BACKOFF", 0.01)
    alias_exists(fake)
    calls = []

    def reply(actions):
        calls.append([next(iter(a.values()))["_id"] for a in actions])
        if len(calls) == 1:
            first = created(actions[:1])
            busy = [{"index": {"_id": next(iter(a.values()))["_id"], "status": 429, "error": {
                "type": "es_rejected_execution_exception", "reason": "queue full"}}} for a in actions[1:]]
            return first + busy
        return created(actions)

    fake.on("PUT|POST", "/_bulk", bulk_items(reply))
    recs = [record(f"r{i}", f"t{i}") for i in range(3)]
    result = backend_for(fake).apply([IndexOp("upsert", r["id"], 1, r) for r in recs])
    assert sorted(result.done) == sorted(r["id"] for r in recs) and result.failed == []
    assert calls == [[r["id"] for r in recs], [r["id"] for r in recs[1:]]]


def test_a_failed_bulk_request_fails_every_op_without_raising(fake):
    alias_exists(fake)
    fake.on("PUT|POST", "/_bulk", (500, {"error": {"type": "internal", "reason": "boom"}, "status": 500}))
    recs = [record("a", "a"), record("b", "b")]
    result = backend_for(fake).apply([IndexOp("upsert", r["id"], 1, r) for r in recs])
    assert result.done == []
    assert sorted(i for i, _ in result.failed) == sorted(r["id"] for r in recs)


def test_unreachable_cluster_fails_every_op_without_raising():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again before use: connection refused
    backend = open_backend(SearchSettings(backend="elasticsearch", url=f"http://127.0.0.1:{port}"))
    ops = [IndexOp("upsert", XOAN["id"], 1, XOAN), IndexOp("delete", PANSORI["id"], 2, None)]
    result = backend.apply(ops)
    assert result.done == []
    assert {i for i, _ in result.failed} == {XOAN["id"], PANSORI["id"]}
    assert all("unavailable" in reason for _, reason in result.failed)


def test_rejected_records_never_reach_the_bulk_request(fake):
    alias_exists(fake)
    fake.on("PUT|POST", "/_bulk", bulk_items(created))
    broken = {**XOAN, "title": []}
    result = backend_for(fake).apply([IndexOp("upsert", broken["id"], 1, broken),
                                      IndexOp("upsert", PANSORI["id"], 1, PANSORI)])
    assert result.done == [PANSORI["id"]]
    assert [i for i, _ in result.failed] == [broken["id"]]
    (bulk,) = fake.requests("PUT|POST", "/_bulk")
    assert broken["id"] not in bulk.body.decode()


def test_api_key_is_sent(fake):
    alias_exists(fake)
    fake.on("PUT|POST", "/_bulk", bulk_items(created))
    backend_for(fake, api_key="c2VjcmV0OmtleQ==").apply([IndexOp("delete", XOAN["id"], 1, None)])
    assert all(s.headers.get("authorization") == "ApiKey c2VjcmV0OmtleQ==" for s in fake.seen)


# -- search ------------------------------------------------------------------------------------

def _walk(node: Any, path: tuple[str, ...] = ()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,), k, v
            yield from _walk(v, path + (k,))
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, path)


SEARCH_RESPONSE = {
    "took": 2, "timed_out": False,
    "hits": {"total": {"value": 2, "relation": "eq"}, "max_score": 3.5, "hits": [
        {"_index": "ichlinks-v1", "_id": PANSORI["id"], "_score": 3.5,
         "_source": {"id": PANSORI["id"], "title": "판소리", "category": "element", "countries": ["KR"],
                     "source": "ichcap", "title_text": ["판소리"], "description_text": ["판소리는 전통 음악"]},
         "highlight": {"title_text.cjk": ["<b>판소</b>리"],
                       "description_text.cjk": ["<b>판소리</b>는 전통 음악"]}},
        {"_index": "ichlinks-v1", "_id": XOAN["id"], "_score": 1.25,
         "_source": {"id": XOAN["id"], "title": "Hát xoan", "category": "element", "countries": ["VN"],
                     "source": "ichcap", "title_text": ["Hát xoan"],
                     "description_text": ["a <long> & winding text"]}},
    ]},
    "aggregations": {name: {"buckets": []} for name in FACET_FIELDS} | {
        "countries": {"buckets": [{"key": "VN", "doc_count": 1}, {"key": "KR", "doc_count": 1}]},
        "category": {"buckets": [{"key": "element", "doc_count": 2}]}},
}


def test_search_body_is_multi_match_filters_range_aggs_and_highlight(fake):
    fake.on("POST|GET", "/ichlinks/_search", (200, SEARCH_RESPONSE))
    query = SearchQuery(q='판소리 "spring festival"', filters={"countries": ["KR", "VN"], "category": []},
                        year_from=1990, year_to=2020, limit=5, offset=10)
    res = backend_for(fake).search(query)
    (sent,) = fake.requests("POST|GET", "/ichlinks/_search")
    body = sent.json()
    must = body["query"]["bool"]["must"]
    assert must[0] == {"multi_match": {"query": "판소리", "type": "best_fields", "operator": "and",
                                       "fields": search_fields()}}
    assert must[1]["multi_match"]["type"] == "phrase"
    assert must[1]["multi_match"]["query"] == "spring festival"
    assert body["query"]["bool"]["filter"] == [
        {"terms": {"countries": ["KR", "VN"]}},
        {"range": {"year_max": {"gte": 1990}}},
        {"range": {"year_min": {"lte": 2020}}},
    ]
    assert body["from"] == 10 and body["size"] == 5 and body["track_total_hits"] is True
    assert body["sort"] == [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}]
    assert set(body["aggs"]) == set(FACET_FIELDS)
    assert body["aggs"]["countries"] == {"terms": {"field": "countries",
                                                   "size": field_config().facet_size}}
    assert body["highlight"]["encoder"] == "html" and body["highlight"]["pre_tags"] == ["<b>"]
    # the contract's answer, from the canned response
    assert res["total"] == 2
    first, second = res["results"]
    assert first["snippet"] == "<b>판소리</b>는 전통 음악", "a description highlight is preferred"
    assert first["score"] == 3.5 and first["title"] == "판소리" and first["countries"] == ["KR"]
    assert second["snippet"] == "a &lt;long&gt; &amp; winding text", "no highlight: escaped description"
    assert res["facets"]["countries"] == {"KR": 1, "VN": 1}
    assert res["facets"]["category"] == {"element": 2}
    assert res["facets"]["media_type"] == {}


HOSTILE = ['{"query": {"match_all": {}}}', 'title:x OR (y AND z*) \\', '"', "a" * 10_000,
           '{"script": {"source": "ctx._source"}}']


@pytest.mark.parametrize("q", HOSTILE, ids=[repr(q[:16]) for q in HOSTILE])
def test_user_text_only_ever_becomes_a_multi_match_query_value(fake, q):
    fake.on("POST|GET", "/ichlinks/_search", (200, SEARCH_RESPONSE))
    backend_for(fake).search(SearchQuery(q=q))
    body = fake.requests("POST|GET", "/ichlinks/_search")[-1].json()
    keys = {k for _, k, _ in _walk(body)}
    assert not keys & {"query_string", "simple_query_string", "script", "script_score"}
    for path, key, value in _walk(body):
        if isinstance(value, str) and key == "query":
            assert path[-2] == "multi_match"
    assert len(json.dumps(body)) < 20_000, "hostile text is cut before it reaches the engine"


def test_empty_text_lists_by_id_without_highlight(fake):
    fake.on("POST|GET", "/ichlinks/_search", (200, SEARCH_RESPONSE))
    res = backend_for(fake).search(SearchQuery(facets=False))
    body = fake.requests("POST|GET", "/ichlinks/_search")[-1].json()
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["sort"] == [{"id": {"order": "asc"}}]
    assert "highlight" not in body and "aggs" not in body
    assert all(r["score"] == 1.0 for r in res["results"])
    assert res["facets"] == {name: {} for name in FACET_FIELDS}


def test_search_before_anything_was_indexed_is_empty(fake):
    fake.on("POST|GET", "/ichlinks/_search", (404, {"error": {"type": "index_not_found_exception",
                                                              "reason": "no such index"}, "status": 404}))
    res = backend_for(fake).search(SearchQuery(q="xoan"))
    assert res == {"total": 0, "results": [], "facets": {name: {} for name in FACET_FIELDS}}


# -- rebuild -----------------------------------------------------------------------------------

def _rebuild_routes(es: FakeES, count: int) -> None:
    alias_exists(es)
    es.on("GET", "/ichlinks-v\\*", (200, {"ichlinks-v1": {}, "ichlinks-v7-old": {}}))
    es.on("PUT", "/ichlinks-v2", (200, {"acknowledged": True}))
    es.on("PUT|POST", "/_bulk", bulk_items(created))
    es.on("PUT", "/ichlinks-v2/_settings", (200, {"acknowledged": True}))
    es.on("POST|GET", "/ichlinks-v2/_refresh", (200, {"_shards": {"failed": 0}}))
    es.on("POST|GET", "/ichlinks-v2/_count", (200, {"count": count}))
    es.on("POST", "/_aliases", (200, {"acknowledged": True}))
    es.on("DELETE", "/ichlinks-v[12]", (200, {"acknowledged": True}))


def test_rebuild_loads_a_new_versioned_index_counts_it_then_swaps_the_alias(fake):
    _rebuild_routes(fake, count=2)
    ops = [IndexOp("upsert", PANSORI["id"], 3, PANSORI), IndexOp("upsert", XOAN["id"], 8, XOAN),
           IndexOp("delete", rid("gone"), 4, None)]
    report = backend_for(fake).rebuild(iter(ops), expected=2)
    assert report["concrete_index"] == "ichlinks-v2" and report["previous"] == ["ichlinks-v1"]
    order = [(s.method, s.path) for s in fake.seen]
    steps = [("PUT", "/ichlinks-v2"), ("PUT", "/_bulk"), ("PUT", "/ichlinks-v2/_settings"),
             ("POST", "/_aliases"), ("DELETE", "/ichlinks-v1")]
    positions = [next(i for i, (m, p) in enumerate(order)
                      if p == path and (m == method or path == "/_bulk")) for method, path in steps]
    assert positions == sorted(positions), order
    create = fake.requests("PUT", "/ichlinks-v2")[0].json()
    assert create["settings"]["index"]["refresh_interval"] == "-1"
    assert "aliases" not in create, "the alias moves only after the count check"
    lines = fake.requests("PUT|POST", "/_bulk")[0].ndjson()
    headers = [line["index"] for line in lines if "index" in line]
    assert [(h["_index"], h["_id"], h["version"], h["version_type"]) for h in headers] == [
        ("ichlinks-v2", PANSORI["id"], 3, "external"), ("ichlinks-v2", XOAN["id"], 8, "external")]
    assert not any("delete" in line for line in lines)
    assert fake.requests("PUT", "/ichlinks-v2/_settings")[0].json() == {"index": {"refresh_interval": None}}
    assert fake.requests("POST", "/_aliases")[0].json() == {"actions": [
        {"remove": {"index": "ichlinks-v1", "alias": "ichlinks"}},
        {"add": {"index": "ichlinks-v2", "alias": "ichlinks", "is_write_index": True}},
    ]}


def test_rebuild_with_a_wrong_count_drops_the_new_index_and_never_touches_the_alias(fake):
    _rebuild_routes(fake, count=1)
    with pytest.raises(RebuildCountMismatch):
        backend_for(fake).rebuild(iter([IndexOp("upsert", PANSORI["id"], 1, PANSORI)]), expected=2)
    assert fake.requests("POST", "/_aliases") == []
    assert [s.path for s in fake.requests("DELETE", ".*")] == ["/ichlinks-v2"]


def test_a_refused_search_answers_nothing_found_instead_of_raising(fake):
    fake.on("POST|GET", "/ichlinks/_search", (400, {"error": {"type": "too_many_nested_clauses",
                                                              "reason": "Query contains too many nested clauses"},
                                                    "status": 400}))
    res = backend_for(fake).search(SearchQuery(q="판" * 200))
    assert res == {"total": 0, "results": [], "facets": {name: {} for name in FACET_FIELDS}}


def test_an_unreachable_cluster_on_search_is_reported_as_unavailable():
    from indexer import BackendUnavailable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = open_backend(SearchSettings(backend="elasticsearch", url=f"http://127.0.0.1:{port}"))
    with pytest.raises(BackendUnavailable):
        backend.search(SearchQuery(q="xoan"))
