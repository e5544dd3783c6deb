"""Exact slicing of an OAI-PMH page into its records and the envelope around them.

The raw record store keeps each ``<record>`` as the repository sent it, so the record's
text is cut out of the page, not re-serialised from a tree.  A compiled-regex tag scanner
walks the envelope (root, verb element, headers, token ...) tracking element depth; a
``<record>`` that is a child of ``ListRecords`` or ``GetRecord`` (depth 2) starts a
record span.  Inside a record only comments, CDATA, processing instructions and tags
named ``record`` matter: MARCXML nests an unprefixed ``<record xmlns=".../MARC21/slim">``
in ``<metadata>``, so the span ends where the ``record`` nesting returns to zero.  Any
other damage inside a record is left to that record's own parse, so one bad record cannot
spoil the slicing of its neighbours.

A record's stored text must be a standalone document, so namespace declarations in scope
from its ancestors (the root's default OAI namespace, ``xmlns:xsi``, a ``xmlns:dc`` some
repositories declare on the root) that its start tag lacks are inserted into that start
tag, copied verbatim.  Nothing else changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

RECORD_PARENTS = frozenset({"ListRecords", "GetRecord"})

_ATTRS = r"""(?:[^'">]|"[^"]*"|'[^']*')*"""

_ENVELOPE_TOKEN = re.compile(
    r"<!--.*?-->"
    r"|<!\[CDATA\[.*?\]\]>"
    r"|<\?.*?\?>"
    r"""|(?P<doctype><!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*'"""
    r"""|\[(?:<!--.*?-->|[^\]"']|"[^"]*"|'[^']*')*\])*>)"""
    r"|</(?P<end>[^\s>]+)\s*>"
    r"|<(?P<start>[^\s/>!?]+)(?P<attrs>" + _ATTRS + r")>"
    r"|(?P<stray><)",
    re.S)

_RECORD_TAG = re.compile(
    r"<(?P<close>/?)(?:[^\s/<>!?:]+:)?(?P<name>record)(?=[\s/>])(?P<attrs>" + _ATTRS + r")>")

_PROLOG = re.compile(
    r"""(?:\s|<\?.*?\?>|<!--.*?-->|(<!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*'"""
    r"""|\[(?:<!--.*?-->|[^\]"']|"[^"]*"|'[^']*')*\])*>))*""",
    re.S)

_NS_DECLARATION = re.compile(r"""(?:^|\s)(xmlns(?::[^\s=]+)?)\s*=\s*("[^"]*"|'[^']*')""")


class StructureError(ValueError):
    """The scanner cannot make sense of the page's tags (unbalanced, truncated, no root)."""

    def __init__(self, message: str, offset: int) -> None:
        self.offset = offset
        super().__init__(f"{message} at offset {offset}")


class RecordSpan(NamedTuple):
    """One record of the page (a tuple: a page makes a hundred of these per request)."""

    start: int  # offset of "<" of the record's start tag
    end: int  # offset just past its end tag
    xml: str  # the span, with inherited namespace declarations inserted


@dataclass(frozen=True)
class PageLayout:
    root_name: str  # qualified name of the root element
    envelope: str  # the root element's text with every record span cut out
    records: tuple[RecordSpan, ...]
    doctype_offsets: tuple[int, ...]  # where DOCTYPE declarations were seen (never parsed)
    trailing_offset: int | None = None  # where text after the root element begins, if any


def local_name(qname: str) -> str:
    return qname.rpartition(":")[2]


def namespace_declarations(attrs: str) -> dict[str, str]:
    """``{"xmlns:dc": 'xmlns:dc="http://purl.org/dc/elements/1.1/"'}`` from a start tag's attributes."""
    return {m.group(1): f"{m.group(1)}={m.group(2)}" for m in _NS_DECLARATION.finditer(attrs)}


def prolog_end(text: str) -> int:
    """Offset just past the XML declaration, comments, PIs and DOCTYPE before the root."""
    m = _PROLOG.match(text)
    return m.end() if m else 0


def scan_page(text: str) -> PageLayout:
    """Find the root, each record span and the envelope, or raise StructureError."""
    stack: list[tuple[str, dict[str, str]]] = []  # (qualified name, namespace declarations)
    records: list[RecordSpan] = []
    envelope_parts: list[str] = []
    doctypes: list[int] = []
    root_name: str | None = None
    envelope_from = 0  # where the envelope text not yet copied begins
    inherited: dict[str, str] | None = None  # declarations in scope for records, per page
    pos = 0
    search = _ENVELOPE_TOKEN.search
    record_ends = _RecordEnds(text)
    while True:
        m = search(text, pos)
        if m is None:
            break
        pos = m.end()
        name = m.group("start")
        if name is not None:
            attrs = m.group("attrs")
            if root_name is None:
                root_name, envelope_from = name, m.start()
            local = local_name(name)
            at_record_depth = (len(stack) == 2 and local == "record"
                               and local_name(stack[-1][0]) in RECORD_PARENTS)
            if at_record_depth or (not stack and local == "record"):
                if inherited is None:
                    inherited = {}
                    for _, declared in stack:
                        inherited.update(declared)
                end = pos if attrs.endswith("/") else record_ends.end(pos, m.start())
                records.append(_record_span(text, m.start(), end, name, attrs, inherited))
                envelope_parts.append(text[envelope_from:m.start()])
                envelope_from = pos = end
                if not stack:
                    return PageLayout(name, "", tuple(records), tuple(doctypes))
                continue
            if len(stack) == 1 and local not in RECORD_PARENTS and not attrs.endswith("/"):
                # No records can be inside (ListIdentifiers, ListSets, error ...): its text
                # stays in the envelope as it is, so only its end matters.  Damage inside
                # is left to the envelope's parse.
                close = re.compile(r"</" + re.escape(name) + r"\s*>").search(text, pos)
                if close is None:
                    raise StructureError(f"<{name}> never closed (truncated?)", m.start())
                pos = close.end()
                continue
            if not attrs.endswith("/"):
                stack.append((name, namespace_declarations(attrs) if "xmlns" in attrs else {}))
            elif not stack:
                envelope_parts.append(text[envelope_from:pos])
                return PageLayout(name, "".join(envelope_parts), tuple(records), tuple(doctypes))
            continue
        name = m.group("end")
        if name is not None:
            if not stack:
                raise StructureError(f"end tag </{name}> outside the root element", m.start())
            if stack[-1][0] != name:
                raise StructureError(f"end tag </{name}> does not close <{stack[-1][0]}>",
                                     m.start())
            stack.pop()
            if not stack:
                envelope_parts.append(text[envelope_from:pos])
                # Servers append PHP warnings and the like after the root; ignored, but said.
                after = _PROLOG.match(text, pos)
                trailing = after.end() if after and after.end() < len(text) else None
                return PageLayout(root_name or name, "".join(envelope_parts), tuple(records),
                                  tuple(doctypes), trailing)
            continue
        if m.group("doctype") is not None:
            doctypes.append(m.start())
            continue
        if m.group("stray") is not None:
            raise StructureError("'<' that starts no tag", m.start())
    if root_name is None:
        raise StructureError("no root element", len(text))
    raise StructureError(f"page ends inside <{stack[-1][0]}> (truncated?)" if stack
                         else "page ends inside the root element", len(text))


class _RecordEnds:
    """Finds where each record of one page ends, by ``str.find`` rather than ``re``.

    ``re`` would visit every character of the metadata; ``str.find`` runs at memchr speed.
    The next ``"<!"``/``"<?"`` position is remembered across the records of the page, so a
    page without comments, CDATA or PIs in its records is searched for them once, not once
    per record.  Comments, CDATA sections and PIs are stepped over whole, since a
    ``<record>`` written inside them is text.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._markup = 0  # first "<!" or "<?" at or after the last position asked; -1: none

    def _next_markup(self, pos: int) -> int:
        at = self._markup
        if at != -1 and at < pos:  # -1 means none left in the page: stays so
            bang, query = _find_after_lt(self.text, "!", pos), _find_after_lt(self.text, "?", pos)
            at = self._markup = (min(bang, query) if bang != -1 and query != -1
                                 else max(bang, query))
        return at

    def end(self, pos: int, start: int) -> int:
        """Offset just past the end tag closing the record whose start tag ends at ``pos``."""
        text = self.text
        find, rfind, match = text.find, text.rfind, _RECORD_TAG.match
        depth = 1
        while True:
            name = find("record", pos)
            if name == -1:
                raise StructureError("record never closed (truncated?)", start)
            markup = self._next_markup(pos)
            if markup != -1 and markup < name:
                pos = self._skip_markup(markup, start)
                continue
            if text[name - 2:name] == "</" and text.startswith(">", name + 6):
                pos = name + 7  # the usual unprefixed end tag, without a regex
                depth -= 1
                if depth == 0:
                    return pos
                continue
            tag = match(text, rfind("<", 0, name))
            if tag is None or tag.start("name") != name:
                pos = name + 6  # the word in text, or a longer name such as <recordInfo>
                continue
            pos = tag.end()
            if tag.group("attrs").endswith("/"):
                continue
            if tag.group("close"):
                depth -= 1
                if depth == 0:
                    return pos
            else:
                depth += 1

    def _skip_markup(self, at: int, start: int) -> int:
        text = self.text
        for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>")):
            if text.startswith(opener, at):
                close = text.find(closer, at + len(opener))
                if close == -1:
                    raise StructureError(f"{opener} never closed inside a record", at)
                return close + len(closer)
        return at + 2  # some other "<!": not ours to judge, the record's parse will


def _find_after_lt(text: str, char: str, pos: int) -> int:
    """``text.find("<" + char, pos)``, found by its second character: ``str.find`` of one
    character runs at memchr speed, of two it is several times slower, and pages seldom hold
    a ``!`` or ``?`` that does not start markup.  Past a few misses the plain search is used."""
    find = text.find
    at = find(char, pos + 1)
    for _ in range(32):
        if at == -1 or text[at - 1] == "<":
            return at - 1 if at != -1 else -1
        at = find(char, at + 1)
    return find("<" + char, at - 1)


def _record_span(text: str, start: int, end: int, name: str, attrs: str,
                 inherited: dict[str, str]) -> RecordSpan:
    if inherited:
        own = namespace_declarations(attrs) if "xmlns" in attrs else {}
        missing = [decl for key, decl in inherited.items() if key not in own]
        if missing:
            cut = start + 1 + len(name)
            xml = "".join((text[start:cut], " ", " ".join(missing), text[cut:end]))
            return RecordSpan(start, end, xml)
    return RecordSpan(start, end, text[start:end])
