"""Read a partner's inventory as a stream of items: CSV, an Excel workbook, or a folder.

Whatever the container, an item is a list of ``(header, text)`` cells, so the same column
rules apply to a spreadsheet row and to a ``xoan-singing.yaml``.  Rows are read lazily
(``csv`` reader, openpyxl's read-only mode) so a large inventory is never held whole here.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import itertools
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Protocol

import yaml

from .columns import parse_header
from .errors import InputError

SHEET_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
ITEM_SUFFIXES = (".json", ".yaml", ".yml")
_DELIMITERS = (",", ";", "\t")
_HEADER_SEARCH = 10  # rows looked at for the header row

Cell = tuple[str, str]


@dataclass(frozen=True)
class InputItem:
    """One row or one item file.

    ``where`` is what a partner can find it by ("row 7", "items/xoan.yaml"); ``base_dir`` is
    where its relative media paths point; ``name`` is a folder item's path without suffix, a
    natural identifier when there is no identifier column.
    """

    where: str
    cells: tuple[Cell, ...]
    base_dir: Path
    mtime: float | None = None
    name: str | None = None
    error: str | None = None

    @property
    def blank(self) -> bool:
        return self.error is None and not any(text.strip() for _, text in self.cells)


class Input(Protocol):
    path: Path
    kind: str

    @property
    def media_root(self) -> Path:
        """Only files under this folder may be served as media."""
        ...

    def headers(self) -> list[str] | None:
        """The header row of a sheet; None for a folder (each item has its own keys)."""
        ...

    def items(self) -> Iterator[InputItem]: ...

    def signature(self) -> tuple[Any, ...]:
        """Changes whenever the content may have changed; cheap enough to ask on every request."""
        ...

    def mtime(self) -> float:
        """When the input last changed as a whole (a deleted item leaves no file of its own)."""
        ...


def cell_text(value: Any) -> str:
    """A spreadsheet or YAML scalar as the text a partner typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 2011 as 2011.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) and value.tzinfo is None \
            else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _known_columns(row: list[str]) -> int:
    return sum(1 for cell in row if cell.strip() and parse_header(cell).field is not None)


class _File:
    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def media_root(self) -> Path:
        return self.path.parent

    def signature(self) -> tuple[Any, ...]:
        try:
            st = self.path.stat()
        except OSError as exc:
            raise InputError(f"{self.path}: {exc.strerror or exc}") from exc
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def mtime(self) -> float:
        return self.path.stat().st_mtime

    def _split(self, rows: Iterator[list[str]]) -> tuple[int, list[str], Iterator[tuple[int, list[str]]]]:
        """The header row and the numbered rows after it.

        Inventories often open with a title or a note above the real header ("National
        Inventory of ICH, 2023"); the header is the first of the leading rows that names at
        least two known columns, else simply the first non-empty row.
        """
        numbered = enumerate(rows, start=1)
        lead: list[tuple[int, list[str]]] = []
        for number, row in numbered:
            lead.append((number, row))
            if _known_columns(row) >= 2 or len(lead) >= _HEADER_SEARCH:
                break
        chosen = next((i for i, (_, row) in enumerate(lead) if _known_columns(row) >= 2), None)
        if chosen is None:
            chosen = next((i for i, (_, row) in enumerate(lead) if any(c.strip() for c in row)), None)
        if chosen is None:
            return 0, [], iter(())
        number, header = lead[chosen]
        return number, [cell.strip() for cell in header], itertools.chain(lead[chosen + 1:], numbered)

    def _rows_to_items(self, rows: Iterator[list[str]]) -> Iterator[InputItem]:
        _, header, body = self._split(rows)
        for number, row in body:
            cells = tuple((header[i], text) for i, text in enumerate(row)
                          if i < len(header) and header[i] and text.strip())
            yield InputItem(where=f"row {number}", cells=cells, base_dir=self.path.parent)

    def headers(self) -> list[str] | None:
        with contextlib.closing(self._rows()) as rows:
            return self._split(rows)[1]

    def items(self) -> Iterator[InputItem]:
        return self._rows_to_items(self._rows())

    def _rows(self) -> Iterator[list[str]]:
        raise NotImplementedError


class CsvInput(_File):
    """CSV as Excel, LibreOffice and Google Sheets write it: UTF-8 with or without a BOM,
    comma, semicolon (European locales) or tab separated."""

    kind = "csv"

    def _delimiter(self) -> str:
        with self._open() as handle:
            first = ""
            for line in handle:
                if line.strip():
                    first = line
                    break
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=lambda d: counts[d])
        return best if counts[best] else ","

    def _open(self):  # type: ignore[no-untyped-def]
        try:
            return self.path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise InputError(f"{self.path}: {exc.strerror or exc}") from exc

    def _rows(self) -> Iterator[list[str]]:
        try:
            delimiter = self._delimiter()
            with self._open() as handle:
                yield from csv.reader(handle, delimiter=delimiter)
        except UnicodeDecodeError as exc:
            raise InputError(f"{self.path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                             "save it as \"CSV UTF-8\" (Excel) or \"Text CSV\" with character set "
                             "Unicode (UTF-8) (LibreOffice)") from exc
        except csv.Error as exc:
            raise InputError(f"{self.path}: not a readable CSV file: {exc}") from exc


class XlsxInput(_File):
    """An Excel workbook: the first sheet, or the one named; formulas give their cached value."""

    kind = "xlsx"

    def __init__(self, path: Path, sheet: str | None = None) -> None:
        super().__init__(path)
        self.sheet = sheet

    def _rows(self) -> Iterator[list[str]]:
        import zipfile

        import openpyxl

        try:
            with warnings.catch_warnings():
                # openpyxl warns about Excel features it ignores (data validation, styles);
                # none of them matter for the values.
                warnings.simplefilter("ignore")
                book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise InputError(f"{self.path}: not a readable .xlsx workbook: {exc}") from exc
        try:
            if self.sheet is None:
                sheet = book.worksheets[0]
            elif self.sheet in book.sheetnames:
                sheet = book[self.sheet]
            else:
                raise InputError(f"{self.path} has no sheet {self.sheet!r} "
                                 f"(sheets: {', '.join(book.sheetnames)})")
            for row in sheet.iter_rows(values_only=True):
                yield [cell_text(value) for value in row]
        finally:
            book.close()


class FolderInput:
    """One JSON or YAML file per item; media files sit beside them.

    An item file is a mapping of column names to values: a text, a list of texts (a
    repeated column) or ``{lang: text}`` (the same as ``title@lang`` columns).
    """

    kind = "folder"

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def media_root(self) -> Path:
        return self.path

    def headers(self) -> list[str] | None:
        return None

    def _files(self) -> Iterator[Path]:
        for directory, subdirs, files in os.walk(self.path):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and name.lower().endswith(ITEM_SUFFIXES):
                    yield Path(directory) / name

    def _walk_stats(self) -> Iterator[tuple[str, os.stat_result]]:
        yield ".", self.path.stat()
        for directory, subdirs, _ in os.walk(self.path):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for d in subdirs:
                yield os.path.join(directory, d), os.stat(os.path.join(directory, d))
        for file in self._files():
            yield str(file), file.stat()

    def signature(self) -> tuple[Any, ...]:
        if not self.path.is_dir():
            raise InputError(f"{self.path}: the folder is gone")
        digest = hashlib.sha1()
        for name, st in self._walk_stats():
            digest.update(f"{name}\0{st.st_mtime_ns}\0{st.st_size}\n".encode("utf-8", "surrogateescape"))
        return (digest.hexdigest(),)

    def mtime(self) -> float:
        # Removing an item file changes its folder's mtime, so this dates deletions too.
        return max(st.st_mtime for _, st in self._walk_stats())

    def items(self) -> Iterator[InputItem]:
        for file in self._files():
            relative = file.relative_to(self.path).as_posix()
            name = relative.rsplit(".", 1)[0]
            try:
                mtime = file.stat().st_mtime
                data = _load_item(file)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                yield InputItem(where=relative, cells=(), base_dir=file.parent, name=name,
                                error=f"cannot read {relative}: {exc}")
                continue
            if not isinstance(data, Mapping):
                yield InputItem(where=relative, cells=(), base_dir=file.parent, name=name,
                                error=f"{relative} must hold one item: a mapping of column names "
                                      f"to values, not {type(data).__name__}")
                continue
            cells: list[Cell] = []
            for key, value in data.items():
                cells.extend(_item_cells(str(key), value))
            yield InputItem(where=relative, cells=tuple(cells), base_dir=file.parent, mtime=mtime,
                            name=name)


def _load_item(file: Path) -> Any:
    text = file.read_text(encoding="utf-8-sig")
    if file.suffix.lower() == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def _item_cells(key: str, value: Any) -> list[Cell]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        if "@" in key:
            raise ValueError(f"{key!r} already names a language; its value must be a text")
        return [cell for lang, text in value.items() for cell in _item_cells(f"{key}@{lang}", text)]
    if isinstance(value, (list, tuple)):
        return [cell for element in value for cell in _item_cells(key, element)]
    text = cell_text(value)
    return [(key, text)] if text.strip() else []


def open_input(path: str | os.PathLike[str], *, sheet: str | None = None) -> Input:
    """The reader for a path, chosen by what it is: a folder, or a sheet by its suffix."""
    target = Path(path).expanduser()
    if not target.exists():
        raise InputError(f"{target}: no such file or folder")
    kind = "folder" if target.is_dir() else SHEET_SUFFIXES.get(target.suffix.lower())
    if sheet is not None and kind != "xlsx":
        raise InputError("a sheet can only be chosen in an .xlsx workbook")
    if kind == "folder":
        return FolderInput(target.resolve())
    if kind == "csv":
        return CsvInput(target.resolve())
    if kind == "xlsx":
        return XlsxInput(target.resolve(), sheet)
    if target.suffix.lower() == ".xls":
        raise InputError(f"{target}: the old Excel .xls format cannot be read; "
                         "save the workbook as .xlsx or CSV UTF-8")
    raise InputError(f"{target}: cannot publish {target.suffix or 'this file'}; "
                     "give a .csv or .xlsx file, or a folder of .json/.yaml items")
