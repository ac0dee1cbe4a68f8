"""The data table of list pages and of a record's related lists, as markup built in
Python (a list page has 25 rows of 6 cells: a template call per header, row and cell
cost more than the rest of the page).

Cells are what `tables.table_rows` makes: `Shown` values (None shows as blank), or the
finished markup `list_cells` compiles (`CellHtml`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from metabiz.objects.forms import BLANK
from metabiz.platform.web.i18n import text

_BLANK_HTML = BLANK.__html__()
_ICONS = {"asc": "▲", "desc": "▼"}


class CellHtml(str):
    """A cell's finished markup (list_cells makes them): put in the table as it is."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def escaped(value: Any) -> str:
    """`markupsafe.escape(value)` as a plain string (markup passes as it is), without
    making a Markup object per value."""
    if type(value) is not str:
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value:
        return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&#34;").replace("'", "&#39;"))
    return value  # most values: nothing to escape, no new string


def table_markup(headers: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]],
                 caption: str | None = None, select: str | None = None) -> Markup:
    """The `table` macro's markup for `headers` and `rows` (see tables.header/table_rows);
    `select`: the id of the form the rows' checkboxes (name "ids") belong to."""
    head, cell_starts = table_head(headers, caption, select)
    out = [head]
    form = escaped(select) if select else ""
    select_record = text("select_record")  # "Select {name}", formatted per row
    for row in rows:
        out.append(ROW_START)
        if select:
            out.append(select_cell(row["id"], row["name"], form, select_record))
        out.append("\n      ")
        for index, cell in enumerate(row["cells"]):
            out.append(cell_starts[index])
            if index == 0:
                out.append(row_link(row["href"], cell.text if cell else row["name"]))
            elif type(cell) is CellHtml:
                out.append(cell)
            else:
                out.append(cell.__html__() if cell is not None else _BLANK_HTML)
            out.append(CELL_END)
        out.append(ROW_END)
    out.append(TABLE_END)
    return Markup("".join(out))


#: what surrounds a row's cells and ends each cell and the table (the macro's whitespace)
ROW_START = "\n    <tr>\n      "
CELL_END = "</td>\n      "
ROW_END = "\n    </tr>\n    "
TABLE_END = "\n  </tbody>\n</table>\n</div>"


def table_head(headers: Sequence[Mapping[str, Any]], caption: str | None,
               select: str | None) -> tuple[str, list[str]]:
    """The table's markup up to its first row, and each column's cell opening (`<td>`)."""
    out = ['<div class="table-wrap">\n<table class="data-table">\n  ']
    if caption:
        out.append(f'<caption class="sr-only">{escape(caption)}</caption>')
    out.append("\n  <thead>\n    <tr>\n      ")
    if select:
        out.append(f'<th scope="col" class="select-col"><span class="sr-only">'
                   f'{escape(text("select"))}</span></th>')
    out.append("\n      ")
    cell_starts = []
    for index, h in enumerate(headers):
        out.append(_header_cell(h))
        numeric = "num" if h.get("numeric") else ""
        primary = " primary" if index == 0 else ""
        cell_starts.append(f'\n      \n      <td data-label="{escape(h.get("label", ""))}" '
                           f'class="{numeric}{primary}">')
    out.append("\n    </tr>\n  </thead>\n  <tbody>\n    ")
    return "".join(out), cell_starts


def select_cell(row_id: Any, name: str, form: str, select_record: str) -> str:
    """A row's checkbox for the form `form` (escaped); `select_record`: "Select {name}"."""
    return select_cell_html(escaped(row_id), escaped(select_record.format(name=name)), form)


def select_cell_html(row_id: str, label: str, form: str) -> str:
    """`select_cell` of values escaped already."""
    return (f'<td class="select-col"><input type="checkbox" name="ids" '
            f'value="{row_id}" form="{form}" aria-label="{label}"></td>')


def row_link(href: str, shown: Any) -> str:
    """The first cell's content: what it shows, linking to the record."""
    return row_link_html(escaped(href), escaped(shown))


def row_link_html(href: str, shown: str) -> str:
    """`row_link` of values escaped already."""
    return f'<a class="row-link" href="{href}">{shown}</a>'


def _header_cell(h: Mapping[str, Any]) -> str:
    direction = h.get("direction")
    numeric = "num" if h.get("numeric") else ""
    label = escape(h.get("label", ""))
    sort = ""
    if direction:
        sort = f'aria-sort="{"ascending" if direction == "asc" else "descending"}"'
    if h.get("href"):
        title = escape(text("sort_by", field=h.get("label", "")))
        icon = _ICONS.get(direction or "", "↕")
        state = ""
        if direction:
            state = (f'<span class="sr-only">('
                     f'{escape(text("sorted_asc" if direction == "asc" else "sorted_desc"))})'
                     f'</span>')
        body = (f'\n        <a class="sort-link" href="{escape(h["href"])}" title="{title}">'
                f'{label}\n          <span class="sort-icon" aria-hidden="true">{icon}</span>'
                f'\n          {state}\n        </a>\n        ')
    else:
        body = f"{label}"
    return (f'\n      <th scope="col" class="{numeric}"\n          {sort}>\n        {body}\n'
            f'      </th>\n      ')
