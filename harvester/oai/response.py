"""One OAI-PMH response body -> an :class:`OAIResponse`, parsing each record exactly once.

The steps, each in its own module: decode the bytes (:mod:`.decoding`), cut out characters
XML 1.0 forbids (:mod:`.sanitising`), slice the page into record spans and the envelope
(:mod:`.scanning`), parse each piece on its own with the hardened parser (:mod:`.safe_xml`)
and read the envelope (:mod:`.envelope`).  Parsing records one by one is what keeps one bad
record from spoiling its page, and is why a record's stored text is exactly what was sent.
Every repair becomes a :class:`Diagnostic` on the record it touched, or on the page.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from harvester.errors import MalformedResponse
from harvester.oai.decoding import DecodedBody, decode_body
from harvester.oai.diagnostics import ERROR, WARNING, Diagnostic, LineIndex, code_point
from harvester.oai.envelope import (EnvelopeParts, Header, ResumptionToken, child_elements,
                                    first_child, local, read_envelope, read_header)
from harvester.oai.safe_xml import ParseOutcome, parse_text
from harvester.oai.sanitising import CHAR, SanitisedText, remove_illegal_characters
from harvester.oai.scanning import (RECORD_PARENTS, StructureError, local_name, prolog_end,
                                    scan_page)

__all__ = ["DeferredRecord", "Diagnostic", "Header", "OAIResponse", "RawRecord", "ResumptionToken",
           "parse_response"]

ROOT = "OAI-PMH"
# A record with thousands of control characters gets this many diagnostics and a summary.
MAX_RECORD_DIAGNOSTICS = 50


@dataclass(frozen=True)
class RawRecord:
    header: Header
    xml: str  # the record exactly as sent, plus inherited namespace declarations
    element: etree._Element | None  # the parsed <record>; None when it could not be parsed
    diagnostics: tuple[Diagnostic, ...]
    error: str | None  # set when unparseable; the record is then stored as failed


class DeferredRecord:
    """A record sliced from its page but not parsed yet: parsed on first use of its header,
    element, diagnostics or error.

    A full re-harvest mostly meets records it already holds byte for byte; the store can tell
    that from :attr:`xml` and :attr:`identifier_hint` alone (see ``store_page``), and skipping
    their XML parse is most of what makes an unchanged re-harvest cheap.  The hint is read by
    a regular expression and is only a lookup key: a record counts as unchanged only when the
    stored row under that key holds exactly the same text, which was parsed when it was stored.
    """

    __slots__ = ("xml", "identifier_hint", "_findings", "_record")

    def __init__(self, xml: str, identifier_hint: str, findings: list[_Finding]) -> None:
        self.xml = xml
        self.identifier_hint = identifier_hint
        self._findings = findings
        self._record: RawRecord | None = None

    def resolve(self) -> RawRecord:
        record = self._record
        if record is None:
            record = self._record = _build_record(self.xml, parse_text(self.xml), self._findings)
        return record

    @property
    def parsed(self) -> bool:
        return self._record is not None

    @property
    def header(self) -> Header:
        return self.resolve().header

    @property
    def element(self) -> etree._Element | None:
        return self.resolve().element

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.resolve().diagnostics

    @property
    def error(self) -> str | None:
        return self.resolve().error

    def __repr__(self) -> str:
        state = "parsed" if self._record is not None else "unparsed"
        return f"<DeferredRecord {self.identifier_hint!r} {state}>"


@dataclass(frozen=True)
class OAIResponse:
    verb: str | None
    response_date: str | None
    request_url: str | None
    request_params: dict[str, str]
    errors: tuple[tuple[str, str], ...]
    records: list[RawRecord | DeferredRecord]
    headers: list[Header]
    sets: list[dict[str, str]]
    formats: list[dict[str, str]]
    identify: dict[str, Any] | None
    token: ResumptionToken | None
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class _Finding:
    """A repair at a position of the sanitised page, not yet pinned on a record."""

    position: int
    code: str
    message: str


def parse_response(body: bytes, *, http_charset: str | None = None,
                   defer_records: bool = False) -> OAIResponse:
    """Parse one response body; raises MalformedResponse, and only that, when it is not OAI-PMH.

    ``defer_records`` leaves the records of a clean page (no page-level repairs, none in the
    record) as :class:`DeferredRecord`, parsed only when something asks for more than text.
    """
    try:
        return _parse(bytes(body), http_charset, defer_records)
    except MalformedResponse:
        raise
    except Exception as exc:  # the contract: nothing else leaves, whatever the bytes were
        raise MalformedResponse(f"response could not be read: {exc!r}", body=bytes(body)) from exc


def _parse(body: bytes, http_charset: str | None, defer_records: bool = False) -> OAIResponse:
    if not body or body.isspace():
        raise MalformedResponse("empty response body", body=body)
    decoded = decode_body(body, http_charset)
    sanitised = remove_illegal_characters(decoded.text, utf8=decoded.utf8)
    lines = LineIndex(decoded.text)
    findings = _findings(decoded, sanitised, lines)
    try:
        layout = scan_page(sanitised.text)
    except StructureError as exc:
        if _truncated(sanitised.text):
            # The token is at the end: recovering the rest would end the harvest silently.
            raise MalformedResponse(f"truncated response: {exc}", body=body) from None
        return _parse_recovering(body, decoded, sanitised, findings, exc)

    root = local_name(layout.root_name)
    if root not in (ROOT, "record"):
        raise MalformedResponse(f"root element <{layout.root_name}> is not <{ROOT}>", body=body)
    page: list[Diagnostic] = list(decoded.diagnostics)
    page.extend(Diagnostic(WARNING, "doctype-removed",
                           f"DOCTYPE at {lines.where(_unshift(sanitised, offset))} ignored: no DTD "
                           f"loaded, no entity expanded")
                for offset in layout.doctype_offsets)
    if layout.trailing_offset is not None:
        page.append(Diagnostic(WARNING, "trailing-content",
                               f"text after the root element at "
                               f"{lines.where(_unshift(sanitised, layout.trailing_offset))} ignored"))
    if root == "record":
        parts = EnvelopeParts()
        page.append(Diagnostic(WARNING, "missing-envelope",
                               "the body is a bare <record> without the OAI-PMH envelope"))
    else:
        parts = _read_envelope_text(layout.envelope, body, page)

    starts = [span.start for span in layout.records]
    per_record: list[list[_Finding]] = [[] for _ in layout.records]
    for finding in findings:
        k = bisect.bisect_right(starts, finding.position) - 1
        if k >= 0 and finding.position < layout.records[k].end:
            per_record[k].append(finding)
        else:
            page.append(Diagnostic(WARNING, finding.code, finding.message))
    records: list[RawRecord | DeferredRecord] = []
    defer = defer_records and not page
    for k, span in enumerate(layout.records):
        hint = _identifier_hint(span.xml) if defer and not per_record[k] else None
        if hint:
            records.append(DeferredRecord(span.xml, hint, per_record[k]))
        else:
            records.append(_build_record(span.xml, parse_text(span.xml), per_record[k]))
    return _response(parts, records, page)


_ROOT_START = re.compile(r"<([^\s/>!?]+)")


def _truncated(text: str) -> bool:
    """No end tag for the root element anywhere: the body was cut short."""
    root = _ROOT_START.match(text, prolog_end(text))
    return root is not None and text.find("</" + root.group(1), root.end()) == -1


def _read_envelope_text(envelope: str, body: bytes, page: list[Diagnostic]) -> EnvelopeParts:
    outcome = parse_text(envelope)
    if outcome.element is None or local(outcome.element) != ROOT:
        raise MalformedResponse(f"the OAI-PMH envelope cannot be read: {outcome.error}", body=body)
    if outcome.recovered:
        page.append(Diagnostic(WARNING, "recovered-parse",
                               "envelope parsed with recovery: " + "; ".join(outcome.problems[:3])))
    parts = read_envelope(outcome.element)
    page.extend(parts.diagnostics)
    return parts


def _parse_recovering(body: bytes, decoded: DecodedBody, sanitised: SanitisedText,
                      findings: Sequence[_Finding], scan_error: StructureError) -> OAIResponse:
    """The scanner could not follow the tags: parse the whole page once, with recovery."""
    text = sanitised.text
    root_at = prolog_end(text)
    outcome = parse_text(text[root_at:])
    element = outcome.element
    if element is None or local(element) not in (ROOT, "record"):
        found = f"<{local(element)}>" if element is not None else outcome.error
        raise MalformedResponse(f"not an OAI-PMH response ({scan_error}; parser: {found})",
                                body=body)
    page: list[Diagnostic] = list(decoded.diagnostics)
    page.append(Diagnostic(WARNING, "recovered-parse",
                           f"page structure unreadable ({scan_error}); the page was parsed whole "
                           f"with recovery and its records re-serialised, not kept verbatim"))
    if "<!DOCTYPE" in text[:root_at]:
        page.append(Diagnostic(WARNING, "doctype-removed",
                               "DOCTYPE before the root ignored: no DTD loaded, no entity expanded"))
    page.extend(Diagnostic(WARNING, f.code, f.message) for f in findings)
    if local(element) == "record":
        parts, elements = EnvelopeParts(), [element]
    else:
        parts = read_envelope(element)
        page.extend(parts.diagnostics)
        holder = parts.verb_element if parts.verb in RECORD_PARENTS else None
        elements = ([c for c in child_elements(holder) if local(c) == "record"]
                    if holder is not None else [])
    records = []
    for record in elements:
        xml = etree.tostring(record, encoding="unicode", with_tail=False)
        note = _Finding(-1, "recovered-parse",
                        "record re-serialised from a page parsed with recovery; not verbatim")
        records.append(_build_record(xml, parse_text(xml), [note]))
    return _response(parts, records, page)


def _response(parts: EnvelopeParts, records: list[RawRecord],
              page: list[Diagnostic]) -> OAIResponse:
    for header in parts.headers:
        if not header.identifier:
            page.append(Diagnostic(ERROR, "missing-identifier",
                                   "a ListIdentifiers header has no identifier"))
    return OAIResponse(verb=parts.verb, response_date=parts.response_date,
                       request_url=parts.request_url, request_params=parts.request_params,
                       errors=tuple(parts.errors), records=records, headers=parts.headers,
                       sets=parts.sets, formats=parts.formats, identify=parts.identify,
                       token=parts.token, diagnostics=tuple(page))


def _build_record(xml: str, outcome: ParseOutcome, findings: list[_Finding]) -> RawRecord:
    element = outcome.element
    header: Header | None = None
    if element is not None:
        header_element = first_child(element, "header")
        if header_element is not None:
            header = read_header(header_element)
    else:
        header = header_from_text(xml)
    notes: list[tuple[str, str, str]] = []  # (level, code, message)
    if header is None or not header.identifier:
        kind = "unparsed" if element is None else "no-identifier"
        identifier = f"urn:ichlinks:{kind}:{hashlib.sha256(xml.encode('utf-8')).hexdigest()}"
        header = Header(identifier, header.datestamp if header else None,
                        header.sets if header else (), header.deleted if header else False)
        notes.append((ERROR, "missing-identifier",
                      f"record has no header identifier; named {identifier}"))
    for finding in findings[:MAX_RECORD_DIAGNOSTICS]:
        notes.append((WARNING, finding.code, finding.message))
    if len(findings) > MAX_RECORD_DIAGNOSTICS:
        notes.append((WARNING, findings[MAX_RECORD_DIAGNOSTICS].code,
                      f"... and {len(findings) - MAX_RECORD_DIAGNOSTICS} more repairs like these"))
    if element is not None and outcome.recovered:
        notes.append((WARNING, "recovered-parse",
                      "record parsed with recovery, text may be lost: "
                      + "; ".join(outcome.problems[:3])))
    error = None
    if element is None:
        error = f"record could not be parsed: {outcome.error}"
        notes.append((ERROR, "unparseable-record",
                      error + (" (" + "; ".join(outcome.problems[:3]) + ")"
                               if outcome.problems else "")))
    diagnostics = tuple(Diagnostic(level, code, message, header.identifier)
                        for level, code, message in notes)
    return RawRecord(header=header, xml=xml, element=element, diagnostics=diagnostics, error=error)


_HEADER_TEXT = re.compile(r"<(?:[^\s/>:]+:)?header(?=[\s/>])([^>]*)>(.*?)</(?:[^\s/>:]+:)?header\s*>",
                          re.S)
_FIELD_TEXT = re.compile(r"<(?:[^\s/>:]+:)?(identifier|datestamp|setSpec)(?:\s[^>]*)?>([^<]*)<")
_DELETED = re.compile(r"""\bstatus\s*=\s*["']deleted["']""")


_HEADER_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?header[\s>]")
_IDENTIFIER_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?identifier\b")
_IDENTIFIER_HINT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?identifier>([^<&\s][^<&]*)</")


def _identifier_hint(xml: str) -> str | None:
    """The header identifier of a plain record, by regex; None when anything looks unusual
    (attributes, an entity, markup or edge whitespace in it), and then the record is parsed
    at once."""
    head = _HEADER_START.search(xml)
    if head is None:
        return None
    start = _IDENTIFIER_START.search(xml, head.end())
    match = _IDENTIFIER_HINT.match(xml, start.start()) if start is not None else None
    if match is None:
        return None
    value = match.group(1)
    return value if value.rstrip() == value else None


def header_from_text(xml: str) -> Header | None:
    """Best effort for a record no parser could read: the header fields by regex."""
    match = _HEADER_TEXT.search(xml)
    if match is None:
        return None
    attrs, inner = match.group(1), match.group(2)
    fields: dict[str, list[str]] = {"identifier": [], "datestamp": [], "setSpec": []}
    for field_match in _FIELD_TEXT.finditer(inner):
        value = html.unescape(field_match.group(2)).strip()
        if value:
            fields[field_match.group(1)].append(value)
    return Header(identifier=fields["identifier"][0] if fields["identifier"] else "",
                  datestamp=fields["datestamp"][0] if fields["datestamp"] else None,
                  sets=tuple(fields["setSpec"]),
                  deleted=_DELETED.search(attrs) is not None)


def _findings(decoded: DecodedBody, sanitised: SanitisedText, lines: LineIndex) -> list[_Finding]:
    """Every positional repair, placed in the sanitised text, in page order."""
    findings = [
        _Finding(sanitised.shifted(fault.text_offset), "invalid-encoding",
                 fault.summary or
                 f"invalid {fault.codec} byte sequence {fault.bad_bytes!r} at byte offset "
                 f"{fault.byte_offset} ({lines.where(fault.text_offset)}) replaced by U+FFFD")
        for fault in decoded.faults]
    for position, removal in zip(sanitised.removal_positions(), sanitised.removals):
        where = lines.where(removal.offset)
        if removal.kind == CHAR:
            shown = " ".join(code_point(c) for c in removal.text[:8])
            more = f" (+{len(removal.text) - 8} more)" if len(removal.text) > 8 else ""
            plural = "s" if len(removal.text) > 1 else ""
            findings.append(_Finding(position, "illegal-xml-char",
                                     f"removed illegal XML 1.0 character{plural} {shown}{more} "
                                     f"at {where}"))
        else:
            findings.append(_Finding(position, "illegal-char-ref",
                                     f"removed character reference {removal.text[:20]} to illegal "
                                     f"U+{removal.code_points[0]:04X} at {where}"))
    if decoded.faults and sanitised.removals:
        findings.sort(key=lambda f: f.position)
    return findings


def _unshift(sanitised: SanitisedText, position: int) -> int:
    """Decoded-text offset of a sanitised-text position (for line numbers in messages)."""
    if not sanitised.removals:
        return position
    removed = 0
    for removal, at in zip(sanitised.removals, sanitised.removal_positions()):
        if at > position:
            break
        removed += len(removal.text)
    return position + removed
