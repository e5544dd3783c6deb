"""ichlinks publish: row checks, the ICH record a row becomes, --check and --template."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from harvester.cli import main
from harvester.publishing import (check_input, ich_record, open_input, publication_for,
                                  read_entry, template)
from harvester.publishing.readers import InputItem
from mappings import ich_json_schema


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def entry_of(cells: list[tuple[str, str]], tmp_path: Path, name: str | None = None):  # type: ignore[no-untyped-def]
    item = InputItem(where="row 2", cells=tuple(cells), base_dir=tmp_path, name=name)
    return read_entry(item, media_root=tmp_path, media_base="http://p.example/media/")


def codes(entry) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(p.code for p in entry.problems)


def test_a_good_multilingual_row_becomes_a_valid_ich_record(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "xoan 1.jpg").write_bytes(b"\xff\xd8")
    entry = entry_of([
        ("identifier", "VN-1"), ("category", "element"), ("title@vi", "Hát Xoan Phú Thọ"),
        ("title@en", "Xoan singing"), ("description@vi", "Hát thờ thần vào dịp đầu xuân"),
        ("subject", "folk song | ritual singing"), ("subject 2", "Hùng kings"),
        ("country", "Viet Nam|Atlantis"), ("coverage", "1990/1995"), ("place", "Phú Thọ"),
        ("date", "2011"), ("language", "Vietnamese"), ("creator", "VICAS"),
        ("rights", "CC BY 4.0"), ("media", "photos/xoan 1.jpg|https://cdn.example/xoan.mp3"),
        ("link", "https://ich.example/xoan"), ("Internal notes", "do not publish"),
    ], tmp_path)
    assert entry.local_id == "VN-1" and entry.category == "element"
    assert codes(entry) == ["unknown-country"]
    assert entry.unknown_columns == ["Internal notes"]
    pub = publication_for(tmp_path / "inventory.xlsx", name="Viện Văn hóa", admin_email=None,
                          base_url="http://p.example/oai")
    record = pub.record(entry, "2026-03-01T09:00:00Z")
    jsonschema.validate(record, ich_json_schema())
    assert record["oai"]["identifier"] == "oai:vien-van-hoa:VN-1"
    assert [(t["value"], t["lang"]) for t in record["title"]] == [("Hát Xoan Phú Thọ", "vi"),
                                                                  ("Xoan singing", "en")]
    assert [s["value"] for s in record["subjects"]] == ["folk song", "ritual singing", "Hùng kings"]
    assert record["countries"] == ["VN"]
    assert [p["name"] for p in record["places"]] == ["Atlantis", "Phú Thọ"]  # nothing typed is lost
    assert [(d["type"], d["edtf"]) for d in record["dates"]] == [("temporal", "1990/1995"), ("other", "2011")]
    assert record["languages"] == ["vi"]
    assert record["media"] == [
        {"type": "image", "url": "http://p.example/media/photos/xoan%201.jpg", "format": "image/jpeg"},
        {"type": "audio", "url": "https://cdn.example/xoan.mp3", "format": "audio/mpeg"}]
    assert record["links"] == {"landing_page": "https://ich.example/xoan",
                               "thumbnail": "http://p.example/media/photos/xoan%201.jpg"}
    assert record["rights"]["uri"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "do not publish" not in json.dumps(record, ensure_ascii=False)
    assert "performing_arts" in record["ich_domains"]


def test_row_problems_are_named(tmp_path: Path) -> None:
    entry = entry_of([("id", "X-1"), ("type", "Zzyzx"), ("title@qq-nonsense", "Something"),
                      ("date", "sometime soon"), ("language", "Klingonese"), ("modified", "last week"),
                      ("media", "../outside.jpg|missing.png"), ("rights", "ask us")], tmp_path)
    assert codes(entry) == ["bad-date", "bad-modified", "media-missing", "media-outside",
                            "rights-unrecognised", "unknown-category", "unknown-language",
                            "unknown-language"]
    assert entry.has_errors and entry.media == []
    bare = entry_of([("description", "no title, no id")], tmp_path)
    assert bare.local_id is None and {"no-title", "no-identifier", "no-category"} <= set(codes(bare))


def test_identifiers_without_an_identifier_column(tmp_path: Path) -> None:
    one = entry_of([("title@ko", "판소리"), ("category", "element")], tmp_path)
    same = entry_of([("title@ko", " 판소리 "), ("category", "element"), ("subject", "x")], tmp_path)
    other = entry_of([("title@ko", "강강술래"), ("category", "element")], tmp_path)
    assert one.local_id == same.local_id != other.local_id
    assert one.local_id is not None and one.local_id.startswith("t")
    assert one.sha256 != same.sha256
    named = entry_of([("title", "Dombra")], tmp_path, name="crafts/dombra")
    assert named.local_id == "crafts/dombra"


def test_content_hash_ignores_column_order_but_not_values(tmp_path: Path) -> None:
    a = entry_of([("id", "1"), ("title", "A"), ("subject", "x"), ("subject", "y")], tmp_path)
    b = entry_of([("subject", "x"), ("title", "A"), ("id", "1"), ("subject", "y")], tmp_path)
    c = entry_of([("id", "1"), ("title", "A"), ("subject", "y"), ("subject", "x")], tmp_path)
    assert a.sha256 == b.sha256 != c.sha256


def test_category_resource_alone_still_reaches_the_aggregator_as_a_resource(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "inv.csv", [["id", "title", "category"], ["R-1", "Field recordings", "resource"]])
    source = open_input(path)
    report = check_input(source, publication_for(path, name=None, admin_email=None,
                                                 base_url="http://127.0.0.1:8080/oai"))
    [row] = report.rows
    assert row.aggregator is not None and row.aggregator["category"] == "resource"
    assert report.ok


def test_check_report_per_row_with_the_aggregator_view(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "inv.csv", [
        ["identifier", "title@ko", "title@en", "category", "type", "country", "date", "Remarks"],
        ["KR-1", "판소리", "Pansori", "element", "", "Korea", "2003", ""],
        ["KR-2", "", "", "element", "", "KR", "", ""],
        ["KR-1", "강강술래", "", "element", "", "KR", "", ""],
        ["KR-3", "탈춤", "", "", "Zzyzx", "Atlantis", "someday", "x"],
        ["KR-4", "한산모시짜기", "", "element", "Video recording", "KR", "", ""],
    ])
    pub = publication_for(path, name="NIHC", admin_email=None, base_url="http://127.0.0.1:8080/oai")
    report = check_input(open_input(path), pub)
    assert not report.ok
    assert report.unrecognised_columns == ["Remarks"]
    assert report.recognised_columns["title@ko"] == "title"
    by_row = {r.where: r for r in report.rows}
    assert sorted(by_row) == ["row 2", "row 3", "row 4", "row 5", "row 6"]
    assert not by_row["row 2"].problems and by_row["row 2"].aggregator["quarantined"] is False
    assert by_row["row 2"].aggregator["countries"] == ["KR"]
    assert [p.code for p in by_row["row 3"].problems] == ["no-title"]
    # the real crosswalk agrees: a record without a title is quarantined
    assert by_row["row 3"].aggregator["quarantined"] is True
    assert "missing-title" in [d["code"] for d in by_row["row 3"].aggregator["diagnostics"]]
    assert [p.code for p in by_row["row 4"].problems] == ["duplicate-identifier"]
    assert by_row["row 4"].identifier is None
    assert sorted(p.code for p in by_row["row 5"].problems) == ["bad-date", "unknown-category",
                                                                "unknown-country"]
    assert [p.code for p in by_row["row 6"].problems] == ["category-differs"]
    assert report.rows_with_errors == 3 and report.publishable == 2
    data = report.as_json()
    assert data["ok"] is False and data["items"][0]["identifier"] == "oai:nihc:KR-1"


def test_cli_check_exit_codes_and_json(tmp_path: Path) -> None:
    good = write_csv(tmp_path / "good.csv", [["id", "title@th", "category", "country"],
                                             ["TH-1", "โขน", "element", "Thailand"]])
    bad = write_csv(tmp_path / "bad.csv", [["id", "title", "category"], ["1", "", "element"]])
    runner = CliRunner()
    ok = runner.invoke(main, ["publish", str(good), "--check"])
    assert ok.exit_code == 0, ok.output
    assert "no errors" in ok.output
    failed = runner.invoke(main, ["publish", str(bad), "--check"])
    assert failed.exit_code == 1
    assert "no-title" in failed.output and "quarantine" in failed.output
    assert "missing-title" not in failed.output, "the aggregator's restatement is not repeated"
    as_json = runner.invoke(main, ["publish", str(bad), "--check", "--json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    assert data["ok"] is False and data["rows_with_errors"] == 1
    assert [d["code"] for d in data["items"][0]["aggregator"]["diagnostics"]] == ["missing-title"]
    assert not list(tmp_path.glob(".*ichlinks-state.json")), "--check must not write the state"
    missing = runner.invoke(main, ["publish", str(tmp_path / "nope.csv"), "--check"])
    assert missing.exit_code == 2 and "no such file" in missing.output


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_templates_are_clean_inventories(tmp_path: Path, kind: str) -> None:
    result = CliRunner().invoke(main, ["publish", "--template", kind])
    assert result.exit_code == 0
    if kind == "csv":  # a workbook carries its save time, so only the CSV is byte-stable
        assert result.stdout_bytes == template(kind)
    path = tmp_path / f"inventory.{kind}"
    path.write_bytes(result.stdout_bytes)
    if kind == "csv":
        assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    else:
        book = load_workbook(path, read_only=True)
        rows = [[c or "" for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        assert book.sheetnames == ["Inventory", "Columns"]
        book.close()
    assert "title@vi" in rows[0] and "title@en" in rows[0] and len(rows) == 2
    assert rows[1][rows[0].index("title@vi")] == "Hát Xoan Phú Thọ"
    report = check_input(open_input(path), publication_for(path, name=None, admin_email=None,
                                                           base_url="http://127.0.0.1:8080/oai"))
    assert report.ok and report.publishable == 1 and report.warnings == 0
    assert report.formats == ["oai_dc", "ich"] and not report.unrecognised_columns


def test_ich_record_without_a_category_is_not_schema_complete(tmp_path: Path) -> None:
    entry = entry_of([("id", "1"), ("title", "Something")], tmp_path)
    record = ich_record(entry, source="p", partner_name="P", identifier="oai:p:1", datestamp=None,
                        media_base="http://p/media/")
    assert record["category"] is None  # so the repository offers it as oai_dc only
