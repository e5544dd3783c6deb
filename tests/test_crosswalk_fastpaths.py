"""The crosswalk's per-record shortcuts give what the plain rules say.

The child-item index and the root-scope ``xml:lang`` are built once per record for speed;
these tests pin down that they answer exactly as reading each path and walking each value's
ancestors would: inherited languages, the ``<record>`` boundary, escaped-markup reports
named after the field that first read the value.
"""

from __future__ import annotations

import pytest
from lxml import etree

from mappings import RawInput, SourceContext, load_crosswalk
from mappings.golden import raw_from_record
from mappings.values import Env, Item

DC = "http://purl.org/dc/elements/1.1/"


def _raw(body: str, *, dc_attrs: str = "", metadata_attrs: str = "", record_attrs: str = "") -> RawInput:
    xml = (f'<record xmlns="http://www.openarchives.org/OAI/2.0/"{record_attrs}>'
           "<header><identifier>oai:example.org:1</identifier><datestamp>2024-05-01</datestamp></header>"
           f"<metadata{metadata_attrs}>"
           f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="{DC}"{dc_attrs}>'
           f"{body}</oai_dc:dc></metadata></record>")
    return raw_from_record(etree.fromstring(xml.encode()), xml)


def _ctx(**defaults: str) -> SourceContext:
    return SourceContext(source="t", partner_name="T", partner_country="VN", metadata_prefix="oai_dc",
                         defaults=defaults, rules={})


@pytest.fixture(scope="module")
def oai_dc():
    return load_crosswalk("oai_dc")


@pytest.mark.parametrize(("dc_attrs", "metadata_attrs", "record_attrs", "expected"), [
    (' xml:lang="ko"', "", "", "ko-Jpan"),      # on the root (kana are not Korean's script)
    ("", ' xml:lang="ja"', "", "ja"),            # above the root
    ("", "", ' xml:lang="ja"', "ja"),            # on the stored <record> itself
    (' xml:lang=" "', ' xml:lang="ja"', "", None),  # blank: "no language", stops the walk
    ("", "", "", None),
])
def test_untagged_values_inherit_the_language_in_scope(oai_dc, dc_attrs, metadata_attrs,
                                                       record_attrs, expected):
    raw = _raw("<dc:title>さくら</dc:title><dc:title xml:lang='en'>Sakura</dc:title>"
               "<dc:type>Text</dc:type>",
               dc_attrs=dc_attrs, metadata_attrs=metadata_attrs, record_attrs=record_attrs)
    titles = oai_dc.map(raw, _ctx()).record["title"]
    assert titles[1] == {"value": "Sakura", "lang": "en"}
    if expected is None:  # guessed from the script instead
        assert titles[0] == {"value": "さくら", "lang": "ja", "lang_guessed": True}
    else:
        assert titles[0] == {"value": "さくら", "lang": expected}


def test_a_live_page_around_the_record_is_out_of_scope(oai_dc):
    stored = _raw("<dc:title>Arirang</dc:title><dc:type>Text</dc:type>")
    page = etree.fromstring(f'<ListRecords xml:lang="ko">{stored.xml}</ListRecords>'.encode())
    live = RawInput(stored.identifier, stored.datestamp, stored.sets, False, stored.xml,
                    stored.sha256, None, page[0])
    assert oai_dc.map(live, _ctx()).record["title"] == [{"value": "Arirang", "lang": None}]


def test_env_language_lookup_agrees_with_walking_the_ancestors():
    xml = (f'<record xmlns="http://www.openarchives.org/OAI/2.0/" xml:lang="de"><metadata xml:lang="ja">'
           f'<dc xmlns="{DC}"><title>a</title><title xml:lang="ko">b</title><title xml:lang="">c</title>'
           '<creator><name>d</name><name xml:lang="vi">e</name></creator>'
           '<record xmlns="http://www.openarchives.org/OAI/2.0/">f</record></dc></metadata></record>')
    element = etree.fromstring(xml.encode())
    root = element[0][0]
    raw = RawInput("oai:x:1", None, (), False, xml, "0" * 64, None, element)
    env = Env(raw, _ctx(), root)
    nodes = [*root, *root.iter(f"{{{DC}}}name"), root, element, element[0]]
    items = [Item("x", node) for node in nodes] + [Item("x", root.xpath("string(*[1])")),
                                                   Item("x", root[1].xpath("@*")[0]), Item("x")]
    answers = [env.source_lang(item) for item in items]
    assert answers == [item.source_lang() for item in items]
    assert answers[:5] == ["ja", "ko", None, "ja", None]  # the inner <record> is a boundary
    assert answers[5:7] == ["ja", "vi"]


def test_escaped_markup_is_reported_once_under_the_field_that_first_reads_it(oai_dc):
    raw = _raw("<dc:title>Hat &amp;#273;&#7889;i</dc:title><dc:type>Text</dc:type>"
               "<dc:subject>Music &amp;amp; dance</dc:subject><dc:subject>rituals</dc:subject>")
    result = oai_dc.map(raw, _ctx(language="vi"))
    escaped = [(d.field, d.value) for d in result.diagnostics if d.code == "escaped-markup"]
    # dc:subject feeds subjects, ich_domains and countries; subjects reads it first.
    assert escaped == [("title", "Hat &#273;ối"), ("subjects", "Music &amp; dance")]


def test_values_come_in_document_order_whatever_their_neighbours(oai_dc):
    raw = _raw("<dc:subject>one</dc:subject><dc:title>T</dc:title><dc:subject>two</dc:subject>"
               "<dc:format>video/mp4</dc:format><dc:subject>  </dc:subject><dc:subject>three</dc:subject>"
               "<dc:subject>one</dc:subject>")
    record = oai_dc.map(raw, _ctx()).record
    assert [s["value"] for s in record["subjects"]] == ["one", "two", "three"]
    assert record["title"] == [{"value": "T", "lang": None}]
