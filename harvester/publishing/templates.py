"""``ichlinks publish --template csv|xlsx``: an empty inventory to start from.

The columns, their explanations and the example row are data (``template.yaml``), so the kit
can be translated or extended without touching code.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources
from typing import Any

import yaml

TEMPLATE_FORMATS = ("csv", "xlsx")


@functools.cache
def template_spec() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("template.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def template_headers() -> list[str]:
    return [column["header"] for column in template_spec()["columns"]]


def template_row() -> list[str]:
    example = template_spec()["example"]
    return [str(example.get(header) or "") for header in template_headers()]


def template_csv() -> bytes:
    """UTF-8 with a BOM: without it Excel opens Vietnamese or Korean text as mojibake."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(template_headers())
    writer.writerow(template_row())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The inventory on the first sheet (the one published), the column guide on a second."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Inventory"
    sheet.append(template_headers())
    sheet.append(template_row())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[2]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 24
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("Columns")
    guide.append(["column", "what to write"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column_spec in template_spec()["columns"]:
        guide.append([column_spec["header"], column_spec["help"]])
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 110
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template(kind: str) -> bytes:
    if kind == "csv":
        return template_csv()
    if kind == "xlsx":
        return template_xlsx()
    raise ValueError(f"template format must be one of {TEMPLATE_FORMATS}, not {kind!r}")
