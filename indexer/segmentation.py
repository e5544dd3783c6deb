"""Character bigrams for scripts written without spaces between words.

Chinese, Japanese, Thai, Lao, Khmer and Myanmar text has no word separators and
Korean attaches particles to words ("판소리는"), so a word tokenizer cannot find
"판소리" or "歌舞伎" inside longer runs.  Overlapping character pairs can: a
query run's bigrams all occur in any text containing that run.  The embedded
index stores these bigrams pre-tokenised and queries with the same function,
so index and query always agree.  (Elasticsearch gets the same effect from its
built-in ``cjk_bigram`` filter and ``thai`` tokenizer.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Unicode blocks whose text is searched by bigrams (inclusive code point ranges).
_BIGRAM_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0E7F),    # Thai
    (0x0E80, 0x0EFF),    # Lao
    (0x1000, 0x109F),    # Myanmar
    (0x1100, 0x11FF),    # Hangul Jamo
    (0x1780, 0x17FF),    # Khmer
    (0x2E80, 0x2FDF),    # CJK radicals, Kangxi radicals
    (0x3005, 0x3007),    # 々 〆 〇
    (0x3040, 0x30FF),    # Hiragana, Katakana (incl. ー)
    (0x3130, 0x318F),    # Hangul compatibility Jamo
    (0x31F0, 0x31FF),    # Katakana phonetic extensions
    (0x3400, 0x4DBF),    # CJK extension A
    (0x4E00, 0x9FFF),    # CJK unified ideographs
    (0xA960, 0xA97F),    # Hangul Jamo extended A
    (0xAC00, 0xD7FF),    # Hangul syllables, Jamo extended B
    (0xF900, 0xFAFF),    # CJK compatibility ideographs
    (0xFF66, 0xFF9F),    # half-width Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B-H
)


_RUN = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _BIGRAM_RANGES) + "]+")


def is_bigram_char(ch: str) -> bool:
    return _RUN.fullmatch(ch) is not None


@dataclass(frozen=True)
class Bigram:
    text: str
    position: int
    start: int      # character offsets into the source text
    end: int


def bigram_runs(text: str) -> list[str]:
    """The maximal runs of bigram-script characters in ``text``."""
    return _RUN.findall(text)


def bigram_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character offsets of the bigrams of ``text``, in position order.

    The query side's bigrams; the index writes the same bigrams from :func:`bigram_runs`
    (``embedded.analysis.bigram_index_text``), and a property test holds the two together.
    """
    out: list[tuple[int, int]] = []
    for run in _RUN.finditer(text):
        i, j = run.span()
        if j - i == 1:
            out.append((i, j))
        else:
            out.extend(zip(range(i, j - 1), range(i + 2, j + 1)))
    return out


def bigrams(text: str) -> list[Bigram]:
    """Overlapping pairs of every run of bigram-script characters; a lone character is kept alone.

    Positions count tokens without gaps, so a phrase of several runs matches the
    same runs written one after the other.
    """
    return [Bigram(text[i:j], n, i, j) for n, (i, j) in enumerate(bigram_spans(text))]


def has_bigram_chars(text: str) -> bool:
    return _RUN.search(text) is not None
