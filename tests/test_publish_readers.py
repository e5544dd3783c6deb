"""ichlinks publish: reading CSV, XLSX and folders of item files into cells."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from harvester.publishing import CsvInput, FolderInput, InputError, XlsxInput, open_input


def cells_of(source) -> list[tuple[str, dict[str, list[str]]]]:  # type: ignore[no-untyped-def]
    out = []
    for item in source.items():
        grouped: dict[str, list[str]] = {}
        for header, text in item.cells:
            grouped.setdefault(header, []).append(text)
        out.append((item.where, grouped))
    return out


def test_csv_with_bom_multiline_cells_and_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    text = ('identifier,title@ko,description@ko,\n'
            'KR-1,판소리,"소리꾼과 고수가\n함께 하는 음악극",\n'
            ',,,\n'
            'KR-2,"강강술래, 전라남도",,\n')
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    source = open_input(path)
    assert isinstance(source, CsvInput) and source.kind == "csv"
    assert source.headers() == ["identifier", "title@ko", "description@ko", ""]
    items = list(source.items())
    assert [i.where for i in items] == ["row 2", "row 3", "row 4"]
    assert items[0].cells == (("identifier", "KR-1"), ("title@ko", "판소리"),
                              ("description@ko", "소리꾼과 고수가\n함께 하는 음악극"))
    assert items[1].blank and not items[0].blank
    assert items[2].cells[1] == ("title@ko", "강강술래, 전라남도")
    assert items[0].base_dir == tmp_path.resolve()


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_from_european_locales_and_tab_separated(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(delimiter.join(["id", "title@kk", "date"]) + "\n"
                    + delimiter.join(["KZ-7", "Күй, домбыра", "2014"]) + "\n", encoding="utf-8")
    [(where, cells)] = cells_of(open_input(path))
    assert where == "row 2"
    assert cells == {"id": ["KZ-7"], "title@kk": ["Күй, домбыра"], "date": ["2014"]}


def test_csv_in_a_legacy_code_page_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "inventory.csv"
    path.write_bytes("title@vi\nHát Xoan\n".encode("cp1258"))
    with pytest.raises(InputError, match="CSV UTF-8"):
        list(open_input(path).items())


def test_xlsx_first_sheet_values_as_typed(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["identifier", "title@th", "date", "modified", "year", "ratio"])
    sheet.append(["TH-1", "โขน", date(2018, 11, 29), datetime(2024, 5, 1, 10, 30), 2018, 0.5])
    sheet.append([None, None, None, None, None, None])
    sheet.append([7, "นวดไทย", "2019", None, 2019.0, None])
    other = book.create_sheet("Second")
    other.append(["title"])
    other.append(["from the second sheet"])
    path = tmp_path / "inventory.xlsx"
    book.save(path)

    source = open_input(path)
    assert isinstance(source, XlsxInput)
    rows = cells_of(source)
    assert rows[0] == ("row 2", {"identifier": ["TH-1"], "title@th": ["โขน"], "date": ["2018-11-29"],
                                 "modified": ["2024-05-01T10:30:00"], "year": ["2018"],
                                 "ratio": ["0.5"]})
    assert rows[1][0] == "row 3" and rows[1][1] == {}
    assert rows[2] == ("row 4", {"identifier": ["7"], "title@th": ["นวดไทย"], "date": ["2019"],
                                 "year": ["2019"]})
    assert cells_of(open_input(path, sheet="Second")) == [("row 2", {"title": ["from the second sheet"]})]
    with pytest.raises(InputError, match="no sheet 'Third'.*Second"):
        list(open_input(path, sheet="Third").items())


def test_unreadable_inputs_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_input(tmp_path / "missing.csv")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"\.xlsx"):
        open_input(old)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    with pytest.raises(InputError, match="not a readable .xlsx"):
        list(open_input(fake).items())


def test_folder_of_json_and_yaml_items(tmp_path: Path) -> None:
    folder = tmp_path / "items"
    (folder / "crafts").mkdir(parents=True)
    (folder / "xoan.yaml").write_text(
        "identifier: VN-1\n"
        "title: {vi: Hát Xoan, en: Xoan singing}\n"
        "subject: [folk song, ritual]\n"
        "date: 2011-11-24\n"
        "media: xoan.jpg\n", encoding="utf-8")
    (folder / "crafts" / "dombra.json").write_text(json.dumps(
        {"title": {"kk": ["Домбыра жасау", "Домбыра"]}, "country": "KZ", "year": 2014,
         "creator": None}, ensure_ascii=False), encoding="utf-8")
    (folder / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    (folder / "list.json").write_text("[1, 2]", encoding="utf-8")
    (folder / ".hidden.yaml").write_text("title: hidden\n", encoding="utf-8")
    (folder / "xoan.jpg").write_bytes(b"\xff\xd8")

    source = open_input(folder)
    assert isinstance(source, FolderInput) and source.headers() is None
    items = {item.where: item for item in source.items()}
    assert sorted(items) == ["broken.yaml", "crafts/dombra.json", "list.json", "xoan.yaml"]
    xoan = items["xoan.yaml"]
    assert xoan.name == "xoan" and xoan.error is None and xoan.mtime is not None
    assert xoan.cells == (("identifier", "VN-1"), ("title@vi", "Hát Xoan"), ("title@en", "Xoan singing"),
                          ("subject", "folk song"), ("subject", "ritual"), ("date", "2011-11-24"),
                          ("media", "xoan.jpg"))
    dombra = items["crafts/dombra.json"]
    assert dombra.name == "crafts/dombra" and dombra.base_dir == folder.resolve() / "crafts"
    assert dombra.cells == (("title@kk", "Домбыра жасау"), ("title@kk", "Домбыра"),
                            ("country", "KZ"), ("year", "2014"))
    assert items["broken.yaml"].error and "broken.yaml" in items["broken.yaml"].error
    assert items["list.json"].error and "mapping" in items["list.json"].error


def test_signatures_change_with_content(tmp_path: Path) -> None:
    folder = tmp_path / "items"
    folder.mkdir()
    (folder / "a.yaml").write_text("title: A\n", encoding="utf-8")
    source = open_input(folder)
    first = source.signature()
    assert source.signature() == first
    (folder / "b.yaml").write_text("title: B\n", encoding="utf-8")
    second = source.signature()
    assert second != first
    (folder / "b.yaml").unlink()
    assert source.signature() not in (second,)

    sheet = tmp_path / "s.csv"
    sheet.write_text("title\nA\n", encoding="utf-8")
    csv_source = open_input(sheet)
    before = csv_source.signature()
    sheet.write_text("title\nA much longer title\n", encoding="utf-8")
    assert csv_source.signature() != before


def test_a_title_above_the_header_row_is_skipped(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["National Inventory of Intangible Cultural Heritage, 2023"])
    sheet.append(["Prepared by the ICH committee"])
    sheet.append([])
    sheet.append(["No.", "Title@mn", "Country", "Date"])
    sheet.append([1, "Хөөмий", "Mongolia", 2010])
    path = tmp_path / "inventory.xlsx"
    book.save(path)
    source = open_input(path)
    assert source.headers() == ["No.", "Title@mn", "Country", "Date"]
    assert cells_of(source) == [("row 5", {"No.": ["1"], "Title@mn": ["Хөөмий"], "Country": ["Mongolia"],
                                           "Date": ["2010"]})]

    single = tmp_path / "single.csv"
    single.write_text("title\nA\nB\n", encoding="utf-8")
    assert [where for where, _ in cells_of(open_input(single))] == ["row 2", "row 3"]
