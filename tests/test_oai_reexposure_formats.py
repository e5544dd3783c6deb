"""``mappings.dissemination``: the ICH record as ``oai_dc`` and as ``ich`` XML (pure functions)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from test_service_support import corpus, ich_record

from mappings.dissemination import DC_NAMESPACE, ICH_NAMESPACE, OAI_DC_NAMESPACE, ich_xml, oai_dc_xml

XSD = etree.XMLSchema(etree.parse(str(Path(__file__).resolve().parents[1] / "harvester" / "service"
                                      / "static" / "ich-record-1.0.xsd")))
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NS = {"ich": ICH_NAMESPACE, "dc": DC_NAMESPACE, "oai_dc": OAI_DC_NAMESPACE}


def full_record() -> dict[str, Any]:
    """A record using every field of the JSON Schema."""
    return ich_record(
        "kr-ichcap", "full", [("판소리", "ko"), ("Pansori", "en")],
        description=[("Epic chant", "en")], countries=["KR", "JP"],
        domains=["performing_arts", "oral_traditions"], languages=["ko", "en"], years=(2003, 2008),
        landing_page="https://ichcap.example/p", identifiers=["https://ichcap.example/p", "urn:x:1"],
        alternative_titles=[{"value": "Pansori epic", "lang": "en", "lang_guessed": True}],
        subjects=[{"value": "music", "lang": "en"}],
        places=[{"name": "Jeolla", "lang": "en", "lat": 35.0, "lon": 1e-05}, {"name": "Seoul"}],
        communities=[{"value": "소리꾼", "lang": "ko"}],
        creators=[{"name": "Kim", "role": "singer", "lang": "ko"}], contributors=[{"name": "Lee"}],
        publisher=["ICHCAP"], media=[{"type": "video", "url": "https://v.example/1", "format": "video/mp4"}],
        resource_type="Sound", rights={"statement": "CC BY 4.0", "uri": "https://creativecommons.org/licenses/by/4.0/"},
    ) | {"links": {"landing_page": "https://ichcap.example/p", "thumbnail": "https://ichcap.example/t.jpg"}}


def test_full_record_as_ich_is_valid_and_complete() -> None:
    record = full_record()
    root = etree.fromstring(ich_xml(record, schema_location="https://agg.example/oai/ich-record-1.0.xsd"))
    XSD.assertValid(root)
    assert root.findtext("ich:id", namespaces=NS) == record["id"]
    assert [(t.text, t.get(LANG)) for t in root.findall("ich:title", NS)] == \
        [(t["value"], t["lang"]) for t in record["title"]]
    assert root.find("ich:alternativeTitle", NS).get("langGuessed") == "true"
    assert [d.text for d in root.findall("ich:domain", NS)] == record["ich_domains"]
    assert [c.text for c in root.findall("ich:country", NS)] == record["countries"]
    place = root.find("ich:place", NS)
    assert (place.get("lat"), place.get("lon")) == ("35", "0.00001")
    date = root.find("ich:date", NS)
    assert (date.get("startYear"), date.get("endYear"), date.get("edtf")) == ("2003", "2008", "2003/2008")
    assert root.find("ich:creator", NS).get("role") == "singer"
    assert root.find("ich:media", NS).get("format") == "video/mp4"
    assert root.findtext("ich:thumbnail", namespaces=NS) == record["links"]["thumbnail"]
    assert root.find("ich:rights", NS).get("uri") == record["rights"]["uri"]
    assert root.find("ich:provenance", NS).get("rawSha256") == record["provenance"]["raw_sha256"]
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").endswith("ich-record-1.0.xsd")


def test_full_record_as_oai_dc() -> None:
    record = full_record()
    root = etree.fromstring(oai_dc_xml(record))
    assert root.tag == f"{{{OAI_DC_NAMESPACE}}}dc"
    titles = [(t.text, t.get(LANG)) for t in root.findall("dc:title", NS)]
    assert titles == [(t["value"], t["lang"]) for t in record["title"]] + [("Pansori epic", "en")]
    identifiers = [i.text for i in root.findall("dc:identifier", NS)]
    assert identifiers == ["https://ichcap.example/p", "urn:x:1"]  # the landing page once
    assert {c.text for c in root.findall("dc:coverage", NS)} >= {"KR", "JP", "Jeolla", "Seoul", "소리꾼"}
    assert [c.text for c in root.findall("dc:creator", NS)] == ["Kim"]
    assert [r.text for r in root.findall("dc:rights", NS)] == ["CC BY 4.0", record["rights"]["uri"]]
    assert {t.text for t in root.findall("dc:type", NS)} == {"Sound", "element"}
    children = {etree.QName(c).namespace for c in root}
    assert children == {DC_NAMESPACE}


@pytest.mark.parametrize("record", corpus(), ids=lambda r: r["id"])
def test_every_corpus_record_is_valid_ich(record: dict[str, Any]) -> None:
    XSD.assertValid(etree.fromstring(ich_xml(record)))


def test_dissemination_does_not_change_the_record() -> None:
    record = full_record()
    before = copy.deepcopy(record)
    ich_xml(record)
    oai_dc_xml(record)
    assert record == before


_xml_text = st.text(min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(titles=st.lists(st.tuples(_xml_text, st.sampled_from(["ko", "vi", None, "mn-Mong"])),
                       min_size=1, max_size=4),
       description=_xml_text)
def test_any_text_gives_well_formed_valid_xml(titles: list[tuple[str, str | None]], description: str) -> None:
    record = ich_record("vn-vicas", "any", titles, description=[(description, "en")])
    root = etree.fromstring(ich_xml(record))
    XSD.assertValid(root)
    kept = [t.text or "" for t in root.findall("ich:title", NS)]
    assert len(kept) == len(titles)
    for (value, lang), element in zip(titles, root.findall("ich:title", NS)):
        assert element.get(LANG) == lang
        legal = "".join(c if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"
                        or c >= "\U00010000" else "\ufffd" for c in value)
        assert (element.text or "") == legal
    etree.fromstring(oai_dc_xml(record))
