"""The snippet shown when nothing in the title or description was highlighted.

Engines return no fragment for a filter-only or empty query, or when the match
was in subjects or places; the result list still wants a line of text.  Both
backends use this one function so they agree.
"""

from __future__ import annotations

import html
from collections.abc import Sequence


def leading_snippet(descriptions: Sequence[str], titles: Sequence[str], max_chars: int) -> str:
    """The start of the first description (else the title), cut at a word, HTML-escaped."""
    text = next((t for t in list(descriptions) + list(titles) if t.strip()), "")
    text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars // 2 else cut).rstrip() + "…"
    return html.escape(text, quote=False)
