"""Spreadsheet files as rows of text: reading CSV (UTF-8 with or without BOM, UTF-16, GB18030)
and XLSX (openpyxl, read-only), writing both (XLSX write-only) safe from formula injection.

Everything a reader hands on is text as a person typed it (numbers, dates and booleans of an
XLSX cell are written out the way they show), so one conversion path serves both formats.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from metabiz.errors import ValidationError

FORMATS = ("csv", "xlsx")
#: Excel's own limit for the text of one cell
MAX_CELL = 32_767
#: more columns than any object has fields (a runaway file is refused at its header)
MAX_COLUMNS = 1_000
#: characters a spreadsheet would start a formula with: such text is written quoted
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_MAGIC = b"PK\x03\x04"


class Link(str):
    """A cell holding a web address: XLSX writes it as a hyperlink, CSV as its text."""


class SheetRejected(ValidationError):
    """The file cannot be read as a sheet (not CSV/XLSX, empty, bad header): nothing is read.

    `problems` are `row N, column C: message` lines; the API shows them under `file`.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if len(problems) == 1 else
                         f"{len(problems)} problems in the file: " + "; ".join(problems[:5]),
                         fields={"file": problems})
        self.problems = problems


@dataclass(frozen=True)
class Row:
    """One line of the sheet: its number as a spreadsheet shows it (the header is row 1) and
    its cells as text (None for an empty cell), trailing empty or blank cells removed (a
    blank row has none)."""

    number: int
    cells: list[str | None]


@dataclass
class Sheet:
    """A sheet opened for reading: its format, header, and an iterator over the data rows."""

    format: str
    header: list[str]
    rows: Iterator[Row]


def column_letter(index: int) -> str:
    """The spreadsheet name of the 0-based column `index` (0 → A, 27 → AB)."""
    return get_column_letter(index + 1)


def format_of(filename: str, data: bytes) -> str:
    """`csv` or `xlsx`, by the file's extension or (without one we know) its content."""
    name = filename.lower().rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension in ("csv", "txt", "tsv"):
        return "csv"
    if extension == "xlsx":
        return "xlsx"
    if extension in ("xls", "xlsm", "xlsb", "ods", "numbers"):
        raise SheetRejected([f"{filename}: .{extension} files are not read; save the sheet as "
                             ".xlsx or .csv"])
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if extension:
        raise SheetRejected([f"{filename}: not a CSV or XLSX file (.{extension})"])
    return "csv"


def open_sheet(filename: str, data: bytes) -> Sheet:
    """The sheet in `data` (the whole file); SheetRejected when it is not one we can read."""
    kind = format_of(filename, data)
    if not data.strip():
        raise SheetRejected(["the file is empty: row 1 must hold the column names"])
    rows = _xlsx_rows(filename, data) if kind == "xlsx" else _csv_rows(filename, data)
    first = next(rows, None)
    while first is not None and not any(first.cells):
        first = next(rows, None)
    if first is None:
        raise SheetRejected(["the file is empty: row 1 must hold the column names"])
    header = [(cell or "").strip() for cell in first.cells]
    if len(header) > MAX_COLUMNS:
        raise SheetRejected([f"row {first.number}: {len(header)} columns; a sheet may have at "
                             f"most {MAX_COLUMNS}"])
    return Sheet(kind, header, rows)


# -- CSV ----------------------------------------------------------------------------------


def decode_text(filename: str, data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (what
    Chinese Excel saves); binary content is refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise SheetRejected([f"{filename}: not a CSV file (binary content, or text in an encoding "
                         "other than UTF-8 or GB18030)"])


def _delimiter(first_line: str) -> str:
    """Comma, unless the header line plainly uses tabs or semicolons instead (Excel's
    "Unicode text" and European CSVs)."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] and counts[","] == 0 else ","


def _csv_rows(filename: str, data: bytes) -> Iterator[Row]:
    text = decode_text(filename, data)
    # a cell longer than the module's default limit is reported by us, naming its column
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter=_delimiter(text.split("\n", 1)[0]))
    number = 0
    try:
        for cells in reader:
            number += 1
            yield Row(number, _trimmed([c if c != "" else None for c in cells]))
    except csv.Error as err:
        raise SheetRejected([f"row {number + 1}: not valid CSV ({err})"]) from None


def _trimmed(cells: list[str | None]) -> list[str | None]:
    end = len(cells)
    while end and (cells[end - 1] is None or not str(cells[end - 1]).strip()):
        end -= 1
    return cells[:end]


# -- XLSX ---------------------------------------------------------------------------------


def _xlsx_rows(filename: str, data: bytes) -> Iterator[Row]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise SheetRejected([f"{filename}: not an XLSX workbook (save it from Excel or WPS "
                             "as .xlsx, or as .csv)"]) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return
        number = 0
        for cells in sheet.iter_rows():
            number = cells[0].row if cells and getattr(cells[0], "row", None) else number + 1
            yield Row(number, _trimmed([cell_text(c.value, getattr(c, "number_format", ""))
                                        for c in cells]))
    finally:
        book.close()


def cell_text(value: Any, number_format: str = "") -> str | None:
    """An XLSX cell's value written as a person would type it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if "%" in (number_format or ""):
            return format((number * 100).normalize(), "f") + "%"
        return format(number.normalize(), "f") if number != number.to_integral_value() \
            else str(int(number))
    return str(value)


# -- writing ------------------------------------------------------------------------------


def guarded(text: str) -> str:
    """Text a spreadsheet would run as a formula (`=cmd|…`), quoted with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unguarded(text: str) -> str:
    """The text `guarded` wrote (an import reads an exported file back the same)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def write_csv(out: IO[bytes], header: list[str], rows: Iterable[list[Any]]) -> None:
    """UTF-8 with a BOM (so Excel reads Chinese right); text that would start a formula is
    quoted with an apostrophe, numbers and dates are written plainly."""
    stream = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(stream)
    writer.writerow([guarded(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else guarded(v) if isinstance(v, str) else _plain(v)
                         for v in row])
    stream.flush()
    stream.detach()


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_xlsx(out: IO[bytes], header: list[str], rows: Iterable[list[Any]],
               title: str = "Sheet1") -> None:
    """A write-only workbook (constant memory); text is always a string cell, never a
    formula, and text a spreadsheet would run gets Excel's quote prefix."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet1")
    sheet.append([_xlsx_cell(sheet, h) for h in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    book.save(out)


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, Link):
        cell = WriteOnlyCell(sheet, value=str(value))
        cell.hyperlink = str(value)
        cell.style = "Hyperlink"
        return cell
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text stays text, even `=SUM(…)`
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
        return cell
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value.astimezone(dt.UTC).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return value
