"""The search contract, one set of tests for every backend.

Always runs on the embedded (tantivy) backend.  Runs on Elasticsearch only when
``ICHLINKS_TEST_ES_URL`` points at a disposable cluster; each test then uses its
own alias ``ichlinks-test-<random>`` and deletes its indices afterwards.

Expected results are computed from the corpus below by small reference
functions (which records contain a string, which pass a filter), never typed in.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import (
    FACET_FIELDS,
    IndexOp,
    InvalidSearch,
    RebuildCountMismatch,
    SearchQuery,
    SearchSettings,
    open_backend,
)

ES_URL = os.environ.get("ICHLINKS_TEST_ES_URL")
ES_SKIP = "ICHLINKS_TEST_ES_URL not set: Elasticsearch contract tests did not run"


def rid(key: str) -> str:
    return f"test:{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def record(key: str, title: str, *, lang: str | None = "en", description: str | None = None,
           alt: str | None = None, category: str = "element", countries: list[str] | None = None,
           domains: list[str] | None = None, languages: list[str] | None = None,
           years: tuple[int, int] | None = None, media: list[str] | None = None,
           source: str = "ichcap", subjects: list[str] | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schema_version": "1.0",
        "id": rid(key),
        "source": source,
        "partner": {"name": "Test partner", "country": (countries or [None])[0]},
        "oai": {"identifier": f"oai:test:{key}", "datestamp": "2024-01-01", "sets": [],
                "metadata_prefix": "oai_dc"},
        "category": category,
        "title": [{"value": title, "lang": lang}],
        "provenance": {"harvested_at": "2024-01-02T00:00:00Z", "mapping": "oai_dc",
                       "mapping_version": "1", "raw_sha256": "0" * 64},
    }
    if alt:
        rec["alternative_titles"] = [{"value": alt, "lang": "en"}]
    if description:
        rec["description"] = [{"value": description, "lang": lang}]
    if subjects:
        rec["subjects"] = [{"value": s, "lang": "en"} for s in subjects]
    if countries:
        rec["countries"] = countries
    if domains:
        rec["ich_domains"] = domains
    if languages:
        rec["languages"] = languages
    if years:
        rec["dates"] = [{"type": "created", "value": f"{years[0]}/{years[1]}",
                         "edtf": f"{years[0]}/{years[1]}", "start_year": years[0],
                         "end_year": years[1]}]
    if media:
        rec["media"] = [{"type": m, "url": f"https://example.org/{key}/{m}"} for m in media]
    return rec


CORPUS: dict[str, dict[str, Any]] = {r["oai"]["identifier"].split(":")[-1]: r for r in [
    record("xoan", "Xoan singing of Phú Thọ province", lang="vi",
           description="Hát xoan is sung at the <spring festival> & in village rituals",
           countries=["VN"], domains=["performing_arts", "social_practices"], languages=["vi"],
           years=(2011, 2011), media=["image", "video"]),
    record("xoan2", "Xoan", lang="vi", description="Bài hát xoan cổ của làng Kim Đới",
           category="resource", countries=["VN"], domains=["performing_arts"], languages=["vi"],
           years=(1998, 2005), media=["audio"], source="vn-archive"),
    record("catru", "Ca trù", lang="vi",
           description="Ca trù là một loại hình nghệ thuật trình diễn của người Việt",
           countries=["VN"], domains=["performing_arts"], languages=["vi"], years=(1400, 1500)),
    record("pansori", "판소리 서사적 노래", lang="ko", description="판소리는 한국의 전통 음악이다",
           countries=["KR"], domains=["performing_arts"], languages=["ko"], years=(2003, 2003),
           media=["video"]),
    record("kabuki", "歌舞伎", lang="ja", alt="Kabuki theatre",
           description="歌舞伎は日本の伝統芸能の一つである", countries=["JP"],
           domains=["performing_arts"], languages=["ja"], years=(2005, 2005)),
    record("nohgaku", "能楽", lang="ja", description="能楽は日本の古典芸能である",
           category="resource", countries=["JP"], languages=["ja"], years=(1350, 1400),
           source="jp-archive"),
    record("kunqu", "昆曲", lang="zh", description="昆曲是中国最古老的戏曲剧种之一",
           countries=["CN"], domains=["performing_arts"], languages=["zh"], years=(2001, 2001)),
    record("khon", "โขน", lang="th", description="การแสดงโขนในราชอาณาจักรไทย",
           countries=["TH"], domains=["performing_arts"], languages=["th"], years=(2018, 2018),
           media=["image"]),
    record("nauryz_kk", "Наурыз мейрамы", lang="kk",
           description="Қазақ халқының көктемгі мерекесі", category="event", countries=["KZ"],
           domains=["social_practices"], languages=["kk"], years=(2021, 2021)),
    record("nauryz_lat", "Nauryz meiramy", lang="kk-Latn",
           description="Qazaq halqynyñ köktemgi merekesi", category="event", countries=["KZ"],
           domains=["social_practices"], languages=["kk-Latn"], years=(2022, 2022)),
    record("morin", "Морин хуурын уламжлалт хөгжим", lang="mn",
           description="Монгол ардын хөгжмийн зэмсэг", countries=["MN"],
           domains=["performing_arts", "craftsmanship"], languages=["mn"], years=(2008, 2008),
           media=["audio", "image"]),
    record("khoomei", "Mongolian khoomei throat singing",
           description="Khöömei: the art of Mongolian overtone singing", countries=["MN"],
           domains=["performing_arts"], languages=["en"], years=(2010, 2010)),
    record("ichcap", "ICHCAP information centre", category="stakeholder", countries=["KR"],
           description="A UNESCO category 2 centre for intangible cultural heritage"),
    record("shyrdak", "Shyrdak felt carpets", description="Felt carpets of Kyrgyz and Kazakh makers",
           category="resource", countries=["KG", "KZ"], domains=["craftsmanship"],
           languages=["ky", "kk"], years=(1900, 1950), subjects=["felt", "nomadic craft"]),
    record("manas", "Manas epic trilogy", lang="ky", countries=["KG"],
           domains=["oral_traditions"], subjects=["epic", "Kyrgyz"]),
]}
ALL = set(CORPUS)


def key_of(record_id: str) -> str:
    return next(k for k, r in CORPUS.items() if r["id"] == record_id)


# -- backends ----------------------------------------------------------------------------------

def _drop_es_indices(alias: str) -> None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(ES_URL)
    try:
        names = client.indices.get(index=f"{alias}-v*", allow_no_indices=True).body
        for name in names:
            client.indices.delete(index=name)
    finally:
        client.close()


def _make_backend(kind: str, tmp_path) -> Iterator[Any]:
    if kind == "embedded":
        backend = open_backend(SearchSettings(backend="embedded", path=str(tmp_path / "index")))
        yield backend
        backend.close()
        return
    if not ES_URL:
        pytest.skip(ES_SKIP)
    alias = f"ichlinks-test-{uuid.uuid4().hex[:10]}"
    backend = open_backend(SearchSettings(backend="elasticsearch", url=ES_URL, index=alias))
    try:
        yield backend
    finally:
        backend.close()
        _drop_es_indices(alias)


BACKENDS = ["embedded", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    yield from _make_backend(request.param, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, tmp_path_factory):
    """A backend holding the whole corpus; read-only tests share it."""
    for b in _make_backend(request.param, tmp_path_factory.mktemp("corpus")):
        result = b.apply([IndexOp("upsert", r["id"], 1, r) for r in CORPUS.values()])
        assert result.failed == []
        assert sorted(result.done) == sorted(r["id"] for r in CORPUS.values())
        yield b


def found(backend, **kwargs) -> set[str]:
    res = backend.search(SearchQuery(limit=100, **kwargs))
    keys = {key_of(r["id"]) for r in res["results"]}
    assert res["total"] == len(keys)
    return keys


# -- reference implementations (what the contract says should be found) -------------------------

def _span(rec: dict[str, Any]) -> tuple[int, int] | None:
    years = [(d["start_year"], d["end_year"]) for d in rec.get("dates", [])]
    return (min(s for s, _ in years), max(e for _, e in years)) if years else None


def facet_values(rec: dict[str, Any], name: str) -> list[str]:
    if name == "media_type":
        return sorted({m["type"] for m in rec.get("media", [])})
    value = rec.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def reference_filter(filters: dict[str, list[str]], year_from=None, year_to=None) -> set[str]:
    keys = set()
    for key, rec in CORPUS.items():
        if any(not set(values) & set(facet_values(rec, name)) for name, values in filters.items()):
            continue
        if year_from is not None or year_to is not None:
            span = _span(rec)
            if span is None:
                continue
            if year_from is not None and span[1] < year_from:
                continue
            if year_to is not None and span[0] > year_to:
                continue
        keys.add(key)
    return keys


def reference_facets(keys: set[str]) -> dict[str, dict[str, int]]:
    out = {}
    for name in FACET_FIELDS:
        counts = Counter(v for k in keys for v in facet_values(CORPUS[k], name))
        out[name] = dict(counts)
    return out


# -- shape -------------------------------------------------------------------------------------

def test_result_shape_is_exactly_the_contract(loaded):
    res = loaded.search(SearchQuery(q="xoan"))
    assert set(res) == {"total", "results", "facets"}
    assert set(res["facets"]) == set(FACET_FIELDS)
    assert res["results"], "xoan is in the corpus"
    for row in res["results"]:
        assert set(row) == {"id", "title", "category", "countries", "source", "snippet", "score"}
        rec = CORPUS[key_of(row["id"])]
        assert row["title"] == rec["title"][0]["value"]
        assert row["category"] == rec["category"]
        assert row["countries"] == rec.get("countries", [])
        assert row["source"] == rec["source"]
        assert isinstance(row["score"], float) and row["score"] > 0


def test_count_is_the_number_of_records(loaded):
    assert loaded.count() == len(CORPUS)
    status = loaded.status()
    assert status["doc_count"] == len(CORPUS)
    assert {"backend", "index", "doc_count"} <= set(status)


# -- multilingual --------------------------------------------------------------------------------

MULTILINGUAL = [
    ("Xoan", {"xoan", "xoan2"}),                  # Vietnamese name in a Latin title
    ("xoan singing", {"xoan"}),                   # every word must match
    ("hát xoan", {"xoan", "xoan2"}),              # with diacritics
    ("hat xoan", {"xoan", "xoan2"}),              # without diacritics
    ("ca tru", {"catru"}),
    ("Phu Tho", {"xoan"}),
    ("Kim Doi", {"xoan2"}),                       # đ folds to d
    ("판소리", {"pansori"}),                        # Korean, particle attached in the text
    ("歌舞伎", {"kabuki"}),                          # Japanese, no spaces
    ("伝統芸能", {"kabuki"}),
    ("芸能", {"kabuki", "nohgaku"}),
    ("昆曲", {"kunqu"}),                            # Chinese
    ("戏曲", {"kunqu"}),
    ("โขน", {"khon"}),                              # Thai, no spaces
    ("Наурыз", {"nauryz_kk"}),                    # Kazakh Cyrillic
    ("наурыз", {"nauryz_kk"}),
    ("қазақ", {"nauryz_kk"}),
    ("Qazaq", {"nauryz_lat"}),                    # Kazakh Latin
    ("Nauryz", {"nauryz_lat"}),
    ("Монгол", {"morin"}),                        # Mongolian Cyrillic
    ("морин", {"morin"}),
    ("khoomei", {"khoomei"}),                     # Latin, folded from Khöömei
    ("Khöömei", {"khoomei"}),
    ("Kabuki", {"kabuki"}),                       # alternative title
    ("nomadic", {"shyrdak"}),                     # subjects are searchable
]


@pytest.mark.parametrize(("q", "expected"), MULTILINGUAL, ids=[q for q, _ in MULTILINGUAL])
def test_multilingual_queries_find_exactly_the_records_containing_them(loaded, q, expected):
    assert found(loaded, q=q) == expected


def test_no_cross_script_false_positives(loaded):
    assert found(loaded, q="판소리 歌舞伎") == set()
    assert found(loaded, q="xoan kabuki") == set()


def test_phrases_need_the_words_in_order(loaded):
    assert found(loaded, q='"spring festival"') == {"xoan"}
    assert found(loaded, q='"festival spring"') == set()
    assert found(loaded, q='"felt carpets" Kazakh') == {"shyrdak"}


def test_title_matches_rank_above_description_matches(loaded):
    res = loaded.search(SearchQuery(q="felt"))
    assert [key_of(r["id"]) for r in res["results"]] == ["shyrdak"]
    res = loaded.search(SearchQuery(q="singing"))
    keys = [key_of(r["id"]) for r in res["results"]]
    assert set(keys) == {"xoan", "khoomei"}
    scores = [r["score"] for r in res["results"]]
    assert scores == sorted(scores, reverse=True)


# -- snippets ----------------------------------------------------------------------------------

def _strip_marks(snippet: str) -> str:
    return snippet.replace("<b>", "").replace("</b>", "")


def test_snippet_highlights_and_escapes(loaded):
    res = loaded.search(SearchQuery(q="spring"))
    (row,) = res["results"]
    snippet = row["snippet"]
    assert re.search(r"<b>spring</b>", snippet, re.IGNORECASE)
    plain = _strip_marks(snippet)
    assert "<" not in plain and ">" not in plain, "markup from the record must be escaped"
    assert "&lt;" in plain
    assert html.unescape(plain) in CORPUS["xoan"]["description"][0]["value"]


def test_snippet_highlights_cjk(loaded):
    (row,) = loaded.search(SearchQuery(q="昆曲"))["results"]
    assert "<b>" in row["snippet"]
    assert "昆曲" in _strip_marks(row["snippet"])


def test_snippet_without_highlight_is_the_escaped_description(loaded):
    res = loaded.search(SearchQuery(filters={"countries": ["VN"]}, limit=100))
    by_key = {key_of(r["id"]): r["snippet"] for r in res["results"]}
    assert by_key["xoan"] == html.escape(CORPUS["xoan"]["description"][0]["value"], quote=False)
    assert "<b>" not in by_key["catru"]


# -- filters, facets, years ----------------------------------------------------------------------

FILTER_CASES = [
    {},
    {"countries": ["KZ"]},
    {"countries": ["KZ", "VN"]},
    {"countries": ["KZ", "VN"], "category": ["event", "resource"]},
    {"ich_domains": ["craftsmanship"]},
    {"media_type": ["image"]},
    {"languages": ["kk"]},
    {"source": ["vn-archive", "jp-archive"]},
    {"countries": ["ZZ"]},
]


@pytest.mark.parametrize("filters", FILTER_CASES, ids=[str(f) for f in FILTER_CASES])
def test_filters_and_facet_counts_match_the_reference(loaded, filters):
    res = loaded.search(SearchQuery(filters=filters, limit=100))
    keys = {key_of(r["id"]) for r in res["results"]}
    expected = reference_filter(filters)
    assert keys == expected
    assert res["total"] == len(expected)
    assert res["facets"] == reference_facets(expected)


def test_facet_counts_follow_the_text_query(loaded):
    res = loaded.search(SearchQuery(q="xoan"))
    assert res["facets"]["category"] == {"element": 1, "resource": 1}
    assert res["facets"]["countries"] == {"VN": 2}
    assert res["facets"]["media_type"] == {"audio": 1, "image": 1, "video": 1}


def test_facets_are_ordered_by_count(loaded):
    counts = loaded.search(SearchQuery())["facets"]["countries"]
    values = list(counts.items())
    assert values == sorted(values, key=lambda kv: (-kv[1], kv[0]))


def test_facets_can_be_switched_off(loaded):
    res = loaded.search(SearchQuery(q="xoan", facets=False))
    assert res["facets"] == {name: {} for name in FACET_FIELDS}
    assert res["total"] == 2


YEAR_CASES = [(2000, 2010), (None, 1500), (2020, None), (1401, 1401), (1999, 1999), (3000, None),
              (2010, 2000)]


@pytest.mark.parametrize(("year_from", "year_to"), YEAR_CASES)
def test_year_range_keeps_overlapping_spans(loaded, year_from, year_to):
    expected = reference_filter({}, year_from, year_to)
    assert found(loaded, year_from=year_from, year_to=year_to) == expected


def test_year_range_combines_with_text_and_filters(loaded):
    assert found(loaded, q="xoan", year_from=2000, year_to=2003) == {"xoan2"}
    assert found(loaded, filters={"countries": ["JP"]}, year_to=1999) == {"nohgaku"}


def test_unknown_filter_field_is_a_programming_error(loaded):
    with pytest.raises(InvalidSearch):
        loaded.search(SearchQuery(filters={"colour": ["red"]}))


# -- paging ------------------------------------------------------------------------------------

@pytest.mark.parametrize("q", ["", "singing", "Kazakh"])
def test_pages_partition_the_full_listing(loaded, q):
    full = loaded.search(SearchQuery(q=q, limit=100, facets=False))
    ids = [r["id"] for r in full["results"]]
    assert full["total"] == len(ids)
    paged: list[str] = []
    for offset in range(0, len(ids) + 3, 3):
        page = loaded.search(SearchQuery(q=q, limit=3, offset=offset, facets=False))
        assert page["total"] == full["total"]
        paged += [r["id"] for r in page["results"]]
    assert paged == ids
    assert len(set(paged)) == len(paged)


def test_empty_query_lists_everything_by_id(loaded):
    res = loaded.search(SearchQuery(limit=100))
    ids = [r["id"] for r in res["results"]]
    assert ids == sorted(r["id"] for r in CORPUS.values())
    assert res["total"] == len(CORPUS)


def test_limit_is_capped_and_offset_past_the_end_is_empty(loaded):
    assert len(loaded.search(SearchQuery(limit=10_000))["results"]) == len(CORPUS)
    res = loaded.search(SearchQuery(offset=len(CORPUS) + 5))
    assert res["results"] == [] and res["total"] == len(CORPUS)
    assert loaded.search(SearchQuery(limit=0))["results"] == []


# -- hostile input -------------------------------------------------------------------------------

HOSTILE = ['"', "(", ")", "AND OR", "OR", "NOT", "*", "?", "\\", "\\\\", "/", "~", "^", "[", "{",
           ":", "title:xoan", "xoan~", "x*", '{"query": {"match_all": {}}}', "a" * 10_000,
           "판" * 10_000, "xoan " * 3_000, "' OR 1=1 --", "<script>alert(1)</script>", "\x00",
           "\u200b", "🎵🎶", "%", "+xoan -kabuki", "xoan AND (", 'xoan "', "&&", "||", "!",
           "\ufffd", "       ", "\n\t"]


@pytest.mark.parametrize("q", HOSTILE, ids=[repr(q[:20]) for q in HOSTILE])
def test_hostile_query_text_gives_results_or_nothing(loaded, q):
    res = loaded.search(SearchQuery(q=q))
    assert set(res) == {"total", "results", "facets"}
    assert res["total"] >= len(res["results"])
    assert {key_of(r["id"]) for r in res["results"]} <= ALL


@settings(max_examples=150, deadline=None)
@given(q=st.text(alphabet=st.characters(codec="utf-8"), max_size=120)
       | st.sampled_from(HOSTILE).map(lambda h: h[:300]) | st.text("\"\\()*:^~{}[] aAxo판歌", max_size=40))
def test_any_text_is_a_safe_query(loaded, q):
    res = loaded.search(SearchQuery(q=q, limit=5))
    assert set(res) == {"total", "results", "facets"}
    assert len(res["results"]) <= 5 and res["total"] >= len(res["results"])


def test_operators_are_plain_words(loaded):
    # "title:xoan" is the two words "title" and "xoan", not a field query.
    assert found(loaded, q="title:xoan") == set()
    assert found(loaded, q="xoan:") == {"xoan", "xoan2"}
    # A JSON body is text, and match_all is not a word in any record.
    assert found(loaded, q='{"query": {"match_all": {}}}') == set()
    # Punctuation alone is no query at all.
    assert found(loaded, q="(*)") == ALL


# -- versions ----------------------------------------------------------------------------------

def _titles(backend, q: str) -> list[str]:
    return [r["title"] for r in backend.search(SearchQuery(q=q))["results"]]


def test_upsert_respects_versions(backend):
    rec = CORPUS["xoan"]
    newer = {**rec, "title": [{"value": "Xoan singing, revised", "lang": "en"}]}
    r = backend.apply([IndexOp("upsert", rec["id"], 2, newer)])
    assert r.done == [rec["id"]] and r.failed == []
    r = backend.apply([IndexOp("upsert", rec["id"], 1, rec)])  # stale replay
    assert r.done == [rec["id"]] and r.failed == []
    assert _titles(backend, "xoan") == ["Xoan singing, revised"]
    r = backend.apply([IndexOp("upsert", rec["id"], 2, rec)])  # same version: not newer
    assert r.done == [rec["id"]]
    assert _titles(backend, "xoan") == ["Xoan singing, revised"]
    r = backend.apply([IndexOp("upsert", rec["id"], 3, rec)])
    assert _titles(backend, "xoan") == [rec["title"][0]["value"]]
    assert backend.count() == 1


def test_delete_respects_versions_and_absent_documents(backend):
    rec = CORPUS["kabuki"]
    backend.apply([IndexOp("upsert", rec["id"], 5, rec)])
    r = backend.apply([IndexOp("delete", rec["id"], 4, None)])  # stale delete
    assert r.done == [rec["id"]] and r.failed == []
    assert backend.count() == 1
    r = backend.apply([IndexOp("delete", rec["id"], 6, None)])
    assert r.done == [rec["id"]] and r.failed == []
    assert backend.count() == 0
    assert found(backend, q="歌舞伎") == set()
    r = backend.apply([IndexOp("upsert", rec["id"], 5, rec)])  # replay older than the delete
    assert r.done == [rec["id"]]
    assert backend.count() == 0
    absent = rid("never-indexed")
    r = backend.apply([IndexOp("delete", absent, 1, None)])
    assert r.done == [absent] and r.failed == []
    r = backend.apply([IndexOp("upsert", rec["id"], 7, rec)])  # re-harvested later
    assert found(backend, q="歌舞伎") == {"kabuki"}


def test_searchable_versions_follow_upserts_and_deletes(backend):
    a, b = CORPUS["xoan"], CORPUS["kabuki"]
    never = rid("never-indexed")
    assert backend.searchable_versions([a["id"], never]) == {}
    backend.apply([IndexOp("upsert", a["id"], 3, a), IndexOp("upsert", b["id"], 2, b)])
    assert backend.searchable_versions([a["id"], b["id"], never]) == {a["id"]: 3, b["id"]: 2}
    backend.apply([IndexOp("upsert", a["id"], 5, a), IndexOp("delete", b["id"], 4, None)])
    assert backend.searchable_versions([a["id"], b["id"]]) == {a["id"]: 5}  # a delete is not searchable
    assert backend.searchable_versions([]) == {}


def test_a_batch_keeps_the_highest_version_per_record(backend):
    rec = CORPUS["khon"]
    renamed = {**rec, "title": [{"value": "Khon masked dance", "lang": "en"}]}
    r = backend.apply([IndexOp("upsert", rec["id"], 2, renamed), IndexOp("upsert", rec["id"], 1, rec),
                       IndexOp("delete", rec["id"], 1, None)])
    assert r.done == [rec["id"]] and r.failed == []
    assert _titles(backend, "khon") == ["Khon masked dance"]


def test_bad_ops_fail_with_their_id_and_others_apply(backend):
    good, other = CORPUS["manas"], CORPUS["catru"]
    no_title = {**CORPUS["pansori"], "title": []}
    r = backend.apply([
        IndexOp("upsert", good["id"], 1, good),
        IndexOp("upsert", rid("missing"), 1, None),
        IndexOp("upsert", rid("mismatch"), 1, other),
        IndexOp("upsert", no_title["id"], 1, no_title),
        IndexOp("rename", rid("odd"), 1, None),
    ])
    assert r.done == [good["id"]]
    failed = dict(r.failed)
    assert set(failed) == {rid("missing"), rid("mismatch"), no_title["id"], rid("odd")}
    assert all(reason for reason in failed.values())
    assert backend.count() == 1


# -- rebuild -----------------------------------------------------------------------------------

def _ops(keys, version=1):
    return (IndexOp("upsert", CORPUS[k]["id"], version, CORPUS[k]) for k in keys)


def test_rebuild_swaps_in_a_fresh_index_when_the_count_matches(backend):
    backend.apply(list(_ops(["xoan", "kabuki", "khon"])))
    report = backend.rebuild(_ops(["xoan", "pansori"], version=9), expected=2)
    assert report["count"] == 2 and report["expected"] == 2
    assert backend.count() == 2
    assert found(backend, q="歌舞伎") == set()      # gone: not in the rebuild stream
    assert found(backend, q="판소리") == {"pansori"}
    # versions came with the rebuild: an older replay does not win
    stale = {**CORPUS["pansori"], "title": [{"value": "old", "lang": "en"}]}
    backend.apply([IndexOp("upsert", stale["id"], 3, stale)])
    assert _titles(backend, "판소리") == [CORPUS["pansori"]["title"][0]["value"]]


def test_rebuild_with_a_wrong_count_raises_and_keeps_the_old_index(backend):
    backend.apply(list(_ops(["xoan", "kabuki"])))
    with pytest.raises(RebuildCountMismatch) as info:
        backend.rebuild(_ops(["pansori"]), expected=5)
    assert info.value.expected == 5 and info.value.actual == 1
    assert backend.count() == 2
    assert found(backend, q="歌舞伎") == {"kabuki"}
    assert found(backend, q="판소리") == set()
    # the index still takes writes after the failed rebuild
    backend.apply(list(_ops(["khon"])))
    assert backend.count() == 3


def test_rebuild_reports_rejected_records(backend):
    broken = {**CORPUS["manas"], "title": []}
    with pytest.raises(RebuildCountMismatch) as info:
        backend.rebuild(iter([IndexOp("upsert", broken["id"], 1, broken), *_ops(["khon"])]), expected=2)
    assert [rid_ for rid_, _ in info.value.failed] == [broken["id"]]
    assert broken["id"] in str(info.value)
