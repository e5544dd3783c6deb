"""Bytes -> text, choosing the charset the way XML 1.0 Appendix F says, never failing a page.

Order of authority: a byte-order mark, then the XML declaration's ``encoding``, then the
HTTP ``charset``, then UTF-8.  Repositories often send a wrong HTTP charset (the web
server's default) next to a correct declaration, so the declaration wins and the
disagreement is reported.  A declaration that cannot be true of the bytes (``UTF-16``
declared in ASCII-compatible bytes, which is the only way it could be read at all) is
ignored.  Invalid byte sequences become U+FFFD and are reported with their positions so
the caller can pin each one on the record that contains it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from harvester.oai.diagnostics import WARNING, Diagnostic

# Byte-order marks, longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# XML 1.0 Appendix F.1: without a BOM the first bytes of "<?xml" give the code-unit width.
_SNIFF: tuple[tuple[bytes, str], ...] = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)

_DECLARED_ENCODING = re.compile(
    r"""\A\s*<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._\-]*)\1""")

# Text codecs Python knows but no repository means: they would let escaped markup such as
# UTF-7's "+ADw-" (a "<") slip past every check, or are not charsets at all.
_REFUSED_CODECS = frozenset({
    "utf-7", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined",
    "charmap", "palmos", "mbcs", "oem",
})

_WIDE = ("utf-16", "utf-32")

# Past this many bad sequences the rest is decoded in one go and summarised by one fault.
MAX_FAULTS = 10_000


@dataclass(frozen=True)
class EncodingFault:
    """One invalid byte sequence, replaced by a single U+FFFD at ``text_offset``."""

    text_offset: int
    byte_offset: int
    bad_bytes: bytes
    codec: str
    summary: str | None = None  # set on the one fault that stands for all beyond MAX_FAULTS


@dataclass(frozen=True)
class DecodedBody:
    text: str
    codec: str  # the Python codec used, e.g. "utf-8", "latin-1", "utf-16-le"
    faults: tuple[EncodingFault, ...]
    diagnostics: tuple[Diagnostic, ...]  # page-level: charset-mismatch, unknown-charset
    utf8: bytes | None = None  # the text as UTF-8 when the body already is exactly that


def decode_body(body: bytes, http_charset: str | None = None) -> DecodedBody:
    """Decode a response body; the result is always text, with every repair reported."""
    diagnostics: list[Diagnostic] = []
    bom_codec, bom_len = _bom(body)
    family = bom_codec or _sniff(body)
    declared = _declared_encoding(body[bom_len:bom_len + 1024], family or "latin-1")
    http_codec = _lookup(http_charset, diagnostics, "HTTP charset") if http_charset else None

    codec: str
    source: str
    if bom_codec:
        codec, source = bom_codec, "byte-order mark"
        declared_codec = _lookup(declared, diagnostics, "XML declaration") if declared else None
        if declared_codec and not _same_charset(declared_codec, bom_codec):
            diagnostics.append(_mismatch(f"XML declaration says {declared!r} but the byte-order "
                                         f"mark says {bom_codec}; the byte-order mark wins"))
    elif declared:
        declared_codec = _lookup(declared, diagnostics, "XML declaration")
        if family:
            codec, source = family, "byte pattern of '<?xml'"
            if declared_codec and not _same_charset(declared_codec, family):
                diagnostics.append(_mismatch(f"XML declaration says {declared!r} but the bytes are "
                                             f"{family}; the bytes win"))
        elif declared_codec and declared_codec.startswith(_WIDE):
            # Readable as ASCII, so it cannot be UTF-16/32 whatever it claims (Appendix F.1).
            diagnostics.append(_mismatch(f"XML declaration says {declared!r} but the bytes are "
                                         f"ASCII-compatible; the declaration is ignored"))
            codec, source = _fallback(http_codec)
        elif declared_codec:
            codec, source = declared_codec, "XML declaration"
        else:
            codec, source = _fallback(http_codec)
    elif family:
        codec, source = family, "byte pattern of '<?xml'"
    else:
        codec, source = _fallback(http_codec)

    if http_codec and source != "HTTP charset" and not _same_charset(http_codec, codec):
        diagnostics.append(_mismatch(f"HTTP charset {http_charset!r} disagrees with the {source} "
                                     f"({codec}); the {source} wins"))
    text, faults = _decode_reporting(body, bom_len, codec)
    utf8 = (body[bom_len:] if bom_len else body) if codec == "utf-8" and not faults else None
    return DecodedBody(text=text, codec=codec, faults=faults, diagnostics=tuple(diagnostics),
                       utf8=utf8)


def _bom(body: bytes) -> tuple[str | None, int]:
    for mark, codec in _BOMS:
        if body.startswith(mark):
            return codec, len(mark)
    return None, 0


def _sniff(body: bytes) -> str | None:
    head = body[:4]
    for pattern, codec in _SNIFF:
        if head == pattern:
            return codec
    # No declaration at all, but still one ASCII character per 16-bit unit: "<O" of "<OAI-PMH".
    if len(head) == 4 and head[0] == 0x3C and head[1] == 0 and head[2] and head[3] == 0:
        return "utf-16-le"
    if len(head) == 4 and head[0] == 0 and head[1] == 0x3C and head[2] == 0 and head[3]:
        return "utf-16-be"
    return None


def _declared_encoding(head: bytes, codec: str) -> str | None:
    match = _DECLARED_ENCODING.match(head.decode(codec, errors="replace"))
    return match.group(2) if match else None


def _lookup(name: str | None, diagnostics: list[Diagnostic], where: str) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
        try:  # bytes.decode refuses codecs that are not charsets, such as base64 or rot13
            b"\x00\x00\x00\x00".decode(codec)
        except UnicodeDecodeError:
            pass
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        codec = ""
    if not codec or codec in _REFUSED_CODECS:
        diagnostics.append(Diagnostic(WARNING, "unknown-charset",
                                      f"{where} names an unknown or refused charset {name!r}; "
                                      f"ignored"))
        return None
    return codec


def _same_charset(a: str, b: str) -> bool:
    def family(codec: str) -> str:
        for wide in _WIDE:
            if codec.startswith(wide):
                return wide
        return "utf-8" if codec == "utf-8-sig" else codec
    return family(a) == family(b)


def _fallback(http_codec: str | None) -> tuple[str, str]:
    if http_codec and not http_codec.startswith(_WIDE):
        return http_codec, "HTTP charset"
    return "utf-8", "UTF-8 default"


def _mismatch(message: str) -> Diagnostic:
    return Diagnostic(WARNING, "charset-mismatch", message)


def _decode_reporting(body: bytes, start: int, codec: str) -> tuple[str, tuple[EncodingFault, ...]]:
    view = memoryview(body)[start:]
    try:
        return str(view, codec), ()
    except UnicodeDecodeError:
        pass
    # Decode up to each bad sequence, note it, go on after it: work stays linear in the body.
    parts: list[str] = []
    faults: list[EncodingFault] = []
    text_len = 0
    pos = 0
    while True:
        if len(faults) >= MAX_FAULTS:
            rest = str(view[pos:], codec, "replace")
            faults.append(EncodingFault(text_len, start + pos, b"", codec,
                                        summary=f"more invalid {codec} byte sequences after this "
                                                f"point were replaced without being listed"))
            parts.append(rest)
            break
        try:
            chunk = str(view[pos:], codec)
        except UnicodeDecodeError as exc:
            good = str(view[pos:pos + exc.start], codec)
            parts.append(good)
            text_len += len(good)
            faults.append(EncodingFault(text_len, start + pos + exc.start,
                                        bytes(view[pos + exc.start:pos + exc.end]), codec))
            parts.append("\ufffd")
            text_len += 1
            pos += exc.end
            continue
        parts.append(chunk)
        break
    return "".join(parts), tuple(faults)
