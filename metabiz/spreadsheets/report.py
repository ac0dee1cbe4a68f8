"""The error report of an import: the uploaded file back, in its own format, with a column
saying what is wrong with each row — fix the cells and import the report again.

When nothing was written every row is in it; when the good rows were written (skip bad
rows), only the bad ones.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from typing import Any

from metabiz.spreadsheets.columns import REPORT_COLUMN
from metabiz.spreadsheets.exporter import MEDIA_TYPES
from metabiz.spreadsheets.sheets import SheetRejected, format_of, open_sheet, write_csv, write_xlsx


def messages_by_row(errors: list[Mapping[str, Any]]) -> dict[int | None, list[str]]:
    out: dict[int | None, list[str]] = {}
    for error in errors:
        where = f"{error['column']}: " if error.get("column") else ""
        out.setdefault(error.get("row"), []).append(where + str(error["message"]))
    return out


def error_report(row: Mapping[str, Any], lang: str = "en") -> tuple[str, str, bytes]:
    """(file name, media type, content) of the report of the import `row` (with its data)."""
    filename, data = row["filename"], row["data"]
    fmt = format_of(filename, data)
    errors = messages_by_row(row.get("errors") or [])
    only_bad = bool(row.get("written"))
    try:
        sheet = open_sheet(filename, data)
        header, rows = sheet.header, sheet.rows
    except SheetRejected as err:  # the file itself was refused: the report says why
        header, rows = [], iter(())
        errors.setdefault(None, []).extend(err.problems)
    width = len(header)

    def lines() -> Iterator[list[Any]]:
        general = errors.get(None)
        if general:
            yield [*([None] * width), "; ".join(general)]
        for line in rows:
            found = errors.get(line.number)
            if only_bad and not found:
                continue
            cells: list[Any] = list(line.cells) + [None] * (width - len(line.cells))
            yield [*cells[:width], "; ".join(found) if found else None, *cells[width:]]

    out = io.BytesIO()
    title = [*header, REPORT_COLUMN.get(lang, REPORT_COLUMN["en"])]
    (write_csv if fmt == "csv" else write_xlsx)(out, title, lines())
    stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "import"
    return f"{stem}-errors.{fmt}", MEDIA_TYPES[fmt], out.getvalue()
