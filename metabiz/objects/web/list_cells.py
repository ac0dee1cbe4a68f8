"""The list page's table: each cell's markup made by a renderer compiled once per metadata
version, object, columns and language, and the rows written straight into the markup.

Texts, picklists, numbers and e-mail addresses (most of a list) are rendered directly;
every other widget goes through `forms.display` as before. The markup is `table_markup`'s
over `tables.table_rows` (tests/objects/test_list_cells.py holds them equal on every field
type, in both languages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from markupsafe import Markup

from metabiz.objects import forms
from metabiz.objects.context import Context
from metabiz.objects.forms import BLANK, NUMBER_WIDGETS, SYSTEM_WIDGETS
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.objects.web.navigation import readable
from metabiz.objects.web.table_markup import (
    CELL_END,
    ROW_END,
    ROW_START,
    TABLE_END,
    escaped,
    row_link_html,
    select_cell_html,
    table_head,
)
from metabiz.platform.web.i18n import text

#: a compiled cell: the value's markup, or None to let `forms.display` render it
Cell = Callable[[Any], str | None] | None
_BLANK_HTML = BLANK.__html__()
_ROW_END = CELL_END + ROW_END
#: widgets `forms.display` shows as their plain text
_SPECIAL = frozenset({"checkbox", "select", "multiselect", "approval_status", "lookup", "user",
                      "rollup", "datetime", "url", "email", "tel", "textarea", "link",
                      "image", "time", "location"}) | NUMBER_WIDGETS | forms.FILE_WIDGETS


def list_table(ctx: Context, obj: CompiledObject, columns: list[str],
               found: Sequence[Mapping[str, Any]], headers: Sequence[Mapping[str, Any]],
               caption: str | None = None, select: str | None = None) -> Markup:
    """`table_markup(headers, tables.table_rows(ctx, obj, columns, found), caption, select)`,
    each row written as it is read (no row dicts, no `Shown` per cell)."""
    lang, zone = ctx.language, ctx.zone
    cells = _compiled(ctx, obj, columns, lang)
    names = forms.lookup_names(ctx, forms.wanted_lookups(obj, found, columns))
    readable_names: list[str] | None = None  # looked up for the first cell that needs it

    def general(name: str, value: Any) -> forms.Shown:
        nonlocal readable_names
        if readable_names is None:
            readable_names = [o.name for o in readable(ctx)]
        cf = obj.fields.get(name)
        return forms.display(cf, value, lang=lang, names=names,
                             widget=SYSTEM_WIDGETS.get(name) if cf is None else None,
                             readable=readable_names, zone=zone)

    head, starts = table_head(headers, caption, select)
    first, plain_first = columns[0], cells[0] is _plain
    first_start = "\n      " + starts[0]
    # each cell's end joined to the next one's start: one piece between two values
    rest = list(zip(columns[1:], [CELL_END + start for start in starts[1:]], cells[1:],
                    strict=True))
    form = escaped(select) if select else ""
    # "Select {name}" around each row's escaped name
    label_before, _, label_after = (escaped(part) for part in
                                    text("select_record").partition("{name}"))
    name_field = obj.odef.name_field
    link = escaped(f"/o/{obj.name}/")
    out = [head]
    add = out.append
    for record in found:
        record_id = record["id"]
        row_id = str(record_id) if type(record_id) is int else escaped(record_id)
        name = forms.record_name(obj, record, lang)
        name_html = escaped(name)
        add(ROW_START)
        if select:
            add(select_cell_html(row_id, label_before + name_html + label_after, form))
        value = record.get(first)
        if not value and (value is None or value == "" or value == []):
            shown = name_html
        elif first == name_field and plain_first and type(value) is str:
            shown = name_html  # the name, escaped already
        else:
            shown = escaped(value if plain_first else general(first, value).text)
        add(first_start)
        add(row_link_html(link + row_id, shown))
        for column, joint, cell in rest:
            add(joint)
            value = record.get(column)
            if not value and (value is None or value == "" or value == []):
                add(_BLANK_HTML)
            else:
                html = cell(value) if cell is not None else None
                add(html if html is not None else general(column, value).__html__())
        add(_ROW_END)
    add(TABLE_END)
    return Markup("".join(out))


def _compiled(ctx: Context, obj: CompiledObject, columns: list[str], lang: str) -> list[Cell]:
    cache: dict[tuple[str, tuple[str, ...], str], list[Cell]] = \
        ctx.schema.compiled.setdefault("list_cells", {})
    key = (obj.name, tuple(columns), lang)
    cells = cache.get(key)
    if cells is None:
        cells = cache[key] = [_cell(obj.fields.get(name), name, lang) for name in columns]
    return cells


def _cell(cf: CompiledField | None, name: str, lang: str) -> Cell:
    """A direct renderer for the widgets lists show most, else None (forms.display)."""
    widget = SYSTEM_WIDGETS.get(name, "text") if cf is None else forms.widget_of(cf)
    if widget not in _SPECIAL:
        return _plain
    if cf is not None and widget == "select":
        return _picklist({item.value: item.label.get(lang) for item in cf.fdef.values})
    if widget in NUMBER_WIDGETS:
        return _number(forms.scale_of(cf) if cf is not None else None, widget == "percent")
    if widget == "email":
        return _email
    return None


_plain = escaped  # a text as it is, escaped


def _picklist(labels: Mapping[Any, str]) -> Callable[[Any], str | None]:
    pills = {value: f'<span class="pill">{escaped(label)}</span>'
             for value, label in labels.items()}

    def cell(value: Any) -> str | None:
        # None: not a value of the list, shown as forms.display shows it
        return pills.get(value) if isinstance(value, str | int | bool) else None
    return cell


def _number(scale: int | None, percent: bool) -> Callable[[Any], str]:
    suffix = "%" if percent else ""
    step = None if scale is None else Decimal(1).scaleb(-scale)

    def cell(value: Any) -> str:
        if step is not None and type(value) is Decimal:  # as _decimal_text, without the
            # round trip through str; a number's text needs no escaping
            return f"{value.quantize(step, rounding=ROUND_HALF_UP):,f}{suffix}"
        return escaped(forms._decimal_text(value, scale, grouping=True) + suffix)
    return cell


def _email(value: Any) -> str:
    text = escaped(value)
    return f'<a href="mailto:{text}">{text}</a>'
