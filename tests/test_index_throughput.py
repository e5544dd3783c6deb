"""The shortcuts the indexing fast path takes are only valid while these facts hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from indexer.embedded.analysis import analyzer, bigram_index_text
from indexer.segmentation import _BIGRAM_RANGES, bigram_spans, bigrams


def test_bigram_scripts_have_no_letter_case():
    # bigram_index_text() is written without a lowercase filter; a cased range added to
    # segmentation.py must bring the lowercasing back.
    cased = [hex(cp) for lo, hi in _BIGRAM_RANGES for cp in range(lo, hi + 1)
             if chr(cp).lower() != chr(cp)]
    assert cased == []


_MIXED = st.text(alphabet=st.sampled_from("ab É판소리는한국歌舞伎能楽ภาษาไทยເລខ្មែរမြန်ﾊﾟ𠀀\u0301 ."), max_size=40)


@given(_MIXED)
def test_spans_and_index_tokens_agree_with_bigrams(text):
    expected = [(b.text.lower(), b.position, b.start, b.end) for b in bigrams(text)]
    assert [(text[i:j], n, i, j) for n, (i, j) in enumerate(bigram_spans(text))] == expected
    written = analyzer("bigram", writing=True).analyze(bigram_index_text(text))
    assert written == [b.text.lower() for b in bigrams(text)]


def _record(n: int) -> dict:
    return {"id": f"t:{n}", "title": [{"value": f"Hát Xoan {n}", "lang": "vi"}],
            "description": [{"value": f"판소리 record {n}", "lang": "ko"}], "countries": ["VN"]}


def test_small_batches_are_merged_not_left_as_one_segment_each(tmp_path):
    # A writer dropped mid-merge loses the merge: before apply() waited for it, every
    # relay batch added a segment for good (and redid the same merge work next time).
    from indexer import IndexOp, SearchQuery, SearchSettings, open_backend

    backend = open_backend(SearchSettings(backend="embedded", path=str(tmp_path / "index")))
    try:
        for n in range(12):
            result = backend.apply([IndexOp(action="upsert", id=f"t:{n}", version=1, record=_record(n))])
            assert result.done == [f"t:{n}"] and result.failed == []
        status = backend.status()
        assert status["doc_count"] == 12
        assert status["segments"] < 8
        found = backend.search(SearchQuery(q="xoan"))
        assert found["total"] == 12
    finally:
        backend.close()
