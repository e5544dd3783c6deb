"""Text cleaning shared by every crosswalk field."""

from __future__ import annotations

import unicodedata


def clean_text(s: str) -> str:
    """NFC-normalise and trim, and nothing else.

    The ICH record promises values "otherwise unaltered": inner whitespace, case and
    punctuation are the source's, so only canonical composition (which changes no glyph)
    and the surrounding whitespace are touched.
    """
    return unicodedata.normalize("NFC", s).strip()
