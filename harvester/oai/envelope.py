"""Reading the parts of an OAI-PMH response around the records (spec sections 3.2, 3.5, 3.6, 4).

Elements are matched by local name, not namespace: some repositories omit the OAI
namespace altogether, and sickle's model classes cannot read such elements
(``sickle.utils.get_namespace`` fails on a tag without ``{...}``), so they are used only
for namespaced elements, with the same fields read here for the rest.  Every text value
is stripped: servers pretty-print values onto their own lines (the metis and Copac
samples).
"""

from __future__ import annotations

import re
import types
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lxml import etree

from harvester.oai.diagnostics import WARNING, Diagnostic


@cache
def _sickle_models() -> types.ModuleType:
    """sickle's models, imported on first use: sickle brings requests along (~70 ms), and a
    re-harvest whose pages are all recognised (``harvester.store.page_memos``) reads no
    header, set or format at all."""
    with warnings.catch_warnings():
        # sickle/utils.py writes '(\{.*\})' in a plain string: compiling it without a cached
        # .pyc warns (an error under "-W error" or pytest's filterwarnings = error).
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        from sickle import models
    return models


VERBS = frozenset({"Identify", "ListMetadataFormats", "ListSets", "ListIdentifiers", "ListRecords",
                   "GetRecord"})
_LISTS = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})
_IDENTIFY_LISTS = frozenset({"adminEmail", "compression"})
_IDENTIFY_SINGLES = ("repositoryName", "baseURL", "protocolVersion", "earliestDatestamp",
                     "deletedRecord", "granularity")
_DIGITS = re.compile(r"[0-9]+")
# What sickle's models raise on elements they were not written for; we then read ourselves.
_SICKLE_FAILURES = (TypeError, AttributeError, KeyError, SyntaxError, ValueError)


@dataclass(frozen=True)
class Header:
    identifier: str
    datestamp: str | None
    sets: tuple[str, ...]
    deleted: bool


@dataclass(frozen=True)
class ResumptionToken:
    value: str  # stripped; "" = the list is complete
    cursor: int | None
    complete_list_size: int | None
    expiration_date: str | None


@dataclass
class EnvelopeParts:
    verb: str | None = None
    response_date: str | None = None
    request_url: str | None = None
    request_params: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    headers: list[Header] = field(default_factory=list)
    header_elements: list[etree._Element] = field(default_factory=list)
    sets: list[dict[str, str]] = field(default_factory=list)
    formats: list[dict[str, str]] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    token: ResumptionToken | None = None
    verb_element: etree._Element | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def child_elements(element: etree._Element) -> list[etree._Element]:
    return [c for c in element if isinstance(c.tag, str)]


def text_of(element: etree._Element | None) -> str | None:
    """Stripped text content (descendants included), None when the element is absent."""
    if element is None:
        return None
    return "".join(element.itertext()).strip()


def first_child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if isinstance(child.tag, str) and local(child) == name:
            return child
    return None


def read_envelope(root: etree._Element) -> EnvelopeParts:
    """Everything the response says besides its records."""
    parts = EnvelopeParts()
    for child in child_elements(root):
        name = local(child)
        if name == "responseDate":
            parts.response_date = text_of(child)
        elif name == "request":
            parts.request_url = text_of(child)
            parts.request_params = {str(k): str(v) for k, v in child.attrib.items()}
        elif name == "error":
            parts.errors.append((child.get("code", "").strip(), text_of(child) or ""))
        elif name in VERBS and parts.verb is None:
            parts.verb, parts.verb_element = name, child
    verb_element = parts.verb_element
    if verb_element is None:
        return parts
    if parts.verb == "Identify":
        parts.identify = read_identify(verb_element)
        return parts
    for child in child_elements(verb_element):
        name = local(child)
        if name == "header" and parts.verb == "ListIdentifiers":
            parts.headers.append(read_header(child))
            parts.header_elements.append(child)
        elif name == "set" and parts.verb == "ListSets":
            parts.sets.append(read_set(child))
        elif name == "metadataFormat" and parts.verb == "ListMetadataFormats":
            parts.formats.append(read_format(child))
        elif name == "resumptionToken" and parts.verb in _LISTS and parts.token is None:
            parts.token = read_token(child, parts.diagnostics)
    return parts


def read_header(element: etree._Element) -> Header:
    """An OAI header; identifier "" when the header has none (the caller decides what then)."""
    identifier: str | None = None
    datestamp: str | None = None
    set_specs: list[str | None] = []
    if "}" in element.tag:
        try:
            header = _sickle_models().Header(element)
            identifier, datestamp, set_specs = header.identifier, header.datestamp, header.setSpecs
        except _SICKLE_FAILURES:  # a namespace URI ElementPath cannot take, such as one with "}"
            identifier = None
    if identifier is None:  # no namespace, or children outside the header's namespace
        datestamp, set_specs = None, []
        for child in child_elements(element):
            name = local(child)
            if name == "identifier" and identifier is None:
                identifier = child.text
            elif name == "datestamp" and datestamp is None:
                datestamp = child.text
            elif name == "setSpec":
                set_specs.append(child.text)
    return Header(identifier=(identifier or "").strip(),
                  datestamp=datestamp.strip() if datestamp is not None else None,
                  sets=tuple(s.strip() for s in set_specs if s and s.strip()),
                  deleted=element.get("status") == "deleted")


def read_set(element: etree._Element) -> dict[str, str]:
    values: dict[str, str] = {}
    if "}" in element.tag:
        found = _sickle_fields(_sickle_models().Set, element)
        for key in ("setSpec", "setName"):
            if found.get(key):
                values[key] = (found[key][0] or "").strip()
    description = None
    for child in child_elements(element):
        name = local(child)
        if name in ("setSpec", "setName") and name not in values:
            values[name] = text_of(child) or ""
        elif name == "setDescription" and description is None:
            description = " ".join(t.strip() for t in child.itertext() if t.strip())
    values.setdefault("setSpec", "")
    values.setdefault("setName", "")
    if description:
        values["setDescription"] = description
    return values


def read_format(element: etree._Element) -> dict[str, str]:
    values: dict[str, str] = {}
    if "}" in element.tag:
        found = _sickle_fields(_sickle_models().MetadataFormat, element)
        values = {k: (v[0] or "").strip() for k, v in found.items()
                  if k in ("metadataPrefix", "schema", "metadataNamespace") and v}
    for child in child_elements(element):
        name = local(child)
        if name in ("metadataPrefix", "schema", "metadataNamespace") and name not in values:
            values[name] = text_of(child) or ""
    return values


def _sickle_fields(model: type, element: etree._Element) -> dict[str, list[str | None]]:
    # sickle's xml_to_dict assumes every descendant is an element with a "{ns}" tag; a
    # comment or processing instruction inside the element breaks it, so fall back then.
    try:
        return dict(model(element))
    except _SICKLE_FAILURES:
        return {}


def read_identify(element: etree._Element) -> dict[str, Any]:
    identify: dict[str, Any] = {key: None for key in _IDENTIFY_SINGLES}
    identify.update({key: [] for key in _IDENTIFY_LISTS})
    for child in child_elements(element):
        name = local(child)
        if name in _IDENTIFY_LISTS:
            value = text_of(child)
            if value:
                identify[name].append(value)
        elif name in identify and identify[name] is None:
            identify[name] = text_of(child)
    return identify


def read_token(element: etree._Element, diagnostics: list[Diagnostic]) -> ResumptionToken:
    """Spec 3.5: the value is opaque, kept exactly but for surrounding whitespace."""
    def number(attribute: str) -> int | None:
        raw = element.get(attribute)
        if raw is None:
            return None
        if _DIGITS.fullmatch(raw.strip()):
            return int(raw.strip())
        diagnostics.append(Diagnostic(WARNING, "bad-token-attribute",
                                      f"resumptionToken {attribute}={raw!r} is not a number; "
                                      f"ignored"))
        return None
    expiration = element.get("expirationDate")
    return ResumptionToken(value=(element.text or "").strip(),
                           cursor=number("cursor"),
                           complete_list_size=number("completeListSize"),
                           expiration_date=expiration.strip() if expiration is not None else None)
