"""The one way this package turns text into an lxml tree: hardened, strict first.

Responses come from servers we do not control.  The parser never resolves entities, never
loads a DTD, never touches the network and keeps libxml2's size and depth limits
(``huge_tree=False``), so billion-laughs, external entities (XXE) and external DTDs are
inert and a 10 000-deep nesting is refused.  Callers never hand it a DOCTYPE either (the
scanner leaves it out), so an entity declared there is just an undefined name.

Strict parsing comes first; only when it fails is ``recover=True`` tried, and the caller is
told, because a recovered tree may have lost text.  Running into a resource limit is not
recovered from: what libxml2 would return is a truncated tree of a hostile document.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lxml import etree

_HARDENING = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                  huge_tree=False, remove_blank_text=False)

_RESOURCE_LIMIT = etree.ErrorTypes.ERR_RESOURCE_LIMIT
_PER_THREAD = threading.local()


def hardened_parser(*, recover: bool = False) -> etree.XMLParser:
    """This thread's hardened parser.  One per thread, because a parser's ``error_log``
    holds the errors of its last document only (``XMLSyntaxError.error_log`` accumulates
    across parses and must not be read), so two threads must never share one."""
    key = "recovering" if recover else "strict"
    parser = getattr(_PER_THREAD, key, None)
    if parser is None:
        parser = etree.XMLParser(recover=recover, **_HARDENING)
        setattr(_PER_THREAD, key, parser)
    return parser


@dataclass(frozen=True)
class ParseOutcome:
    element: etree._Element | None
    recovered: bool  # strict parsing failed, the element comes from recover=True
    problems: tuple[str, ...]  # libxml2's messages, "line:column: message"
    error: str | None  # set when there is no element at all


def parse_text(text: str) -> ParseOutcome:
    """Parse a standalone document given as text without an XML declaration."""
    data = text.encode("utf-8")  # libxml2 reads UTF-8 bytes without converting them
    strict = hardened_parser()
    try:
        return ParseOutcome(etree.fromstring(data, strict), False, (), None)
    except etree.XMLSyntaxError as exc:
        strict_log = strict.error_log
        strict_message = _describe(exc)
    problems = tuple(f"{e.line}:{e.column}: {e.message}" for e in strict_log)[:20] or (strict_message,)
    if any(e.type == _RESOURCE_LIMIT for e in strict_log):
        return ParseOutcome(None, False, problems, f"refused: {strict_message}")
    try:
        element = etree.fromstring(data, hardened_parser(recover=True))
    except etree.XMLSyntaxError as exc:
        return ParseOutcome(None, True, problems, _describe(exc))
    if element is None:
        return ParseOutcome(None, True, problems, f"nothing recoverable: {strict_message}")
    return ParseOutcome(element, True, problems, None)


def _describe(exc: etree.XMLSyntaxError) -> str:
    return str(exc.msg or exc)
