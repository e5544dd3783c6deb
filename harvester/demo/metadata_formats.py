"""Write one demo record description as the XML each partner's own software would serve.

The demo data (``data/*.yaml``) describes every record once, in format-neutral terms; a
partner's ``format`` decides how it is dressed: simple DC, qualified DC (CONTENTdm-style
``oai_qdc``), MODS or LIDO.  Serialising with lxml keeps the escaping right for any text,
and every partner also offers ``oai_dc`` because OAI-PMH 2.0 section 3.4 requires it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from lxml import etree

from harvester.provider import OAI_DC, FormatInfo

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
OAI_QDC_NS = "http://worldcat.org/xmlschemas/qdc-1.0/"
MODS_NS = "http://www.loc.gov/mods/v3"
LIDO_NS = "http://www.lido-schema.org"

OAI_QDC = FormatInfo(prefix="oai_qdc", schema="http://worldcat.org/xmlschemas/qdc/1.0/qdc-1.0.xsd",
                     namespace=OAI_QDC_NS)
MODS = FormatInfo(prefix="mods", schema="http://www.loc.gov/standards/mods/v3/mods-3-7.xsd",
                  namespace=MODS_NS)
LIDO = FormatInfo(prefix="lido", schema="http://www.lido-schema.org/schema/v1.1/lido-v1.1.xsd",
                  namespace=LIDO_NS)

LangText = tuple[str | None, str]


def lang_texts(value: Any) -> list[LangText]:
    """``"text"``, ``{lang: text | [texts]}`` or a list of those -> (lang or None, text) pairs.

    A plain string carries no language on purpose: untagged values are a quirk the
    crosswalks must cope with (they guess from the script and the source's default).
    """
    if value is None:
        return []
    if isinstance(value, (str, int, float, date)):  # YAML reads 2011 and 2011-11-24 as numbers/dates
        return [(None, str(value))]
    if isinstance(value, Mapping):
        out: list[LangText] = []
        for lang, texts in value.items():
            for text in texts if isinstance(texts, list) else [texts]:
                if text is None or isinstance(text, (Mapping, list)):
                    raise ValueError(f"{lang!r} needs a text, not {text!r} (an unquoted comma?)")
                out.append((str(lang), str(text)))
        return out
    return [pair for item in value for pair in lang_texts(item)]


def plain_texts(value: Any) -> list[str]:
    return [text for _, text in lang_texts(value)]


def _add(parent: etree._Element, tag: str, text: str | None = None, lang: str | None = None,
         **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    if lang:
        element.set(XML_LANG, lang)
    return element


def _serialise(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


# -- Dublin Core -----------------------------------------------------------------------------

def _dc_root(tag: str, nsmap: dict[str, str], schema_location: str) -> etree._Element:
    root = etree.Element(tag, nsmap={**nsmap, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", schema_location)
    return root


# neutral field -> (simple DC element, qualified DC element); None: the format has no place for it.
_DC_ELEMENTS: tuple[tuple[str, str | None, str], ...] = (
    ("title", "dc:title", "dc:title"),
    ("alternative", "dc:title", "dcterms:alternative"),
    ("creator", "dc:creator", "dc:creator"),
    ("contributor", "dc:contributor", "dc:contributor"),
    ("subject", "dc:subject", "dc:subject"),
    ("description", "dc:description", "dcterms:abstract"),
    ("publisher", "dc:publisher", "dc:publisher"),
    ("created", "dc:date", "dcterms:created"),
    ("date", "dc:date", "dcterms:issued"),
    ("type", "dc:type", "dc:type"),
    ("identifier", "dc:identifier", "dc:identifier"),
    ("media", "dc:relation", "dcterms:hasFormat"),
    ("language", "dc:language", "dc:language"),
    ("coverage", "dc:coverage", "dcterms:spatial"),
    ("community", None, "dcterms:audience"),
    ("rights", "dc:rights", "dcterms:license"),
)
_DC_NAMESPACES = {"dc": DC, "dcterms": DCTERMS}


def _packed(values: list[LangText]) -> list[LangText]:
    """CONTENTdm-style: every heading of one language packed into one element with "; "."""
    by_lang: dict[str | None, list[str]] = {}
    for lang, text in values:
        by_lang.setdefault(lang, []).append(text)
    return [(lang, "; ".join(texts)) for lang, texts in by_lang.items()]


def _dc_elements(root: etree._Element, record: Mapping[str, Any], quirks: Mapping[str, Any],
                 *, qualified: bool) -> None:
    for key, simple, refined in _DC_ELEMENTS:
        name = refined if qualified else simple
        if name is None:
            continue
        values = lang_texts(record.get(key))
        if key == "subject" and quirks.get("packed_subjects"):
            values = _packed(values)
        prefix, local = name.split(":")
        for lang, text in values:
            _add(root, f"{{{_DC_NAMESPACES[prefix]}}}{local}", text, lang)


def oai_dc_xml(record: Mapping[str, Any], quirks: Mapping[str, Any]) -> str:
    root = _dc_root(f"{{{OAI_DC.namespace}}}dc", {"oai_dc": OAI_DC.namespace},
                    f"{OAI_DC.namespace} {OAI_DC.schema}")
    _dc_elements(root, record, quirks, qualified=False)
    return _serialise(root)


def oai_qdc_xml(record: Mapping[str, Any], quirks: Mapping[str, Any]) -> str:
    root = _dc_root(f"{{{OAI_QDC_NS}}}qualifieddc",
                    {"oai_qdc": OAI_QDC_NS, "dcterms": DCTERMS}, f"{OAI_QDC_NS} {OAI_QDC.schema}")
    _dc_elements(root, record, quirks, qualified=True)
    return _serialise(root)


# -- MODS ------------------------------------------------------------------------------------

def mods_xml(record: Mapping[str, Any], quirks: Mapping[str, Any]) -> str:
    m = f"{{{MODS_NS}}}"
    root = etree.Element(m + "mods", nsmap={None: MODS_NS, "xsi": XSI}, version="3.7")
    root.set(f"{{{XSI}}}schemaLocation", f"{MODS_NS} {MODS.schema}")
    for lang, text in lang_texts(record.get("title")):
        _add(_add(root, m + "titleInfo", lang=lang), m + "title", text)
    for lang, text in lang_texts(record.get("alternative")):
        _add(_add(root, m + "titleInfo", lang=lang, type="alternative"), m + "title", text)
    for role in ("creator", "contributor"):
        for lang, text in lang_texts(record.get(role)):
            name = _add(root, m + "name", lang=lang)
            _add(name, m + "namePart", text)
            _add(_add(name, m + "role"), m + "roleTerm", role, type="text")
    for _, text in lang_texts(record.get("type_of_resource")):
        _add(root, m + "typeOfResource", text)
    for lang, text in lang_texts(record.get("type")):
        _add(root, m + "genre", text, lang)
    origin = _add(root, m + "originInfo")
    for lang, text in lang_texts(record.get("publisher")):
        _add(origin, m + "publisher", text, lang)
    for _, text in lang_texts(record.get("created")):
        _add(origin, m + "dateCreated", text, encoding="w3cdtf")
    for _, text in lang_texts(record.get("date")):
        _add(origin, m + "dateIssued", text, encoding="w3cdtf")
    if not len(origin):
        root.remove(origin)
    for _, code in lang_texts(record.get("language")):
        _add(_add(root, m + "language"), m + "languageTerm", code, type="code", authority="iso639-2b")
    for lang, text in lang_texts(record.get("description")):
        _add(root, m + "abstract", text, lang)
    for lang, text in lang_texts(record.get("subject")):
        _add(_add(root, m + "subject", lang=lang), m + "topic", text)
    for lang, text in lang_texts(record.get("coverage")):
        _add(_add(root, m + "subject", lang=lang), m + "geographic", text)
    for lang, text in lang_texts(record.get("community")):
        _add(_add(_add(root, m + "subject", lang=lang), m + "name", type="family"), m + "namePart", text)
    for _, url in lang_texts(record.get("identifier")):
        _add(root, m + "identifier", url, type="uri")
    location = _add(root, m + "location")
    for _, url in lang_texts(record.get("identifier")):
        _add(location, m + "url", url, access="object in context", usage="primary display")
    for _, url in lang_texts(record.get("media")):
        _add(location, m + "url", url, access="raw object")
    if not len(location):
        root.remove(location)
    for _, uri in lang_texts(record.get("rights")):
        _add(root, m + "accessCondition", uri, type="use and reproduction")
    return _serialise(root)


# -- LIDO ------------------------------------------------------------------------------------

def _by_language(record: Mapping[str, Any], keys: Iterable[str]) -> dict[str | None, dict[str, list[str]]]:
    """Group the record's texts by language, in the order the titles give the languages.

    LIDO writes one ``descriptiveMetadata`` per language, its ``xml:lang`` inherited by
    everything inside; untagged texts join the first block, as in a partner's export.
    """
    order = [lang for lang, _ in lang_texts(record.get("title"))]
    first = order[0] if order else None
    blocks: dict[str | None, dict[str, list[str]]] = {lang: {} for lang in order}
    for key in keys:
        for lang, text in lang_texts(record.get(key)):
            blocks.setdefault(lang or first, {}).setdefault(key, []).append(text)
    return blocks


def lido_xml(record: Mapping[str, Any], quirks: Mapping[str, Any]) -> str:
    lido = f"{{{LIDO_NS}}}"
    root = etree.Element(lido + "lido", nsmap={"lido": LIDO_NS, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{LIDO_NS} {LIDO.schema}")
    urls = plain_texts(record.get("identifier"))
    _add(root, lido + "lidoRecID", urls[0] if urls else str(record["id"]), **{lido + "type": "local"})
    _add(_add(root, lido + "category"), lido + "term", "Man-Made Object")
    blocks = _by_language(record, ("type", "title", "alternative", "description", "community",
                                   "coverage", "subject"))
    for index, (lang, texts) in enumerate(blocks.items()):
        descriptive = _add(root, lido + "descriptiveMetadata", lang=lang or "und")
        work_types = _add(_add(descriptive, lido + "objectClassificationWrap"), lido + "objectWorkTypeWrap")
        for text in texts.get("type", []):
            _add(_add(work_types, lido + "objectWorkType"), lido + "term", text)
        identification = _add(descriptive, lido + "objectIdentificationWrap")
        titles = _add(identification, lido + "titleWrap")
        for text in texts.get("title", []):
            _add(_add(titles, lido + "titleSet"), lido + "appellationValue", text)
        for text in texts.get("alternative", []):
            _add(_add(titles, lido + "titleSet"), lido + "appellationValue", text,
                 **{lido + "pref": "alternate"})
        notes = _add(identification, lido + "objectDescriptionWrap")
        for text in texts.get("description", []):
            _add(_add(notes, lido + "objectDescriptionSet"), lido + "descriptiveNoteValue", text)
        event = _add(_add(_add(descriptive, lido + "eventWrap"), lido + "eventSet"), lido + "event")
        _add(_add(event, lido + "eventType"), lido + "term", "production")
        if index == 0:  # who made it and when is said once, not once per language
            for text in plain_texts(record.get("creator")):
                actor_in_role = _add(_add(event, lido + "eventActor"), lido + "actorInRole")
                _add(_add(_add(actor_in_role, lido + "actor"), lido + "nameActorSet"),
                     lido + "appellationValue", text)
                _add(_add(actor_in_role, lido + "roleActor"), lido + "term", "maker")
        for text in texts.get("community", []):
            _add(_add(event, lido + "culture"), lido + "term", text)
        if index == 0:
            for text in plain_texts(record.get("created")):
                _add(_add(event, lido + "eventDate"), lido + "displayDate", text)
        for text in texts.get("coverage", []):
            place = _add(_add(event, lido + "eventPlace"), lido + "place")
            _add(_add(place, lido + "namePlaceSet"), lido + "appellationValue", text)
        if texts.get("subject"):
            subject = _add(_add(_add(_add(descriptive, lido + "objectRelationWrap"), lido + "subjectWrap"),
                                lido + "subjectSet"), lido + "subject")
            for text in texts["subject"]:
                _add(_add(subject, lido + "subjectConcept"), lido + "term", text)
    administrative = _add(root, lido + "administrativeMetadata", lang="en")
    for uri in plain_texts(record.get("rights")):
        rights = _add(_add(administrative, lido + "rightsWorkWrap"), lido + "rightsWorkSet")
        _add(_add(rights, lido + "rightsType"), lido + "term", uri)
    record_wrap = _add(administrative, lido + "recordWrap")
    _add(record_wrap, lido + "recordID", str(record["id"]), **{lido + "type": "local"})
    _add(_add(record_wrap, lido + "recordType"), lido + "term", "item")
    for lang, text in lang_texts(record.get("publisher"))[:1]:
        _add(_add(_add(record_wrap, lido + "recordSource"), lido + "legalBodyName"),
             lido + "appellationValue", text, lang)
    for url in urls[:1]:
        _add(_add(record_wrap, lido + "recordInfoSet"), lido + "recordInfoLink", url)
    media = plain_texts(record.get("media"))
    if media:
        resources = _add(administrative, lido + "resourceWrap")
        for url in media:
            representation = _add(_add(resources, lido + "resourceSet"), lido + "resourceRepresentation")
            _add(representation, lido + "linkResource", url)
    return _serialise(root)


Renderer = Callable[[Mapping[str, Any], Mapping[str, Any]], str]

#: metadataPrefix -> (format description for ListMetadataFormats, renderer)
FORMATS: dict[str, tuple[FormatInfo, Renderer]] = {
    "oai_dc": (OAI_DC, oai_dc_xml),
    "oai_qdc": (OAI_QDC, oai_qdc_xml),
    "mods": (MODS, mods_xml),
    "lido": (LIDO, lido_xml),
}
