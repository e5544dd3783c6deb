"""``ichlinks probe``'s crosswalk preview: what one live page would become, before a harvest.

The providers are real HTTP servers on 127.0.0.1; the preview must reach the same quarantine
decisions and diagnostics the harvest would, with the suggested block's or the source's context.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cli_support import ichlinks, write_config
from oai_fixtures import DEFAULT_SETS, make_records

from harvester.provider import ProviderRecord

_DC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/">{}</oai_dc:dc>')


def extra(index: int, body: str, sets: tuple[str, ...] = (DEFAULT_SETS[0],)) -> ProviderRecord:
    """A hand-made record placed after the generated ones (datestamps are in 2030)."""
    return ProviderRecord(identifier=f"oai:ichlinks.test:extra-{index}",
                          datestamp=datetime(2030, 1, 1, tzinfo=timezone.utc) + timedelta(hours=index),
                          sets=sets, metadata={"oai_dc": _DC.format(body)})


NO_TITLE = extra(1, "<dc:description>No title here</dc:description>"
                    "<dc:type>Intangible cultural heritage</dc:type>")
ODD_VALUES = extra(2, "<dc:title>Odd values</dc:title><dc:language>qqq-zz</dc:language>"
                      "<dc:date>sometime soon</dc:date><dc:type>Intangible cultural heritage</dc:type>")
UNTYPED = extra(3, "<dc:title>No type, so no category of its own</dc:title>")


def test_preview_counts_quarantines_and_coverage_of_the_first_page(oai_server: Any) -> None:
    # 12 generated (every 4th deleted: 9 live) and three hand-made records, all on one page.
    server = oai_server(make_records(12, deleted_every=4) + [NO_TITLE, ODD_VALUES, UNTYPED])
    proc = ichlinks("probe", server.base_url, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    preview = report["crosswalk_preview"]
    assert preview["crosswalk"] == "oai_dc"
    assert (preview["records"], preview["deleted"]) == (12, 3)
    assert (preview["published"], preview["quarantined"]) == (11, 1)
    assert preview["quarantine_reasons"] == {"missing-title": 1}
    assert [q["identifier"] for q in preview["quarantined_records"]] == [NO_TITLE.identifier]
    assert "missing-title" in preview["quarantined_records"][0]["reasons"][0]
    # The untyped record gets its category from the suggested block's defaults, and says so.
    assert preview["categories"] == {"element": 11}
    assert preview["diagnostics"]["default-category"] == {"level": "info", "count": 1}
    assert preview["coverage"]["title"] == round(100 * 11 / 12, 1)
    assert preview["coverage"]["ich_domains"] == round(100 * 9 / 12, 1)  # generated records only
    assert "media" in preview["empty_fields"] and "title" not in preview["empty_fields"]
    assert preview["top_unrecognised"]["unknown-language"] == [
        {"field": "languages", "value": "qqq-zz", "count": 1}]
    assert preview["diagnostics"]["bad-date"]["level"] == "warning"
    assert preview["sample"]["oai"]["identifier"] == "oai:ichlinks.test:ich-00000"
    assert report["probed"] == {"metadata_prefix": "oai_dc", "set": None, "mapping": "oai_dc",
                                "source": None}

    text = ichlinks("probe", server.base_url)
    assert text.returncode == 0, text.stderr
    assert ("oai_dc" in text.stdout and "on 12 records of the first page: 11 would be published, "
            "1 quarantined") in text.stdout
    assert "1 x missing-title" in text.stdout
    assert "warning: unknown-language x 1 (e.g. 'qqq-zz')" in text.stdout
    assert "Paste into config/ichlinks.yaml" in text.stdout


def test_probe_of_a_configured_source_uses_its_set_rules_and_defaults(oai_server: Any,
                                                                      tmp_path: Path) -> None:
    server = oai_server(make_records(9) + [UNTYPED])
    cfg = write_config(tmp_path, f"sqlite:///{tmp_path / 'store.db'}", {"vn-test": server.base_url},
                       sets=["ich:craftsmanship"], partner={"name": "Test Partner", "country": "VN"},
                       rules={"category_by_set": {"ich:craftsmanship": "event"}})
    proc = ichlinks("probe", "vn-test", "--json", cfg=cfg)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["probed"] == {"metadata_prefix": "oai_dc", "set": "ich:craftsmanship",
                                "mapping": "oai_dc", "source": "vn-test"}
    list_records = [r for r in server.requests if r.params.get("verb") == "ListRecords"]
    assert list_records and list_records[0].params.get("set") == "ich:craftsmanship"
    preview = report["crosswalk_preview"]
    # Records 1, 4, 7 are in the set; the source's rule files them all as events.
    assert (preview["records"], preview["published"]) == (3, 3)
    assert preview["categories"] == {"event": 3}
    assert report["config"] is None  # already configured: nothing to paste

    # Without a default category, the untyped record of the other set is quarantined.
    other = ichlinks("probe", "vn-test", "--set", DEFAULT_SETS[0], "--json", cfg=cfg)
    preview = json.loads(other.stdout)["crosswalk_preview"]
    assert preview["quarantine_reasons"] == {"missing-category": 1}
    assert preview["quarantined_records"][0]["identifier"] == UNTYPED.identifier

    unknown = ichlinks("probe", "repository.example.vn/oai", cfg=cfg)
    assert unknown.returncode == 2
    assert "'repository.example.vn/oai' is neither a URL" in unknown.stderr and "vn-test" in unknown.stderr


def test_a_crosswalk_file_given_to_probe_is_previewed_or_refused_with_its_line(
        oai_server: Any, tmp_path: Path) -> None:
    server = oai_server(make_records(6))
    own = tmp_path / "titles-only.yaml"
    own.write_text('crosswalk: titles-only\nversion: "1"\nextends: oai_dc\nfields:\n'
                   "  description: null\n", encoding="utf-8")
    proc = ichlinks("probe", server.base_url, "--mapping", str(own), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["probed"]["mapping"] == str(own)
    assert report["crosswalk_preview"]["coverage"]["description"] == 0.0
    assert "description" in report["crosswalk_preview"]["empty_fields"]
    assert f"mapping: {own}" in report["config"]

    broken = tmp_path / "broken.yaml"
    broken.write_text('crosswalk: broken\nversion: "1"\nextends: oai_dc\nfields:\n  title:\n'
                      "    - xpath: dc:title\n      transforms: [no_such_transform]\n",
                      encoding="utf-8")
    refused = ichlinks("probe", server.base_url, "--mapping", str(broken))
    assert refused.returncode == 2
    assert "--mapping" in refused.stderr and "broken.yaml" in refused.stderr
    assert "no_such_transform" in refused.stderr


def test_a_format_the_repository_does_not_offer_is_a_problem_not_a_crash(oai_server: Any) -> None:
    server = oai_server(make_records(3))
    proc = ichlinks("probe", server.base_url, "--prefix", "mods", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["probed"]["metadata_prefix"] == "mods"
    assert any("'mods' is not among the formats offered" in p for p in report["problems"])
    assert any("ListRecords failed" in p for p in report["problems"])
    assert "crosswalk_preview" not in report


@pytest.mark.parametrize("error", ["not well-formed (invalid token): line 1, column 5"])
def test_an_unparseable_record_is_counted_as_the_harvest_would_store_it(error: str) -> None:
    from harvester.crosswalk_preview import preview_crosswalk
    from harvester.oai.response import Header, RawRecord
    from mappings import SourceContext

    header = Header(identifier="oai:x:1", datestamp="2024-01-01", sets=(), deleted=False)
    broken = RawRecord(header=header, xml="<record>&bad</record>", element=None, diagnostics=(),
                       error=error)
    preview = preview_crosswalk([broken], "oai_dc", SourceContext("s", "P", None, "oai_dc"))
    assert (preview["records"], preview["quarantined"], preview["published"]) == (1, 1, 0)
    assert preview["quarantine_reasons"] == {"unparseable-record": 1}
    assert preview["quarantined_records"][0]["reasons"] == [f"unparseable-record: {error}"]
    assert preview["sample"] is None and preview["coverage"]["title"] == 0.0


def test_the_preview_agrees_with_the_harvest_of_the_pasted_block(store_url: str, oai_server: Any,
                                                                  tmp_path: Path) -> None:
    """The promise of the preview: paste the block, harvest, and the report says the same."""
    server = oai_server(make_records(15, deleted_every=5) + [NO_TITLE, ODD_VALUES, UNTYPED])
    probed = json.loads(ichlinks("probe", server.base_url, "--json").stdout)
    preview = probed["crosswalk_preview"]
    cfg = tmp_path / "ichlinks.yaml"
    cfg.write_text(f'store: "{store_url}"\nsearch: {{backend: embedded, path: "{tmp_path / "index"}"}}\n'
                   + probed["config"], encoding="utf-8")
    assert ichlinks("harvest", cfg=cfg).returncode == 0
    (report,) = json.loads(ichlinks("report", "--json", cfg=cfg).stdout)
    assert (report["published"], report["quarantined"]) == (preview["published"], preview["quarantined"])
    assert report["raw_deleted"] == preview["deleted"]
    assert report["quarantine_reasons"] == preview["quarantine_reasons"]
    assert report["coverage"] == preview["coverage"]
    assert {code: d["count"] for code, d in report["diagnostics"].items()} == {
        code: d["count"] for code, d in preview["diagnostics"].items()}
