"""Removal of characters XML 1.0 forbids, and of character references to them.

Repositories copy text from word processors and old catalogues, so control characters
(U+0001, U+000B, U+001B ...) and references such as ``&#x1;`` or ``&#11;`` turn up inside
otherwise good records; one of them makes the whole page ill-formed (XML 1.0 section 2.2,
production [2] Char, and section 4.1 WFC "Legal Character").  They are cut out before
parsing, and nothing else is touched: ``&amp;``, ``&lt;``, ``&gt;`` and legal references stay
exactly as received (sickle, on the same input, silently loses every escaped ``&``, ``<`` and
``>`` after the first bad character).

Inside CDATA sections, comments and processing instructions a ``&#1;`` is plain text, not a
reference, so only raw illegal characters are removed there.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Complement of XML 1.0 production [2] Char; surrogates are illegal as characters too.
_ILLEGAL_RUN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]+")
_CHAR_REF = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")
_CHAR_REF_BYTES = re.compile(rb"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")
# XML-illegal C0 controls as UTF-8 bytes, for bytes.translate (a C loop, unlike re).
_C0_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_ANY_REPAIR = re.compile(
    r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->|<\?.*?\?>)"        # 1: literal text, references inert
    r"|(&#(?:x[0-9A-Fa-f]+|[0-9]+);)"                    # 2: a character reference
    "|([^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]+)",  # 3: raw illegal characters
    re.S)

CHAR = "char"
REFERENCE = "reference"


@dataclass(frozen=True)
class Removal:
    """Text cut out of the page: where it was (decoded-text offset) and what it stood for."""

    offset: int
    text: str
    kind: str  # CHAR (raw characters) or REFERENCE (one &#...; reference)
    code_points: tuple[int, ...]


@dataclass(frozen=True)
class SanitisedText:
    text: str
    removals: tuple[Removal, ...]

    def shifted(self, offset: int) -> int:
        """Where a position of the decoded text lies in the sanitised text."""
        if not self.removals:
            return offset
        starts, removed_before = self._index()
        k = bisect.bisect_right(starts, offset)
        if k and offset < starts[k - 1] + len(self.removals[k - 1].text):
            return starts[k - 1] - removed_before[k - 1]  # inside a removed run: where it was
        return offset - removed_before[k]

    def removal_positions(self) -> list[int]:
        """Sanitised-text position of each removal, in order."""
        _, removed_before = self._index()
        return [r.offset - removed_before[i] for i, r in enumerate(self.removals)]

    def _index(self) -> tuple[list[int], list[int]]:
        cached = self.__dict__.get("_cached_index")
        if cached is None:
            starts = [r.offset for r in self.removals]
            removed_before = [0]
            for r in self.removals:
                removed_before.append(removed_before[-1] + len(r.text))
            cached = (starts, removed_before)
            object.__setattr__(self, "_cached_index", cached)
        return cached


def is_legal_code_point(cp: int) -> bool:
    return (cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD
            or 0x10000 <= cp <= 0x10FFFF)


def _reference_value(ref: re.Match[str] | re.Match[bytes]) -> int:
    hex_digits, dec_digits = ref.group(1), ref.group(2)
    digits = hex_digits if hex_digits is not None else dec_digits
    if isinstance(digits, bytes):
        digits = digits.decode("ascii")
    digits = digits.lstrip("0") or "0"
    # Length guard: int() of a million-digit reference is slow and the value illegal anyway.
    if len(digits) > 8:
        return 0x110000
    return int(digits, 16 if hex_digits is not None else 10)


def utf8_is_clean(data: bytes) -> bool:
    """True when valid UTF-8 ``data`` holds no illegal character or reference to one.

    Python's ``re`` looks at every character in turn; these checks run in C over bytes and
    are several times faster, which matters because nearly every page is clean.  The
    two-byte markers are found by their first byte: ``bytes.find`` of a single byte runs at
    memchr speed, of two bytes it is about a hundred times slower.
    """
    if len(data.translate(None, _C0_BYTES)) != len(data):
        return False
    find = data.find
    at = find(b"\xef")  # U+F000..U+FFFF; U+FFFE and U+FFFF (EF BF BE/BF) are illegal
    while at != -1:
        if data[at + 1:at + 2] == b"\xbf" and data[at + 2:at + 3] in (b"\xbe", b"\xbf"):
            return False
        at = find(b"\xef", at + 1)
    at = find(b"&")
    while at != -1:
        if data[at + 1:at + 2] == b"#":
            ref = _CHAR_REF_BYTES.match(data, at)
            if ref is not None and not is_legal_code_point(_reference_value(ref)):
                return False
        at = find(b"&", at + 1)
    return True


def remove_illegal_characters(text: str, *, utf8: bytes | None = None) -> SanitisedText:
    """Cut illegal characters and references out; clean pages come back untouched and uncopied.

    ``utf8`` is the same text as UTF-8 bytes when the caller already has them (a UTF-8
    response body), which spares encoding the text for the quick cleanliness check.
    """
    if utf8 is None:
        try:
            utf8 = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: certainly dirty
            utf8 = None
    if utf8 is not None and utf8_is_clean(utf8):
        return SanitisedText(text, ())

    removals: list[Removal] = []

    def repair(m: re.Match[str]) -> str:
        literal, reference, raw = m.group(1), m.group(2), m.group(3)
        if raw is not None:
            removals.append(Removal(m.start(), raw, CHAR, tuple(map(ord, raw))))
            return ""
        if reference is not None:
            value = _reference_value(_CHAR_REF.match(reference))  # type: ignore[arg-type]
            if is_legal_code_point(value):
                return reference
            removals.append(Removal(m.start(), reference, REFERENCE, (value,)))
            return ""
        base = m.start()

        def cut(inner: re.Match[str]) -> str:
            removals.append(Removal(base + inner.start(), inner.group(), CHAR,
                                    tuple(map(ord, inner.group()))))
            return ""
        return _ILLEGAL_RUN.sub(cut, literal)

    cleaned = _ANY_REPAIR.sub(repair, text)
    return SanitisedText(cleaned, tuple(removals))
