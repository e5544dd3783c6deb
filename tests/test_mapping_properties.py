"""Properties over generated records: mapping never raises and never loses title/description text."""

from __future__ import annotations

import unicodedata

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from mappings import MappingResult, SourceContext, available_crosswalks, ich_json_schema, load_crosswalk
from mappings.golden import raw_from_record

OAI = "http://www.openarchives.org/OAI/2.0/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NAMESPACES = [DC, DCTERMS, OAI_DC, "http://www.loc.gov/mods/v3", "http://www.loc.gov/MARC21/slim",
              "http://www.lido-schema.org", "http://www.europeana.eu/schemas/edm/",
              "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://datacite.org/schema/kernel-4",
              "urn:example:other"]
LOCAL_NAMES = ["title", "description", "subject", "coverage", "date", "type", "language", "creator",
               "identifier", "relation", "rights", "spatial", "abstract", "alternative", "datafield",
               "subfield", "titleInfo", "name", "namePart", "location", "url", "lido", "RDF",
               "ProvidedCHO", "Place", "resource", "titles", "record", "metadata"]

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


def xml_char(c: str) -> bool:
    """Characters XML 1.0 can carry (section 2.2); lxml refuses the rest."""
    o = ord(c)
    return (o in (0x9, 0xA, 0xD) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD
            or 0x10000 <= o <= 0x10FFFF)


# Text from every script the platform meets, plus combining marks and odd whitespace.
TEXT = st.text(st.characters(codec="utf-8").filter(xml_char), max_size=60) | st.sampled_from([
    "Hát Xoan", "판소리", "Күй", "ᠬᠥᠭᠡᠮᠡᠢ", "โขน", "रामलीला", "能楽", "昆曲", "Oʻzbekiston", "Бойсун баҳори",
    "ល្ខោនខោល", "e\u0301", "\u00a0 padded \u2003", "a\r\nb", "&amp;#x9332", "<not markup>",
])
LANGS = st.none() | st.sampled_from(["en", "vi", "ko-KR", "mn-Mong", "zz", "", "x-private", "eng"])
FIELDS = st.sampled_from(["title", "description", "subject", "coverage", "date", "type", "language",
                          "creator", "contributor", "identifier", "relation", "rights", "publisher",
                          "format", "source"])
CONTEXT = SourceContext("prop", "Property partner", "VN", "oai_dc", {"language": "vi"}, {})


def build_record(elements: list[tuple[str, str, str | None]], container: str = OAI_DC) -> str:
    record = etree.Element(f"{{{OAI}}}record", nsmap={None: OAI})
    header = etree.SubElement(record, f"{{{OAI}}}header")
    etree.SubElement(header, f"{{{OAI}}}identifier").text = "oai:prop:1"
    metadata = etree.SubElement(record, f"{{{OAI}}}metadata")
    dc = etree.SubElement(metadata, f"{{{container}}}dc",
                          nsmap={"oai_dc": OAI_DC, "dc": DC, "dcterms": DCTERMS})
    for name, text, lang in elements:
        element = etree.SubElement(dc, f"{{{DC}}}{name}")
        element.text = text
        if lang is not None:
            element.set(XML_LANG, lang)
    return etree.tostring(record, encoding="unicode")


def mapped(xml: str, crosswalk: str = "oai_dc") -> MappingResult:
    raw = raw_from_record(etree.fromstring(xml.encode("utf-8")), xml)
    return load_crosswalk(crosswalk).map(raw, CONTEXT)


def assert_well_formed(result: MappingResult) -> None:
    assert isinstance(result, MappingResult)
    assert "mapping-failed" not in {d.code for d in result.diagnostics}, result.diagnostics
    assert all(d.level in ("info", "warning", "error") for d in result.diagnostics)
    assert all(d.value is None or isinstance(d.value, str) for d in result.diagnostics)
    if not result.quarantined:
        jsonschema.validate(result.record, ich_json_schema())


@SETTINGS
@given(st.lists(st.tuples(FIELDS, TEXT, LANGS), max_size=14))
def test_mapping_any_dublin_core_never_raises_and_stays_valid(elements):
    xml = build_record(elements)
    for crosswalk in ("oai_dc", "qdc"):
        result = mapped(xml, crosswalk)
        assert_well_formed(result)
        assert result == mapped(xml, crosswalk), "mapping must be a pure function of the record"


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["title", "description"]), TEXT, LANGS), min_size=1,
                max_size=6))
def test_no_title_or_description_character_is_lost(elements):
    result = mapped(build_record(elements + [("type", "Text", None)]))
    assert result.record is not None
    for field, text, _ in elements:
        expected = unicodedata.normalize("NFC", text).strip()
        key = "title" if field == "title" else "description"
        values = [v["value"] for v in result.record[key]]
        if not expected:
            continue
        assert expected in values, (expected, values)
        for char in expected:
            assert any(char in value for value in values)
    if not any(unicodedata.normalize("NFC", t).strip() for f, t, _ in elements if f == "title"):
        assert result.quarantined and result.record["title"] == []


@st.composite
def element_soup(draw, depth: int = 0):
    """Random nested elements from the namespaces and names the crosswalks look for."""
    tag = f"{{{draw(st.sampled_from(NAMESPACES))}}}{draw(st.sampled_from(LOCAL_NAMES))}"
    node = etree.Element(tag)
    if draw(st.booleans()):
        node.text = draw(TEXT)
    for attribute in draw(st.lists(st.sampled_from(
            ["tag", "code", "type", "ind2", XML_LANG, "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource",
             "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about", "access", "titleType"]), max_size=3)):
        node.set(attribute, draw(st.sampled_from(["245", "880", "a", "6", "1", "", "#p", "http://x/a.jpg",
                                                  "245-01/$1", "raw object", "preview", "en"])))
    if depth < 3:
        for child in draw(st.lists(element_soup(depth=depth + 1), max_size=4)):
            node.append(child)
    return node


@SETTINGS
@given(element_soup())
def test_any_crosswalk_on_random_metadata_never_raises(soup):
    record = etree.Element(f"{{{OAI}}}record", nsmap={None: OAI})
    header = etree.SubElement(record, f"{{{OAI}}}header")
    etree.SubElement(header, f"{{{OAI}}}identifier").text = "oai:soup:1"
    etree.SubElement(record, f"{{{OAI}}}metadata").append(soup)
    xml = etree.tostring(record, encoding="unicode")
    for name in available_crosswalks():
        assert_well_formed(mapped(xml, name))


@SETTINGS
@given(st.fixed_dictionaries({}, optional={part: TEXT for part in
                                            ("nonSort", "title", "subTitle", "partNumber", "partName")}))
def test_mods_titles_keep_every_part(parts):
    mods_ns = "http://www.loc.gov/mods/v3"
    record = etree.Element(f"{{{OAI}}}record", nsmap={None: OAI})
    etree.SubElement(etree.SubElement(record, f"{{{OAI}}}header"), f"{{{OAI}}}identifier").text = "x"
    mods = etree.SubElement(etree.SubElement(record, f"{{{OAI}}}metadata"), f"{{{mods_ns}}}mods")
    info = etree.SubElement(mods, f"{{{mods_ns}}}titleInfo")
    for name, text in parts.items():
        etree.SubElement(info, f"{{{mods_ns}}}{name}").text = text
    etree.SubElement(mods, f"{{{mods_ns}}}genre").text = "text"
    result = mapped(etree.tostring(record, encoding="unicode"), "mods")
    assert_well_formed(result)
    titles = " ".join(v["value"] for v in result.record["title"])
    for text in parts.values():
        for char in unicodedata.normalize("NFC", text).strip():
            assert char in titles, (char, parts, titles)
