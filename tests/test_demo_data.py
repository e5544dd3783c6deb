"""The demo's bundled partners: data integrity, the XML each format renders, and what the
project's own crosswalks make of it (pure: no HTTP, no store)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest
from lxml import etree

from harvester.demo import DemoPartner, lang_texts, load_partners
from harvester.demo.metadata_formats import DC, DCTERMS, LIDO_NS, MODS_NS, OAI_QDC_NS
from harvester.provider import OAI_NAMESPACE, ProviderRecord, handle

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PARTNERS = load_partners()
PARTNER_IDS = [p.source for p in PARTNERS]
ROOTS = {"oai_dc": "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc",
         "oai_qdc": f"{{{OAI_QDC_NS}}}qualifieddc", "mods": f"{{{MODS_NS}}}mods",
         "lido": f"{{{LIDO_NS}}}lido"}


def test_lang_texts_reads_every_shape_the_data_uses() -> None:
    assert lang_texts(None) == []
    assert lang_texts("Ca trù") == [(None, "Ca trù")]
    assert lang_texts(2011) == [(None, "2011")]
    assert lang_texts(date(2017, 12, 8)) == [(None, "2017-12-08")]
    assert lang_texts({"vi": "Hát Xoan", "en": ["Xoan", "Xoan singing"]}) == [
        ("vi", "Hát Xoan"), ("en", "Xoan"), ("en", "Xoan singing")]
    assert lang_texts(["아리랑", {"en": "Arirang"}]) == [(None, "아리랑"), ("en", "Arirang")]
    # {en: Kun Lbokator, traditional ...} in YAML flow style is two keys: a data mistake.
    with pytest.raises(ValueError, match="unquoted comma"):
        lang_texts({"en": "Kun Lbokator", "traditional martial arts": None})


def test_at_least_three_partners_from_different_countries_in_different_formats() -> None:
    assert len(PARTNERS) >= 3
    assert len({p.country for p in PARTNERS}) == len(PARTNERS)
    assert len({p.source for p in PARTNERS}) == len(PARTNERS)
    assert len({p.metadata_prefix for p in PARTNERS}) >= 3
    assert {p.deleted_record for p in PARTNERS} == {"no", "transient", "persistent"}


def test_load_partners_selects_by_name() -> None:
    assert [p.source for p in load_partners(["mn-cch"])] == ["mn-cch"]
    assert load_partners(["no-such-partner"]) == []


@pytest.mark.parametrize("partner", PARTNERS, ids=PARTNER_IDS)
def test_partner_data_is_consistent(partner: DemoPartner) -> None:
    from mappings import available_crosswalks

    assert 15 <= len(partner.records) <= 40
    assert partner.mapping in available_crosswalks()
    declared = {s.spec for s in partner.sets}
    identifiers = set()
    for record in partner.records:
        identifiers.add(partner.identifier(record))
        for spec in record.get("sets", ()):
            parts = spec.split(":")
            # OAI-PMH 2.0 section 2.7.2: every ancestor of a declared set is declared too.
            assert {":".join(parts[:k]) for k in range(1, len(parts) + 1)} <= declared, spec
        if not record.get("deleted"):
            assert record.get("identifier"), record["id"]
    assert len(identifiers) == len(partner.records)
    deleted = [r for r in partner.records if r.get("deleted")]
    assert all(set(r) <= {"id", "datestamp", "sets", "deleted"} for r in deleted)
    rules = partner.rules.get("category_by_set", {})
    assert set(rules) <= declared


@pytest.mark.parametrize("partner", PARTNERS, ids=PARTNER_IDS)
def test_repository_serves_the_native_format_and_oai_dc(partner: DemoPartner) -> None:
    repository = partner.repository()
    prefixes = [f.prefix for f in repository.formats()]
    assert prefixes[0] == partner.metadata_prefix and "oai_dc" in prefixes
    listed = list(repository)
    if partner.deleted_record == "no":
        assert not any(r.deleted for r in listed)
        assert len(listed) == sum(1 for r in partner.records if not r.get("deleted"))
    else:
        assert len(listed) == len(partner.records)
    for record in listed:
        assert record.deleted or set(record.metadata) == set(prefixes)
    # Through the protocol: GetRecord in the native format answers with its XML.
    first = next(r for r in listed if not r.deleted)
    response = handle({"verb": ["GetRecord"], "identifier": [first.identifier],
                       "metadataPrefix": [partner.metadata_prefix]}, repository,
                      page_size=partner.page_size, token_secret=b"t" * 32,
                      base_url="http://127.0.0.1/oai")
    root = etree.fromstring(response.body)
    metadata = root.find(f"{{{OAI_NAMESPACE}}}GetRecord/{{{OAI_NAMESPACE}}}record/{{{OAI_NAMESPACE}}}metadata")
    assert metadata is not None and metadata[0].tag == ROOTS[partner.metadata_prefix]


def _records(partner: DemoPartner) -> list[tuple[dict[str, Any], ProviderRecord]]:
    provided = {r.identifier: r for r in partner.provider_records()}
    return [(dict(r), provided[partner.identifier(r)]) for r in partner.records if not r.get("deleted")]


@pytest.mark.parametrize("partner", PARTNERS, ids=PARTNER_IDS)
def test_rendered_xml_carries_every_title_with_its_language(partner: DemoPartner) -> None:
    for record, provided in _records(partner):
        for prefix, xml in provided.metadata.items():
            root = etree.fromstring(xml.encode("utf-8"))
            assert root.tag == ROOTS[prefix]
            text = "".join(root.itertext())
            for lang, title in lang_texts(record.get("title")):
                assert title in text, (record["id"], prefix)
                if prefix in ("oai_dc", "oai_qdc"):
                    titles = root.findall(f"{{{DC}}}title")
                    assert any(t.text == title and t.get(XML_LANG) == lang for t in titles), \
                        (record["id"], title, lang)


def test_quirks_are_rendered() -> None:
    vn = next(p for p in PARTNERS if p.source == "vn-vicas")
    record, provided = _records(vn)[0]
    root = etree.fromstring(provided.metadata["oai_dc"].encode("utf-8"))
    packed = [s.text for s in root.findall(f"{{{DC}}}subject")]
    assert any("; " in s for s in packed)  # CONTENTdm-style packed subjects
    kr = next(p for p in PARTNERS if p.source == "kr-nihc")
    _, provided = _records(kr)[0]
    root = etree.fromstring(provided.metadata["oai_qdc"].encode("utf-8"))
    assert root.find(f"{{{DCTERMS}}}alternative") is not None
    assert root.find(f"{{{DCTERMS}}}license") is not None
    mn = next(p for p in PARTNERS if p.source == "mn-cch")
    untagged = [t for r, pr in _records(mn) for t in etree.fromstring(pr.metadata["mods"].encode())
                .iter(f"{{{MODS_NS}}}titleInfo") if t.get(XML_LANG) is None]
    assert untagged, "one traditional-script title should carry no xml:lang"
    kz = next(p for p in PARTNERS if p.source == "kz-kuy")
    _, provided = _records(kz)[0]
    blocks = etree.fromstring(provided.metadata["lido"].encode()).findall(f"{{{LIDO_NS}}}descriptiveMetadata")
    assert [b.get(XML_LANG) for b in blocks] == ["kk", "ru", "en"]


def _oai_record(provided: ProviderRecord, prefix: str) -> str:
    sets = "".join(f"<setSpec>{s}</setSpec>" for s in provided.sets)
    return (f'<record xmlns="{OAI_NAMESPACE}"><header><identifier>{provided.identifier}</identifier>'
            f"<datestamp>{provided.datestamp:%Y-%m-%dT%H:%M:%SZ}</datestamp>{sets}</header>"
            f"<metadata>{provided.metadata[prefix]}</metadata></record>")


# Partners without category rules rely on the shared type vocabulary: what their dc:type
# values must become (Korean terms, read here through the partner's sets; DCMI and English
# type words for the Cambodian partner, which has no sets).
KOREAN_CATEGORIES = {"heritage": "element", "archive": "resource", "community": "stakeholder",
                     "news": "event"}
TYPE_CATEGORIES = {"Intangible cultural heritage": "element", "Report": "resource",
                   "StillImage": "resource", "Sound": "resource", "MovingImage": "resource",
                   "Community": "stakeholder", "Organization": "stakeholder",
                   "Association": "stakeholder", "Event": "event", "Workshop": "event",
                   "Call for applications": "event"}


def _expected_category(partner: DemoPartner, record: dict[str, Any]) -> str:
    rules = partner.rules.get("category_by_set", {})
    sets = record.get("sets") or []
    if rules:
        return str(rules[sets[0].split(":")[0]])
    if sets:
        return KOREAN_CATEGORIES[sets[0]]
    return TYPE_CATEGORIES[str(record["type"])]


@pytest.mark.parametrize("partner", PARTNERS, ids=PARTNER_IDS)
def test_the_projects_crosswalk_maps_every_record(partner: DemoPartner) -> None:
    from mappings import RawInput, SourceContext, load_crosswalk

    crosswalk = load_crosswalk(partner.mapping)
    ctx = SourceContext(source=partner.source, partner_name=partner.partner_name,
                        partner_country=partner.country, metadata_prefix=partner.metadata_prefix,
                        defaults=dict(partner.defaults), rules=dict(partner.rules))
    for record, provided in _records(partner):
        xml = _oai_record(provided, partner.metadata_prefix)
        raw = RawInput(identifier=provided.identifier, datestamp=None, sets=provided.sets,
                       deleted=False, xml=xml, sha256=hashlib.sha256(xml.encode()).hexdigest(),
                       harvested_at=None)
        result = crosswalk.map(raw, ctx)
        errors = [d for d in result.diagnostics if d.level == "error"]
        if not record.get("title"):
            assert result.quarantined and any(d.code == "missing-title" for d in errors)
            continue
        assert not result.quarantined, (record["id"], errors)
        mapped = result.record
        assert mapped is not None
        titles = lang_texts(record["title"])
        if partner.metadata_prefix == "oai_dc":  # simple DC has no alternative title: one more dc:title
            titles += lang_texts(record.get("alternative"))
        assert [t["value"] for t in mapped["title"]] == [text for _, text in titles]
        for (lang, _), got in zip(titles, mapped["title"], strict=True):
            if lang is not None:
                assert got["lang"] is not None and got["lang"].split("-")[0] == lang.split("-")[0]
            else:
                assert got["lang_guessed"] is True
        assert mapped["category"] == _expected_category(partner, record), record["id"]
        assert mapped["countries"] == [partner.country], record["id"]
        if record.get("rights"):
            assert mapped["rights"]["statement"], record["id"]
