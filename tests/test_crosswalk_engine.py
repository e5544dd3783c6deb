"""Crosswalk engine behaviour: deleted/invalid records, categories, defaults, languages, failures."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import jsonschema
import pytest
from lxml import etree

import mappings
from mappings import (MappingDiagnostic, MappingResult, RawInput, SourceContext, ich_json_schema,
                      load_crosswalk, record_id)
from mappings.golden import raw_from_record

OAI_DC_RECORD = """<record xmlns="http://www.openarchives.org/OAI/2.0/">
  <header{status}><identifier>{identifier}</identifier><datestamp>2024-05-01</datestamp>{sets}</header>
  <metadata>
    <oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
               xmlns:dc="http://purl.org/dc/elements/1.1/">{body}</oai_dc:dc>
  </metadata>
</record>"""


def make_raw(body: str, *, identifier: str = "oai:example.org:1", sets: tuple[str, ...] = (),
             deleted: bool = False) -> RawInput:
    xml = OAI_DC_RECORD.format(
        body=body, identifier=identifier, status=' status="deleted"' if deleted else "",
        sets="".join(f"<setSpec>{s}</setSpec>" for s in sets))
    return raw_from_record(etree.fromstring(xml.encode()), xml)


def ctx(**overrides: object) -> SourceContext:
    values: dict[str, object] = dict(source="vn-ich", partner_name="Viet Nam ICH Institute",
                                     partner_country="VN", metadata_prefix="oai_dc",
                                     defaults={"language": "vi"}, rules={})
    values.update(overrides)
    return SourceContext(**values)  # type: ignore[arg-type]


def codes(result: MappingResult) -> set[str]:
    return {d.code for d in result.diagnostics}


@pytest.fixture(scope="module")
def oai_dc():
    return load_crosswalk("oai_dc")


def test_public_api_is_reexported():
    for name in ("Crosswalk", "MappingDiagnostic", "MappingError", "MappingResult", "RawInput",
                 "SourceContext", "available_crosswalks", "ich_json_schema", "load_crosswalk",
                 "record_id", "suggest_crosswalk"):
        assert hasattr(mappings, name), name
    from mappings.errors import MappingError
    assert mappings.MappingError is MappingError


def test_record_id_is_the_documented_hash():
    expected = hashlib.sha256("helda\noai:helda.helsinki.fi:10138/8487".encode()).hexdigest()[:20]
    assert record_id("helda", "oai:helda.helsinki.fi:10138/8487") == f"helda:{expected}"
    assert record_id("a", "x") != record_id("b", "x")
    pattern = ich_json_schema()["properties"]["id"]["pattern"]
    assert re.match(pattern, record_id("vn-ich", "oai:example.org:1"))


def test_schema_is_a_valid_draft_2020_12_schema_and_a_private_copy():
    schema = ich_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    schema["properties"].clear()
    assert ich_json_schema()["properties"], "callers must not be able to corrupt the contract"


def test_a_simple_record_maps_to_a_valid_ich_record(oai_dc):
    raw = make_raw("<dc:title>Hát Xoan Phú Thọ</dc:title><dc:type>Intangible cultural heritage</dc:type>"
                   "<dc:description>Nghệ thuật hát thờ thần của người Việt.</dc:description>")
    result = oai_dc.map(raw, ctx())
    assert not result.quarantined
    jsonschema.validate(result.record, ich_json_schema())
    record = result.record
    assert record["id"] == record_id("vn-ich", "oai:example.org:1")
    assert record["title"] == [{"value": "Hát Xoan Phú Thọ", "lang": "vi", "lang_guessed": True}]
    assert record["provenance"] == {"harvested_at": raw.harvested_at, "mapping": "oai_dc",
                                    "mapping_version": oai_dc.version, "raw_sha256": raw.sha256}
    assert record["oai"] == {"identifier": "oai:example.org:1", "datestamp": "2024-05-01",
                             "sets": [], "metadata_prefix": "oai_dc"}


def test_deleted_records_are_not_mapped(oai_dc):
    result = oai_dc.map(make_raw("", deleted=True), ctx())
    assert result == MappingResult(None, True, (result.diagnostics[0],))
    assert result.diagnostics[0].code == "deleted"


def test_malformed_xml_is_quarantined_not_raised(oai_dc):
    raw = RawInput("oai:x:1", None, (), False, "<record><header>", "0" * 64, None)
    result = oai_dc.map(raw, ctx())
    assert result.quarantined and "invalid-xml" in codes(result)
    assert result.record is not None and result.record["id"] == record_id("vn-ich", "oai:x:1")


def test_a_record_without_metadata_is_quarantined(oai_dc):
    xml = ('<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>'
           "<identifier>oai:x:2</identifier></header></record>")
    result = oai_dc.map(raw_from_record(etree.fromstring(xml), xml), ctx())
    assert result.quarantined and "no-metadata" in codes(result)


def test_missing_title_quarantines_with_a_partial_record(oai_dc):
    result = oai_dc.map(make_raw("<dc:subject>dân ca</dc:subject><dc:type>Text</dc:type>"), ctx())
    assert result.quarantined
    assert "missing-title" in codes(result)
    assert result.record["subjects"][0]["value"] == "dân ca"
    error = next(d for d in result.diagnostics if d.code == "missing-title")
    assert error.level == "error" and error.field == "title"


def test_blank_title_counts_as_missing(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>  \n </dc:title><dc:type>Text</dc:type>"), ctx())
    assert result.quarantined and result.record["title"] == []


def test_parsed_element_and_xml_text_give_the_same_result(oai_dc):
    raw = make_raw("<dc:title xml:lang='en'>Pansori epic chant</dc:title><dc:type>Text</dc:type>")
    element = etree.fromstring(raw.xml.encode())
    from dataclasses import replace
    assert oai_dc.map(replace(raw, element=element), ctx()) == oai_dc.map(raw, ctx())


# -- categories ------------------------------------------------------------------------------


def test_category_rules_by_set_win_over_types(oai_dc):
    raw = make_raw("<dc:title>Xoan festival 2024</dc:title><dc:type>Text</dc:type>", sets=("events",))
    result = oai_dc.map(raw, ctx(rules={"category_by_set": {"events": "event"}}))
    assert result.record["category"] == "event"


def test_category_by_set_follows_the_set_hierarchy(oai_dc):
    raw = make_raw("<dc:title>Lễ hội</dc:title>", sets=("events:2024:spring",))
    result = oai_dc.map(raw, ctx(rules={"category_by_set": {"events": "event"}}))
    assert result.record["category"] == "event"


def test_category_rules_by_type_win_over_the_vocabulary(oai_dc):
    raw = make_raw("<dc:title>Ca trù</dc:title><dc:type>Text</dc:type>")
    result = oai_dc.map(raw, ctx(rules={"category_by_type": {"text": "element"}}))
    assert result.record["category"] == "element"
    assert oai_dc.map(raw, ctx()).record["category"] == "resource"


def test_category_falls_back_to_the_source_default_with_an_info(oai_dc):
    raw = make_raw("<dc:title>Quan họ</dc:title><dc:type>zzz-unknown-type</dc:type>")
    result = oai_dc.map(raw, ctx(defaults={"category": "element"}))
    assert result.record["category"] == "element" and not result.quarantined
    info = next(d for d in result.diagnostics if d.code == "default-category")
    assert info.level == "info" and info.value == "zzz-unknown-type"


def test_no_category_at_all_quarantines(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>Quan họ</dc:title>"), ctx(defaults={}))
    assert result.quarantined and "missing-category" in codes(result)
    assert result.record["title"][0]["value"] == "Quan họ"


def test_a_bad_rule_value_is_reported_not_raised(oai_dc):
    raw = make_raw("<dc:title>Quan họ</dc:title><dc:type>Text</dc:type>", sets=("a",))
    result = oai_dc.map(raw, ctx(rules={"category_by_set": {"a": "not-a-category"}}))
    assert result.record["category"] == "resource"
    assert "bad-rule" in codes(result)


# -- countries, languages and defaults ---------------------------------------------------------


def test_partner_country_is_only_a_fallback(oai_dc):
    plain = oai_dc.map(make_raw("<dc:title>Kuy</dc:title><dc:type>Text</dc:type>"),
                       ctx(partner_country="KZ"))
    assert plain.record["countries"] == ["KZ"]
    note = next(d for d in plain.diagnostics if d.code == "default-country")
    assert note.level == "info"
    covered = oai_dc.map(make_raw("<dc:title>Kuy</dc:title><dc:type>Text</dc:type>"
                                  "<dc:coverage>Mongolia</dc:coverage>"), ctx(partner_country="KZ"))
    assert covered.record["countries"] == ["MN"]
    assert "default-country" not in codes(covered)


def test_unrecognised_coverage_is_reported_with_its_value(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>Kuy</dc:title><dc:coverage>Atlantis</dc:coverage>"),
                        ctx())
    unknown = [d for d in result.diagnostics if d.code == "unknown-country"]
    assert unknown and unknown[0].value == "Atlantis"
    assert result.record["places"][0]["name"] == "Atlantis"


def test_xml_lang_is_kept_and_normalised(oai_dc):
    result = oai_dc.map(make_raw(
        '<dc:title xml:lang="eng">Royal ancestral rite</dc:title>'
        '<dc:title xml:lang="ko-KR">종묘제례</dc:title><dc:type>Text</dc:type>'), ctx())
    titles = result.record["title"]
    assert titles[0] == {"value": "Royal ancestral rite", "lang": "en"}
    assert titles[1]["lang"].startswith("ko") and "lang_guessed" not in titles[1]


def test_untagged_text_is_guessed_from_script_before_the_source_default(oai_dc):
    result = oai_dc.map(make_raw(
        "<dc:title>판소리</dc:title><dc:title>Hát Xoan</dc:title>"
        "<dc:title>ᠬᠥᠭᠡᠮᠡᠢ</dc:title><dc:type>Text</dc:type>"), ctx())
    langs = [(t["lang"], t.get("lang_guessed")) for t in result.record["title"]]
    assert langs == [("ko", True), ("vi", True), ("mn-Mong", True)]
    assert "guessed-language" in codes(result)


def test_untagged_text_without_any_clue_has_no_language(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>Dombra kuy</dc:title><dc:type>Text</dc:type>"),
                        ctx(defaults={}))
    assert result.record["title"] == [{"value": "Dombra kuy", "lang": None}]


def test_bad_xml_lang_is_reported_and_the_language_guessed(oai_dc):
    result = oai_dc.map(make_raw('<dc:title xml:lang="zz-bogus-tag">Xoan</dc:title>'), ctx())
    assert result.record["title"][0]["lang"] == "vi"
    bad = next(d for d in result.diagnostics if d.code == "unknown-language")
    assert bad.value == "zz-bogus-tag"


def test_default_language_fills_languages_with_an_info(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>Xoan</dc:title>"), ctx())
    assert result.record["languages"] == ["vi"]
    assert "default-language" in codes(result)
    tagged = oai_dc.map(make_raw("<dc:title>Xoan</dc:title><dc:language>kor</dc:language>"), ctx())
    assert tagged.record["languages"] == ["ko"]


def test_text_is_nfc_normalised_and_trimmed_but_otherwise_untouched(oai_dc):
    decomposed = unicodedata.normalize("NFD", "  Hát  Xoan,\tPhú Thọ  ")
    result = oai_dc.map(make_raw(f"<dc:title>{decomposed}</dc:title>"), ctx())
    assert result.record["title"][0]["value"] == "Hát  Xoan,\tPhú Thọ"


def test_duplicates_are_removed_in_order(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>A</dc:title><dc:date>1958</dc:date><dc:date>1958</dc:date>"
                                 "<dc:subject>x</dc:subject><dc:subject>y</dc:subject>"
                                 "<dc:subject>x</dc:subject>"), ctx())
    assert [d["value"] for d in result.record["dates"]] == ["1958"]
    assert [s["value"] for s in result.record["subjects"]] == ["x", "y"]


def test_bad_dates_are_kept_verbatim_with_a_warning(oai_dc):
    result = oai_dc.map(make_raw("<dc:title>A</dc:title><dc:date>sometime in spring</dc:date>"), ctx())
    assert result.record["dates"] == [{"type": "other", "value": "sometime in spring", "edtf": None,
                                       "start_year": None, "end_year": None}]
    bad = next(d for d in result.diagnostics if d.code == "bad-date")
    assert bad.level == "warning" and bad.value == "sometime in spring"


def test_diagnostics_are_plain_values():
    diag = MappingDiagnostic("warning", "countries", "unknown-country", "msg", "Atlantis")
    assert diag == MappingDiagnostic("warning", "countries", "unknown-country", "msg", "Atlantis")
    with pytest.raises(AttributeError):
        diag.level = "error"  # type: ignore[misc]


def test_a_live_page_element_maps_like_the_stored_record(oai_dc):
    """The harvester may pass the parsed <record> inside its page; the result must not change."""
    page = ('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xml:lang="de"><ListRecords>'
            + OAI_DC_RECORD.format(body="<dc:title>Khöömei</dc:title><dc:subject xml:lang='mn'>"
                                   "хөөмий</dc:subject>", identifier="oai:x:9", status="", sets="")
            + "</ListRecords></OAI-PMH>")
    element = etree.fromstring(page.encode()).find(".//{http://www.openarchives.org/OAI/2.0/}record")
    stored = raw_from_record(element)
    from dataclasses import replace
    live = replace(stored, element=element)
    assert oai_dc.map(live, ctx()) == oai_dc.map(stored, ctx())
    assert oai_dc.map(live, ctx()).record["title"][0]["lang"] == "vi"  # not the page's "de"


def test_an_encoding_declaration_in_the_stored_text_is_harmless(oai_dc):
    body = "<dc:title>Käsityö ja kansanperinne</dc:title>"
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?>\n' + OAI_DC_RECORD.format(
        body=body, identifier="oai:x:latin1", status="", sets="")
    raw = RawInput("oai:x:latin1", None, (), False, xml, "0" * 64, None)
    result = oai_dc.map(raw, ctx())
    assert result.record["title"][0]["value"] == "Käsityö ja kansanperinne"


def test_even_a_broken_input_object_gives_a_result(oai_dc):
    raw = RawInput("oai:x:odd", None, None, False, "<record/>", "0" * 64, None)  # type: ignore[arg-type]
    result = oai_dc.map(raw, ctx())
    assert result.quarantined and [d.code for d in result.diagnostics] == ["mapping-failed"]


def test_qdc_typed_iso3166_spatial_is_a_country_or_a_warning():
    qdc = load_crosswalk("qdc")
    xml = OAI_DC_RECORD.format(identifier="oai:x:q", status="", sets="", body=(
        '<dc:title>Kuy</dc:title><dcterms:spatial xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:ISO3166">KZ'
        '</dcterms:spatial><dcterms:spatial xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="dcterms:ISO3166">XX'
        '</dcterms:spatial>'))
    result = qdc.map(raw_from_record(etree.fromstring(xml.encode()), xml), ctx())
    assert result.record["countries"] == ["KZ"]
    levels = {d.level for d in result.diagnostics if d.code == "unknown-country" and d.value == "XX"}
    assert "warning" in levels
