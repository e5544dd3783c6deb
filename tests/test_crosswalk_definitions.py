"""Loading crosswalk files: bundled set, extends, errors with file/line/field, format choice."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from lxml import etree

from mappings import (MappingError, SourceContext, available_crosswalks, load_crosswalk,
                      suggest_crosswalk)
from mappings.errors import MappingErrors
from mappings.golden import raw_from_record

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "oai"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"

MINIMAL = """\
crosswalk: {name}
version: "2"
namespaces:
  dc: http://purl.org/dc/elements/1.1/
fields:
  title:
    xpath: dc:title
    transforms: [lang]
"""

RECORD = """<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>
<identifier>oai:x:1</identifier></header><metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Khöömei</dc:title>
<dc:type>Text</dc:type><dc:subject>throat singing</dc:subject></oai_dc:dc></metadata></record>"""

CTX = SourceContext("mn", "Mongolian partner", "MN", "oai_dc", {}, {})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def raw():
    return raw_from_record(etree.fromstring(RECORD), RECORD)


def test_all_seven_crosswalks_are_bundled_and_load():
    names = available_crosswalks()
    assert names == sorted(["oai_dc", "qdc", "mods", "lido", "edm", "marcxml", "datacite"])
    for name in names:
        crosswalk = load_crosswalk(name)
        assert crosswalk.name == name
        declared, _, digest = crosswalk.version.partition("+")
        assert declared and len(digest) == 10


def test_loading_is_cached():
    assert load_crosswalk("oai_dc") is load_crosswalk("oai_dc")


def test_unknown_bundled_name():
    with pytest.raises(MappingError, match="no bundled crosswalk named 'nope'"):
        load_crosswalk("nope")


def test_a_crosswalk_file_by_path(tmp_path):
    path = write(tmp_path, "mine", MINIMAL.format(name="mine"))
    crosswalk = load_crosswalk(str(path))
    assert crosswalk.name == "mine" and crosswalk.version.startswith("2+")
    result = crosswalk.map(raw(), CTX)
    assert result.record["title"][0]["value"] == "Khöömei"
    assert result.record["subjects"] == []  # only what the file maps


def test_extends_overrides_single_fields_and_changes_the_version(tmp_path):
    path = write(tmp_path, "mn_dc", """\
        crosswalk: mn_dc
        version: "1.0"
        extends: oai_dc
        fields:
          subjects: null
          communities:
            xpath: dc:subject
            transforms: [lang]
        """)
    child = load_crosswalk(str(path))
    base = load_crosswalk("oai_dc")
    assert child.version != base.version
    result = child.map(raw(), CTX)
    assert result.record["subjects"] == []
    assert result.record["communities"][0]["value"] == "throat singing"
    assert result.record["category"] == "resource"  # inherited field
    assert child.definition.parents == ("oai_dc",)


def test_the_version_hash_follows_the_content(tmp_path):
    first = load_crosswalk(str(write(tmp_path / "", "v1", MINIMAL.format(name="v1"))))
    (tmp_path / "b").mkdir()
    second = load_crosswalk(str(write(tmp_path / "b", "v1", MINIMAL.format(name="v1") + "\n# edited\n")))
    assert first.version.split("+")[0] == second.version.split("+")[0]
    assert first.version != second.version


@pytest.mark.parametrize(("body", "line", "message"), [
    (MINIMAL.format(name="bad") + "    bogus: 1\n", 9, "unknown rule key 'bogus'"),
    (MINIMAL.format(name="bad").replace("[lang]", "[lang, frobnicate]"), 8, "unknown transform 'frobnicate'"),
    (MINIMAL.format(name="bad").replace("  title:", "  colour:"), 6, "unknown ICH field 'colour'"),
    (MINIMAL.format(name="bad").replace("xpath: dc:title", "xpath: 'dc:title[['"), 7, "does not compile"),
    (MINIMAL.format(name="bad").replace("xpath: dc:title", "xpath: 'x:title'"), 7, "does not compile"),
    (MINIMAL.format(name="bad").replace("[lang]", "[country]"), 7, "produce country values; this field needs langstring"),
    (MINIMAL.format(name="bad").replace("[lang]", "[lang, country]"), 8, "takes text values, but gets langstring"),
    (MINIMAL.format(name="bad").replace("[lang]", "[{date: someday}]"), 8, "date.type must be one of"),
    (MINIMAL.format(name="bad").replace("[lang]", "[{lang: {wat: 1}}]"), 8, "has no argument(s) wat"),
    (MINIMAL.format(name="bad").replace("[lang]", "[{lang: nohint}]"), 8, "hint 'nohint' is not declared"),
    (MINIMAL.format(name="bad").replace("[lang]", "[{match: '(['}, lang]"), 8, "bad regular expression"),
    (MINIMAL.format(name="bad").replace("xpath: dc:title", "override: nothing"), 7, "has no overrides module"),
    (MINIMAL.format(name="bad").replace('version: "2"\n', ""), None, "'version:' is required"),
    (MINIMAL.format(name="bad") + "colour: red\n", 9, "unknown key 'colour'"),
    (MINIMAL.format(name="bad") + "overrides: no_such_pkg.module\n", 9, "cannot be imported"),
    (MINIMAL.format(name="bad").replace("  title:", "  description:"), 5, "must map 'title'"),
    ("crosswalk: bad\nversion: 1\nfields:\n  title: {xpath: a, xpath: b}\n", 4, "appears twice"),
    ("crosswalk: [unclosed\n", 2, "not valid YAML"),
])
def test_definition_errors_name_file_line_and_field(tmp_path, body, line, message):
    path = write(tmp_path, "bad", body)
    with pytest.raises(MappingError) as caught:
        load_crosswalk(str(path))
    # Several mistakes come as one MappingErrors listing them (an unknown field that leaves
    # the crosswalk without a title is two).
    problems = getattr(caught.value, "problems", (caught.value,))
    error = next((p for p in problems if message in p.message), None)
    assert error is not None, str(caught.value)
    assert error.path == str(path.resolve())
    if line is not None:
        assert error.line == line, str(error)
    assert str(caught.value).startswith(str(path.resolve()))


def test_extends_cycles_are_refused(tmp_path):
    write(tmp_path, "a", 'crosswalk: a\nversion: "1"\nextends: b.yaml\n')
    write(tmp_path, "b", 'crosswalk: b\nversion: "1"\nextends: a.yaml\n')
    with pytest.raises(MappingError, match="extends cycle"):
        load_crosswalk(str(tmp_path / "a.yaml"))


def test_overrides_module_and_the_per_record_failure_boundary(tmp_path, monkeypatch):
    (tmp_path / "flaky_overrides.py").write_text(
        "def titles(root, env):\n"
        "    if 'boom' in env.raw.identifier:\n"
        "        raise RuntimeError('override exploded')\n"
        "    return ['From the override']\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write(tmp_path, "flaky", """\
        crosswalk: flaky
        version: "1"
        overrides: flaky_overrides
        extends: oai_dc
        fields:
          title:
            override: titles
            transforms: [lang]
        """)
    crosswalk = load_crosswalk(str(path))
    fine = crosswalk.map(raw(), CTX)
    assert fine.record["title"][0]["value"] == "From the override"
    broken = raw_from_record(etree.fromstring(RECORD.replace("oai:x:1", "oai:boom:1")),
                             RECORD.replace("oai:x:1", "oai:boom:1"))
    result = crosswalk.map(broken, CTX)
    assert result.quarantined
    failure = next(d for d in result.diagnostics if d.code == "mapping-failed")
    assert failure.level == "error" and "override exploded" in failure.message
    assert result.record["oai"]["identifier"] == "oai:boom:1"


def test_missing_override_function(tmp_path, monkeypatch):
    (tmp_path / "empty_overrides.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = write(tmp_path, "nofunc", MINIMAL.format(name="nofunc").replace(
        "xpath: dc:title", "override: missing") + "overrides: empty_overrides\n")
    with pytest.raises(MappingError, match="has no function 'missing'"):
        load_crosswalk(str(path))


# -- choosing a crosswalk from ListMetadataFormats ------------------------------------------


def formats_of(path: Path) -> list[dict[str, str]]:
    ns = "{http://www.openarchives.org/OAI/2.0/}"
    out = []
    for fmt in etree.parse(str(path)).iter(ns + "metadataFormat"):
        out.append({key: (fmt.findtext(ns + key) or "").strip()
                    for key in ("metadataPrefix", "schema", "metadataNamespace")})
    return out


def test_suggest_prefers_qualified_dc_from_a_real_contentdm_answer():
    formats = formats_of(SAMPLES / "ucldc-harvester__oai-fmts-qdc.xml")
    assert {f["metadataPrefix"] for f in formats} >= {"oai_dc", "oai_qdc"}
    assert suggest_crosswalk(formats) == "qdc"


def test_suggest_falls_back_to_oai_dc_from_a_real_eprints_answer():
    formats = formats_of(SAMPLES / "plugin-OaipmhHarvester__ListMetadataFormats.xml")
    assert suggest_crosswalk(formats) == "oai_dc"


@pytest.mark.parametrize(("formats", "expected"), [
    ([{"metadataPrefix": "oai_dc", "metadataNamespace": OAI_DC_NS},
      {"metadataPrefix": "lido", "metadataNamespace": "http://www.lido-schema.org"},
      {"metadataPrefix": "edm", "metadataNamespace": "http://www.europeana.eu/schemas/edm/"}], "lido"),
    ([{"metadataPrefix": "oai_dc", "metadataNamespace": OAI_DC_NS},
      {"metadataPrefix": "mods", "metadataNamespace": "http://www.loc.gov/mods/v3"},
      {"metadataPrefix": "marc21", "metadataNamespace": "http://www.loc.gov/MARC21/slim"}], "mods"),
    ([{"metadataPrefix": "oai_datacite", "metadataNamespace": "http://schema.datacite.org/oai/oai-1.1/"},
      {"metadataPrefix": "oai_dc", "metadataNamespace": OAI_DC_NS}], "datacite"),
    # Namespace first: a misleading prefix does not matter when the namespace is known.
    ([{"metadataPrefix": "lido", "metadataNamespace": OAI_DC_NS}], "oai_dc"),
    # Prefix second: an unknown namespace spelling still matches by prefix.
    ([{"metadataPrefix": "MODS", "metadataNamespace": "urn:example:unknown"}], "mods"),
    ([{"metadataPrefix": "didl", "metadataNamespace": "urn:mpeg:mpeg21:2002:02-DIDL-NS"}], None),
    ([], None),
])
def test_suggest_crosswalk(formats, expected):
    assert suggest_crosswalk(formats) == expected


def test_the_crosswalk_readme_documents_every_transform():
    from mappings.transforms.__main__ import reference

    readme = (Path(__file__).resolve().parents[1] / "mappings" / "crosswalks" / "README.md").read_text(
        encoding="utf-8")
    assert reference() in readme, "regenerate the table with: python -m mappings.transforms"


MANY_MISTAKES = """\
crosswalk: many
version: "1"
namespaces:
  dc: http://purl.org/dc/elements/1.1/
fields:
  title:
    xpath: dc:title
    transforms: [lang, frobnicate]
  description:
    xpath: 'dc:description[['
    transforms: [lang]
  subjects:
    xpath: dc:subject
    transforms: [country]
  places:
    xpath: dc:coverage
"""


def test_every_rule_is_compiled_and_all_mistakes_are_told_at_once(tmp_path):
    path = write(tmp_path, "many", MANY_MISTAKES)
    with pytest.raises(MappingErrors) as caught:
        load_crosswalk(str(path))
    found = [(p.line, p.field) for p in caught.value.problems]
    assert found == [(8, "title"), (10, "description"), (13, "subjects"), (16, "places")]
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path.resolve()}: 4 problems"
    assert "unknown transform 'frobnicate'" in lines[1] and "does not compile" in lines[2]
    assert "produce country values" in lines[3] and "this field needs place" in lines[4]


def test_every_field_is_read_and_all_mistakes_are_told_at_once(tmp_path):
    body = MANY_MISTAKES.replace("    transforms: [lang, frobnicate]", "    bogus: 1") \
                        .replace("  places:", "  colour:")
    path = write(tmp_path, "many", body)
    with pytest.raises(MappingErrors) as caught:
        load_crosswalk(str(path))
    found = [(p.line, p.field, p.message.split(";")[0]) for p in caught.value.problems]
    assert found == [(8, "title", "unknown rule key 'bogus'"),
                     (15, "colour", "unknown ICH field 'colour'")]


def test_one_mistake_is_a_plain_mapping_error(tmp_path):
    path = write(tmp_path, "one", MINIMAL.format(name="one").replace("[lang]", "[lang, frobnicate]"))
    with pytest.raises(MappingError) as caught:
        load_crosswalk(str(path))
    assert type(caught.value) is MappingError
