"""Every real record in the shared OAI-PMH samples maps without an exception, to a valid record.

The samples are read where they are (READ-ONLY, ../shared beside the repository).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
import yaml
from lxml import etree

from mappings import SourceContext, available_crosswalks, ich_json_schema, load_crosswalk
from mappings.golden import oai_records, raw_from_record

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"

CROSSWALK_BY_NAMESPACE = {
    "http://www.openarchives.org/OAI/2.0/oai_dc/": "oai_dc",
    "http://worldcat.org/xmlschemas/qdc-1.0/": "qdc",
    "http://ns.nsdl.org/nsdl_dc_v1.02/": "qdc",
    "http://www.loc.gov/mods/v3": "mods",
    "http://www.loc.gov/MARC21/slim": "marcxml",
}

CTX = SourceContext("samples", "Sample partner", None, "sample", {}, {})
# Real sources configure a default category; Harvard's MODS, for one, has no type at all.
CTX_DEFAULT = SourceContext("samples", "Sample partner", None, "sample", {"category": "resource"}, {})


def _cassette_records(path: Path):
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    body = cassette["interactions"][0]["response"]["body"]["string"]
    body = body.encode("utf-8") if isinstance(body, str) else body
    root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    for element in root.iter(OAI + "record"):
        yield raw_from_record(element)


@lru_cache(maxsize=1)
def sample_records() -> tuple[tuple[str, str, object], ...]:
    """(file, crosswalk or None, RawInput) for every record in the samples."""
    out = []
    for path in sorted(SAMPLES.glob("*.xml")) + sorted(SAMPLES.glob("scrapi__*.yaml")):
        records = _cassette_records(path) if path.suffix == ".yaml" else oai_records(path)
        for raw in records:
            crosswalk = None
            if not raw.deleted:
                metadata = etree.fromstring(raw.xml.encode()).find(OAI + "metadata")
                if metadata is not None and len(metadata):
                    crosswalk = CROSSWALK_BY_NAMESPACE.get(etree.QName(metadata[0]).namespace)
            out.append((path.name, crosswalk, raw))
    return tuple(out)


def test_the_samples_cover_every_real_format():
    found = Counter(crosswalk for _, crosswalk, _ in sample_records())
    assert found["oai_dc"] > 300 and found["qdc"] > 100
    assert found["mods"] >= 11 and found["marcxml"] >= 15


@pytest.mark.parametrize("crosswalk", ["oai_dc", "qdc", "mods", "marcxml"])
def test_every_sample_record_maps_to_a_schema_valid_record(crosswalk):
    validator = jsonschema.Draft202012Validator(ich_json_schema())
    mapper = load_crosswalk(crosswalk)
    mapped = quarantined = 0
    for name, fmt, raw in sample_records():
        if fmt != crosswalk:
            continue
        result = mapper.map(raw, CTX_DEFAULT)
        codes = {d.code for d in result.diagnostics}
        assert "mapping-failed" not in codes, (name, raw.identifier, result.diagnostics)
        assert all(d.level in ("info", "warning", "error") for d in result.diagnostics)
        if result.quarantined:
            quarantined += 1
            assert codes & {"missing-title", "missing-category"}, (name, raw.identifier)
            continue
        errors = sorted(validator.iter_errors(result.record), key=str)
        assert not errors, (name, raw.identifier, [e.message for e in errors[:3]])
        mapped += 1
    assert mapped > quarantined


def test_only_the_record_without_a_title_is_quarantined_for_lack_of_one():
    mapper = load_crosswalk("oai_dc")
    missing = [raw.identifier for name, fmt, raw in sample_records()
               if name == "ucldc-harvester__testOAI-notitle.xml"
               and "missing-title" in {d.code for d in mapper.map(raw, CTX).diagnostics}]
    assert missing == ["13030/hb796nb5mn"]


def test_without_a_default_category_typeless_records_are_quarantined():
    mapper = load_crosswalk("mods")
    harvard = [raw for name, _, raw in sample_records() if name == "ingestion3__oai-page.xml"]
    results = [mapper.map(raw, CTX) for raw in harvard]
    assert results and all(r.quarantined for r in results)
    assert all({d.code for d in r.diagnostics} >= {"missing-category"} for r in results)
    assert all(r.record["title"] for r in results)


def test_any_crosswalk_on_any_record_never_raises():
    """A source configured with the wrong crosswalk gets quarantined records, not a crash."""
    crosswalks = [load_crosswalk(name) for name in available_crosswalks()]
    seen = Counter()
    for name, fmt, raw in sample_records():
        for crosswalk in crosswalks:
            result = crosswalk.map(raw, CTX)
            assert "mapping-failed" not in {d.code for d in result.diagnostics}, (name, crosswalk.name)
            if raw.deleted:
                assert result.record is None and result.quarantined
            elif fmt is not None and fmt != crosswalk.name and crosswalk.name in ("lido", "edm", "datacite"):
                assert result.quarantined
            seen[crosswalk.name] += 1
    assert len(seen) == 7


def test_deleted_sample_records_are_tombstones():
    deleted = [raw for _, _, raw in sample_records() if raw.deleted]
    assert len(deleted) >= 5
    for raw in deleted:
        result = load_crosswalk("oai_dc").map(raw, CTX)
        assert result.record is None and [d.code for d in result.diagnostics] == ["deleted"]
