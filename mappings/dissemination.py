"""The ICH record as XML, for the aggregate's own OAI-PMH feed: ``oai_dc`` and ``ich``.

``oai_dc`` is the lossy lowest common denominator every harvester understands (every text
value keeps its ``xml:lang``); ``ich`` carries the whole common record, element by element,
so an aggregator downstream loses nothing.  Pure functions of the record dict: no store, no
network.  Text that XML 1.0 cannot carry (control characters) becomes U+FFFD rather than
failing the whole page.

The ``ich`` format (namespace :data:`ICH_NAMESPACE`, XML Schema ``ich-record-1.0.xsd``
served by the service beside its ``/oai``) mirrors ``mappings/schema/ich-record.schema.json``::

    <ich:record schemaVersion="1.0">
      id, source, partner(@country), oai(@identifier @datestamp @metadataPrefix; set*),
      category, title+, alternativeTitle*, description*, subject*   (@xml:lang, @langGuessed)
      domain*, country*, place*(@xml:lang @lat @lon), community*, date*(@type @edtf
      @startYear @endYear), language*, creator*/contributor*(@role @xml:lang), publisher*,
      identifier*, media*(@type @format), resourceType?, landingPage?, thumbnail?,
      rights?(@uri), provenance(@harvestedAt @mapping @mappingVersion @rawSha256)
    </ich:record>
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

ICH_NAMESPACE = "https://ichlinks.example/ns/ich/1.0"
ICH_SCHEMA_FILE = "ich-record-1.0.xsd"
OAI_DC_NAMESPACE = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ILLEGAL_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Text fields of the record in document order: (JSON key, ich element, Dublin Core element).
_LANG_FIELDS = (("title", "title", "title"), ("alternative_titles", "alternativeTitle", "title"),
                ("description", "description", "description"), ("subjects", "subject", "subject"))


def _clean(value: object) -> str:
    return _ILLEGAL_XML.sub("\ufffd", str(value))


def _items(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    return list(value) if isinstance(value, list) else []


def _add(parent: etree._Element, tag: str, text: object | None = None,
         attrs: Mapping[str, object | None] | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = _clean(text)
    for name, value in (attrs or {}).items():
        if value is not None and value != "":
            element.set(name, _clean(value))
    return element


def _serialise(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


# -- oai_dc ----------------------------------------------------------------------------------

def oai_dc_xml(record: Mapping[str, Any]) -> str:
    """Simple Dublin Core (``oai_dc:dc``) for one ICH record."""
    root = etree.Element(f"{{{OAI_DC_NAMESPACE}}}dc",
                         nsmap={"oai_dc": OAI_DC_NAMESPACE, "dc": DC_NAMESPACE, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", f"{OAI_DC_NAMESPACE} {OAI_DC_SCHEMA}")

    def dc(name: str, text: object, lang: object | None = None) -> None:
        if text is None or str(text).strip() == "":
            return
        _add(root, f"{{{DC_NAMESPACE}}}{name}", text, {_XML_LANG: lang})

    for key, _, dc_name in _LANG_FIELDS:
        for item in _items(record, key):
            if isinstance(item, Mapping):
                dc(dc_name, item.get("value"), item.get("lang"))
    for agent_key, dc_name in (("creators", "creator"), ("contributors", "contributor")):
        for agent in _items(record, agent_key):
            if isinstance(agent, Mapping):
                dc(dc_name, agent.get("name"), agent.get("lang"))
    for publisher in _items(record, "publisher"):
        dc("publisher", publisher)
    for date in _items(record, "dates"):
        if isinstance(date, Mapping):
            dc("date", date.get("edtf") or date.get("value"))
    dc("type", record.get("resource_type"))
    dc("type", record.get("category"))
    for medium in _items(record, "media"):
        if isinstance(medium, Mapping):
            dc("format", medium.get("format"))
    links = record.get("links") if isinstance(record.get("links"), Mapping) else {}
    dc("identifier", links.get("landing_page"))
    for identifier in _items(record, "identifiers"):
        if identifier != links.get("landing_page"):
            dc("identifier", identifier)
    partner = record.get("partner") if isinstance(record.get("partner"), Mapping) else {}
    dc("source", partner.get("name"))
    for language in _items(record, "languages"):
        dc("language", language)
    for place in _items(record, "places"):
        if isinstance(place, Mapping):
            dc("coverage", place.get("name"), place.get("lang"))
    for country in _items(record, "countries"):
        dc("coverage", country)
    for community in _items(record, "communities"):
        if isinstance(community, Mapping):
            dc("coverage", community.get("value"), community.get("lang"))
    rights = record.get("rights") if isinstance(record.get("rights"), Mapping) else {}
    dc("rights", rights.get("statement"))
    dc("rights", rights.get("uri"))
    return _serialise(root)


# -- ich -------------------------------------------------------------------------------------

def _ich(name: str) -> str:
    return f"{{{ICH_NAMESPACE}}}{name}"


def _year(value: object) -> object | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _decimal(value: object) -> str | None:
    """A coordinate as xs:decimal text (never exponent notation such as 1e-05)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return f"{float(value):.7f}".rstrip("0").rstrip(".")


def _lang_strings(root: etree._Element, tag: str, items: Iterable[Any]) -> None:
    for item in items:
        if not isinstance(item, Mapping) or item.get("value") in (None, ""):
            continue
        guessed = item.get("lang_guessed")
        _add(root, _ich(tag), item["value"],
             {_XML_LANG: item.get("lang"),
              "langGuessed": ("true" if guessed else "false") if guessed is not None else None})


def ich_xml(record: Mapping[str, Any], *, schema_location: str | None = None) -> str:
    """The whole ICH record in the ``ich`` XML format (see the module docstring)."""
    root = etree.Element(_ich("record"), nsmap={"ich": ICH_NAMESPACE, "xsi": _XSI})
    root.set("schemaVersion", str(record.get("schema_version") or "1.0"))
    if schema_location:
        root.set(f"{{{_XSI}}}schemaLocation", f"{ICH_NAMESPACE} {schema_location}")
    _add(root, _ich("id"), record.get("id", ""))
    _add(root, _ich("source"), record.get("source", ""))
    partner = record.get("partner") if isinstance(record.get("partner"), Mapping) else {}
    _add(root, _ich("partner"), partner.get("name", ""), {"country": partner.get("country")})
    oai = record.get("oai") if isinstance(record.get("oai"), Mapping) else {}
    oai_el = _add(root, _ich("oai"), None, {"identifier": oai.get("identifier", ""),
                                            "datestamp": oai.get("datestamp"),
                                            "metadataPrefix": oai.get("metadata_prefix", "")})
    for set_spec in _items(oai, "sets"):
        _add(oai_el, _ich("set"), set_spec)
    _add(root, _ich("category"), record.get("category", ""))
    for key, tag, _ in _LANG_FIELDS:
        _lang_strings(root, tag, _items(record, key))
    for domain in _items(record, "ich_domains"):
        _add(root, _ich("domain"), domain)
    for country in _items(record, "countries"):
        _add(root, _ich("country"), country)
    for place in _items(record, "places"):
        if isinstance(place, Mapping) and place.get("name"):
            _add(root, _ich("place"), place["name"],
                 {_XML_LANG: place.get("lang"), "lat": _decimal(place.get("lat")),
                  "lon": _decimal(place.get("lon"))})
    _lang_strings(root, "community", _items(record, "communities"))
    for date in _items(record, "dates"):
        if isinstance(date, Mapping) and date.get("value") not in (None, ""):
            _add(root, _ich("date"), date["value"],
                 {"type": date.get("type") or "other", "edtf": date.get("edtf"),
                  "startYear": _year(date.get("start_year")), "endYear": _year(date.get("end_year"))})
    for language in _items(record, "languages"):
        _add(root, _ich("language"), language)
    for agent_key, tag in (("creators", "creator"), ("contributors", "contributor")):
        for agent in _items(record, agent_key):
            if isinstance(agent, Mapping) and agent.get("name"):
                _add(root, _ich(tag), agent["name"], {"role": agent.get("role"),
                                                      _XML_LANG: agent.get("lang")})
    for publisher in _items(record, "publisher"):
        _add(root, _ich("publisher"), publisher)
    for identifier in _items(record, "identifiers"):
        _add(root, _ich("identifier"), identifier)
    for medium in _items(record, "media"):
        if isinstance(medium, Mapping) and medium.get("url"):
            _add(root, _ich("media"), medium["url"], {"type": medium.get("type") or "other",
                                                      "format": medium.get("format")})
    if record.get("resource_type"):
        _add(root, _ich("resourceType"), record["resource_type"])
    links = record.get("links") if isinstance(record.get("links"), Mapping) else {}
    if links.get("landing_page"):
        _add(root, _ich("landingPage"), links["landing_page"])
    if links.get("thumbnail"):
        _add(root, _ich("thumbnail"), links["thumbnail"])
    rights = record.get("rights") if isinstance(record.get("rights"), Mapping) else {}
    if rights.get("statement") or rights.get("uri"):
        _add(root, _ich("rights"), rights.get("statement") or "", {"uri": rights.get("uri")})
    provenance = record.get("provenance") if isinstance(record.get("provenance"), Mapping) else {}
    _add(root, _ich("provenance"), None,
         {"harvestedAt": provenance.get("harvested_at"), "mapping": provenance.get("mapping", ""),
          "mappingVersion": provenance.get("mapping_version", ""),
          "rawSha256": provenance.get("raw_sha256", "")})
    return _serialise(root)
