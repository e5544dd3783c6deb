"""A ListRecords page's fingerprint: what its records are, known without parsing them.

A full re-harvest of an unchanged repository receives, page for page, the bytes it received
last time, except for the parts of the envelope that name the moment and the position: the
responseDate, the request echo and the resumptionToken.  The fingerprint is a SHA-256 of
everything else: the records exactly as sent and the envelope that declares their
namespaces, plus the HTTP charset and a format version (the two other inputs that decide
what the records parse to).  Equal fingerprints mean equal records, so the store can
recognise a page it already holds (``harvester.store.page_memos``) and only the envelope
needs reading, from the few hundred bytes around the records.

Only the plain layout every common repository platform writes is fingerprinted: unprefixed
elements, the envelope children in the spec's order, nothing but whitespace and the token
after the last record.  Anything else gets no fingerprint and is parsed as always.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Bump when decoding, sanitising, scanning or record parsing changes what a page's records
# are stored as: fingerprints from before then no longer promise the same rows.
FORMAT = b"ichlinks-page-1"

_HEAD = re.compile(
    rb"((?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*)*<OAI-PMH\b[^>]*>\s*)"
    rb"<responseDate>[^<]*</responseDate>\s*<request\b[^>]*>[^<]*</request>"
    rb"((?:\s|<!--.*?-->)*<ListRecords\b[^>]*>)", re.S)
_TAIL = re.compile(
    rb"\s*(?:<resumptionToken\b[^>]*>[^<]*</resumptionToken>\s*|<resumptionToken\b[^>]*/>\s*)?"
    rb"</ListRecords>\s*</OAI-PMH>\s*")
_LAST_RECORD_END = b"</record>"
_TOKEN_START = b"<resumptionToken"


@dataclass(frozen=True)
class PageFingerprint:
    digest: str  # hex SHA-256 of the records and the envelope parts they depend on
    envelope: bytes  # the page without its records: enough for the token, date and errors
    records_start: int
    records_end: int

    def worth_remembering(self, body: bytes) -> bool:
        """False when a resumptionToken sits among the records rather than after them.

        The parser reads a token wherever it is, the envelope cut here would not, so such a
        page must never be recognised.  Checked when a page is first remembered rather than
        each time it is recognised: the fingerprint covers those bytes, so a page recognised
        later holds no token there either.
        """
        return body.find(_TOKEN_START, self.records_start, self.records_end) == -1


def page_fingerprint(body: bytes, http_charset: str | None = None) -> PageFingerprint | None:
    """The fingerprint of a plain ListRecords page with records; None for any other body."""
    head = _HEAD.match(body)
    if head is None:
        return None
    last = body.rfind(_LAST_RECORD_END)
    start = head.end()
    if last < start:
        return None
    end = last + len(_LAST_RECORD_END)
    if _TAIL.fullmatch(body, end) is None:
        return None
    hasher = hashlib.sha256(FORMAT)
    hasher.update(b"\0" + (http_charset or "").strip().lower().encode("ascii", "replace") + b"\0")
    view = memoryview(body)
    hasher.update(view[:head.end(1)])
    hasher.update(b"\0")
    hasher.update(view[head.start(2):end])
    return PageFingerprint(digest=hasher.hexdigest(), envelope=body[:start] + body[end:],
                           records_start=start, records_end=end)
