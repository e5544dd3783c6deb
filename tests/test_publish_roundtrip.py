"""The partner kit end to end: a multilingual workbook published with `ichlinks publish`,
harvested by the aggregator with nothing but a URL and a partner name, searched; then edited,
republished, and harvested incrementally: exactly the edits arrive."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from harvester.config import parse_settings
from harvester.export import iter_ich
from harvester.pipeline import run_harvest
from harvester.publishing.serving import publishing_server
from harvester.searching import parse_filters, run_search
from harvester.store.engine import open_store
from mappings import record_id

SOURCE = "asia-pacific-partner"
HEADER = ["identifier", "category", "title@en", "title@ko", "title@vi", "title@kk", "title@th",
          "title@mn", "description", "country", "subject", "language"]
ROWS = {
    "KR-001": ["element", "Pansori epic chant", "판소리", None, None, None, None,
               "소리꾼과 고수가 함께 하는 음악극", "Republic of Korea", "서사 음악|performing arts", "ko"],
    "VN-001": ["element", "Xoan singing", None, "Hát Xoan Phú Thọ", None, None, None,
               "Hát thờ thần vào dịp đầu xuân tại các đình làng", "Viet Nam", "dân ca", "vi"],
    "KZ-001": ["element", "Kazakh traditional art of Dombra Kuy", None, None, "Домбыра күйі", None,
               None, "Күй — домбырада орындалатын аспаптық шығарма", "Kazakhstan", "музыка", "kk"],
    "TH-001": ["element", "Khon, masked dance drama", None, None, None, "โขน", None,
               "นาฏกรรมสวมหัวโขนที่แสดงเรื่องรามเกียรติ์", "Thailand", "นาฏศิลป์", "th"],
}
ADDED = ("MN-001", ["element", "Mongolian traditional art of Khöömei", None, None, None, None,
                    "Хөөмий", "Хоолойн аялгуугаар дуулах урлаг", "Mongolia", "дуу хөгжим", "mn"])


def write_workbook(path: Path, rows: dict[str, list[Any]]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for identifier, values in rows.items():
        sheet.append([identifier, *values])
    book.save(path)


def settings_for(tmp_path: Path, store_url: str, url: str) -> Any:
    # The aggregator side needs nothing special: a URL and who the partner is.
    return parse_settings(f"""
store: "{store_url}"
search: {{backend: embedded, path: "{tmp_path / 'index'}"}}
sources:
  {SOURCE}:
    url: {url}
    partner: {{name: Asia-Pacific test partner}}
""", "test.yaml")


def found(settings: Any, query: str) -> set[str]:
    result = run_search(settings, parse_filters(query, [], limit=50))
    return {hit["id"] for hit in result["results"]}


def titles_by_identifier(engine: Any) -> dict[str, set[tuple[str, str | None]]]:
    out = {}
    for record in iter_ich(engine, source=SOURCE):
        out[record["oai"]["identifier"]] = {(t["value"], t["lang"]) for t in record["title"]}
    return out


def expected_titles(rows: dict[str, list[Any]]) -> dict[str, set[tuple[str, str | None]]]:
    langs = [h.split("@")[1] for h in HEADER if h.startswith("title@")]
    return {f"oai:workbook-partner:{identifier}":
            {(text, lang) for text, lang in zip(values[1:7], langs, strict=True) if text}
            for identifier, values in rows.items()}


def test_publish_harvest_search_edit_and_harvest_incrementally(store_url: str, tmp_path: Path) -> None:
    workbook = tmp_path / "inventory.xlsx"
    write_workbook(workbook, ROWS)
    hour_ago = time.time() - 3600
    os.utime(workbook, (hour_ago, hour_ago))

    server = publishing_server(workbook, name="Workbook Partner", min_interval=0)
    with server:
        settings = settings_for(tmp_path, store_url, server.base_url)
        [first] = run_harvest(settings, [])
    assert first.status == "ok", first.error
    assert (first.new, first.updated, first.deleted, first.failed) == (4, 0, 0, 0)

    engine = open_store(settings.store)
    assert titles_by_identifier(engine) == expected_titles(ROWS), "every title keeps its language"
    ids = {identifier: record_id(SOURCE, f"oai:workbook-partner:{identifier}") for identifier in ROWS}
    assert found(settings, "판소리") == {ids["KR-001"]}
    assert found(settings, "Hát Xoan") == {ids["VN-001"]}
    assert found(settings, "Домбыра") == {ids["KZ-001"]}
    assert found(settings, "โขน") == {ids["TH-001"]}
    assert found(settings, "") == set(ids.values())
    facets = run_search(settings, parse_filters("", [], limit=1))["facets"]
    assert set(facets["countries"]) == {"KR", "VN", "KZ", "TH"}
    assert {"ko", "vi", "kk", "th"} <= set(facets["languages"])

    # the partner edits one row, deletes one, adds one, and publishes again
    edited = dict(ROWS)
    edited["KR-001"] = [*ROWS["KR-001"][:7], "판소리 다섯 마당: 춘향가, 심청가, 흥보가, 수궁가, 적벽가",
                        *ROWS["KR-001"][8:]]
    del edited["TH-001"]
    edited[ADDED[0]] = ADDED[1]
    write_workbook(workbook, edited)

    again_server = publishing_server(workbook, name="Workbook Partner", min_interval=0,
                                     port=server.port)
    with again_server:
        [second] = run_harvest(settings, [])
    assert second.status == "ok", second.error
    assert second.mode == "incremental"
    assert (second.new, second.updated, second.deleted, second.failed) == (1, 1, 1, 0)
    assert second.records == 3 and second.unchanged == 0, "unchanged rows must not be sent again"

    ids["MN-001"] = record_id(SOURCE, "oai:workbook-partner:MN-001")
    assert titles_by_identifier(engine) == expected_titles(edited)
    assert found(settings, "심청가") == {ids["KR-001"]}
    assert found(settings, "โขน") == set()
    assert found(settings, "Хөөмий") == {ids["MN-001"]}
    assert found(settings, "") == {ids[k] for k in ("KR-001", "VN-001", "KZ-001", "MN-001")}
    engine.dispose()
