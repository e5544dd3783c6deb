"""The pieces both backends share: user text parsing, bigrams, record flattening, snippets, batching."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import IndexOp, InvalidSearch, SearchQuery
from indexer.contract import MAX_LIMIT, MAX_WINDOW
from indexer.op_batch import coalesce
from indexer.query_text import parse_user_text
from indexer.search_document import field_config, search_document, values_at
from indexer.search_request import search_request
from indexer.segmentation import bigrams, has_bigram_chars
from indexer.snippets import leading_snippet

# -- user text ---------------------------------------------------------------------------------


def test_words_and_balanced_phrases():
    terms = parse_user_text('hát xoan "spring festival" (AND) *')
    assert terms.words == ("hát", "xoan", "AND")
    assert terms.phrases == (("spring", "festival"),)


def test_an_unbalanced_quote_is_just_a_character():
    terms = parse_user_text('"spring festival')
    assert terms.words == ("spring", "festival") and terms.phrases == ()


def test_a_quoted_single_word_is_a_word():
    assert parse_user_text('"xoan"').words == ("xoan",)


def test_punctuation_and_syntax_separate_words():
    assert parse_user_text("title:xoan^2~ AND/OR x*").words == ("title", "xoan", "2", "AND", "OR", "x")
    json_text = parse_user_text('{"query": {"match_all": {}}}')
    assert json_text.words == ("query",) and json_text.phrases == (("match", "all"),)
    assert parse_user_text("\\ ( ) * ?").empty


def test_decomposed_input_is_normalised_to_nfc():
    nfd = unicodedata.normalize("NFD", "hát xoan")
    assert parse_user_text(nfd).words == ("hát", "xoan")


def test_thai_vowel_marks_stay_inside_words():
    assert parse_user_text("ลิเก โขน").words == ("ลิเก", "โขน")


def test_limits_cut_hostile_input():
    config = field_config()
    terms = parse_user_text("word " * 10_000)
    assert len(terms.words) == 1
    terms = parse_user_text(" ".join(f"w{i}" for i in range(1000)))
    assert len(terms.words) == config.max_query_terms
    terms = parse_user_text("a" * 10_000)
    assert terms.words == ("a" * config.max_word_chars,)
    terms = parse_user_text("ab " * 10_000)
    assert terms.words == ("ab",)
    terms = parse_user_text(" ".join([f"{i}" * 45 for i in range(5)] + ["tail"]))
    assert config.max_query_chars < 5 * 46
    assert "tail" not in terms.words, "text beyond max_chars is ignored"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_into_plain_words(text):
    terms = parse_user_text(text)
    for word in terms.words + tuple(w for p in terms.phrases for w in p):
        assert word and not any(ch.isspace() or ch in '"\\*?(){}[]:^~' for ch in word)
        assert len(word) <= field_config().max_word_chars
    assert len(terms.words) + len(terms.phrases) <= field_config().max_query_terms


# -- search request ----------------------------------------------------------------------------

def test_paging_is_clamped_to_the_window():
    req = search_request(SearchQuery(limit=10_000, offset=-5))
    assert req.limit == MAX_LIMIT and req.offset == 0
    req = search_request(SearchQuery(limit=50, offset=MAX_WINDOW - 10))
    assert req.limit == 10
    req = search_request(SearchQuery(offset=10**9))
    assert req.offset == MAX_WINDOW and req.limit == 0


def test_filter_values_are_normalised_and_unknown_fields_refused():
    req = search_request(SearchQuery(filters={"countries": "VN", "category": [], "languages": ["ko", "ko"]}))
    assert req.filters == {"countries": ("VN",), "languages": ("ko",)}
    with pytest.raises(InvalidSearch):
        search_request(SearchQuery(filters={"title": ["x"]}))
    with pytest.raises(InvalidSearch):
        search_request(SearchQuery(year_from="1990"))  # type: ignore[arg-type]


def test_an_inverted_year_range_matches_nothing():
    assert search_request(SearchQuery(year_from=2000, year_to=1990)).impossible
    assert not search_request(SearchQuery(year_from=1990, year_to=1990)).impossible


# -- bigrams -----------------------------------------------------------------------------------

def test_bigrams_of_runs_and_lone_characters():
    assert [b.text for b in bigrams("판소리는 한국")] == ["판소", "소리", "리는", "한국"]
    assert [b.text for b in bigrams("茶 tea 道")] == ["茶", "道"]
    assert [b.text for b in bigrams("Xoan")] == []
    assert [(b.start, b.end) for b in bigrams("a歌舞伎")] == [(1, 3), (2, 4)]
    assert [b.position for b in bigrams("歌舞伎 能楽")] == [0, 1, 2]


@pytest.mark.parametrize("text", ["歌舞伎", "ひらがな", "カタカナー", "판소리", "โขน", "ລາວ", "ខ្មែរ", "မြန်မာ", "𠀋"])
def test_scripts_without_word_spaces_are_bigrammed(text):
    assert has_bigram_chars(text)
    spans = bigrams(text)
    covered = {i for b in spans for i in range(b.start, b.end)}
    assert covered == set(range(len(text)))
    assert all(text[b.start:b.end] == b.text for b in spans)


@pytest.mark.parametrize("text", ["Xoan", "Наурыз", "Khöömei", "Đồng", "ελληνικά", "עברית"])
def test_spaced_scripts_are_not_bigrammed(text):
    assert not has_bigram_chars(text) and bigrams(text) == []


@given(st.text(max_size=60), st.integers(0, 59), st.integers(2, 8))
def test_a_run_inside_any_text_has_all_its_bigrams_in_that_text(prefix, cut, size):
    # The property the bigram index relies on: a query run's bigrams are a subset of
    # the bigrams of every text that contains the run.
    run = "歌舞伎伝統芸能の一つ判소리"[cut % 10: cut % 10 + size]
    if len(run) < 2 or not all(has_bigram_chars(c) for c in run):
        return
    text = prefix + run + prefix
    assert {b.text for b in bigrams(run)} <= {b.text for b in bigrams(text)}


# -- record flattening -------------------------------------------------------------------------

RECORD = {
    "id": "src:0123456789abcdef0123", "source": "src", "category": "resource",
    "title": [{"value": "Main title", "lang": "en"}, {"value": "Deuxième", "lang": "fr"}],
    "alternative_titles": [{"value": "Alt", "lang": "en"}, {"value": "Main title", "lang": "en"}],
    "description": [{"value": "  Desc  ", "lang": "en"}],
    "subjects": [{"value": "music", "lang": "en"}],
    "places": [{"name": "Huế", "lat": None, "lon": None}],
    "creators": [{"name": "Nguyễn Văn A", "role": "singer"}],
    "publisher": ["ICHCAP"],
    "countries": ["VN", "KR"], "languages": ["vi"], "ich_domains": ["performing_arts"],
    "media": [{"type": "image", "url": "u1"}, {"type": "image", "url": "u2"}, {"type": "audio", "url": "u3"}],
    "dates": [{"type": "created", "value": "1990/1995", "start_year": 1990, "end_year": 1995},
              {"type": "issued", "value": "2001", "start_year": 2001, "end_year": None},
              {"type": "other", "value": "undated", "start_year": None, "end_year": None}],
}


def test_search_document_flattens_texts_facets_and_years():
    doc = search_document(RECORD)
    assert doc.title == "Main title"
    assert doc.texts["title"] == ("Main title", "Deuxième", "Alt")
    assert doc.texts["description"] == ("Desc",)
    assert doc.texts["other"] == ("music", "Huế", "Nguyễn Văn A", "ICHCAP")
    assert doc.facets["media_type"] == ("image", "audio")
    assert doc.facets["countries"] == ("VN", "KR") and doc.facets["category"] == ("resource",)
    assert (doc.year_min, doc.year_max) == (1990, 2001)


def test_values_at_follows_lists_and_lang_strings():
    assert values_at(RECORD, "places.name") == ["Huế"]
    assert values_at(RECORD, "creators.role") == ["singer"]
    assert values_at(RECORD, "missing.path") == []


def _values_reference(node, path):
    """values_at as plainly as it can be said: the walk the fast one must agree with."""
    from collections.abc import Mapping

    if isinstance(node, list):
        return [v for item in node for v in _values_reference(item, path)]
    if path:
        return _values_reference(node.get(path[0]), path[1:]) if isinstance(node, Mapping) else []
    if isinstance(node, Mapping):
        node = node.get("value")
    if isinstance(node, str):
        text = unicodedata.normalize("NFC", node).strip()
        return [text] if text else []
    return []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="ab e\u0301 ", max_size=4),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "b", "value"]), inner, max_size=3),
    max_leaves=12)


@settings(max_examples=400)
@given(st.dictionaries(st.sampled_from(["a", "b"]), _JSON, max_size=2),
       st.sampled_from(["a", "a.b", "a.value", "b.a.b", "a.value.value"]))
def test_values_at_agrees_with_the_plain_walk(record, dotted):
    path = dotted.split(".")
    expected = list(dict.fromkeys(_values_reference(record.get(path[0]), path[1:])))
    assert values_at(record, dotted) == expected


def test_records_without_id_or_title_are_rejected_with_their_id():
    from indexer import DocumentRejected

    with pytest.raises(DocumentRejected) as info:
        search_document({**RECORD, "title": [{"value": "  ", "lang": None}]})
    assert info.value.record_id == RECORD["id"]
    with pytest.raises(DocumentRejected):
        search_document({"title": [{"value": "x", "lang": None}]})


# -- snippets and batches ----------------------------------------------------------------------

def test_leading_snippet_escapes_and_cuts_at_a_word():
    assert leading_snippet(["a <b> & c"], ["t"], 200) == "a &lt;b&gt; &amp; c"
    assert leading_snippet([], ["Title"], 200) == "Title"
    long = leading_snippet(["word " * 100], [], 50)
    assert long.endswith("…") and len(long) <= 51 and "wor…" not in long


def test_coalesce_keeps_the_highest_version_and_fails_malformed_ids_whole():
    rec = {"id": "s:1"}
    ops = [IndexOp("upsert", "s:1", 2, rec), IndexOp("delete", "s:1", 5, None), IndexOp("upsert", "s:1", 3, rec),
           IndexOp("upsert", "s:2", 1, {"id": "s:2"}), IndexOp("upsert", "s:2", 2, None),
           IndexOp("delete", "s:3", -1, None), IndexOp("delete", "", 1, None)]
    winners, invalid = coalesce(ops)
    assert [(op.id, op.action, op.version) for op in winners] == [("s:1", "delete", 5)]
    assert dict(invalid).keys() == {"s:2", "s:3", ""}
