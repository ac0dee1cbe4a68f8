"""Between the record service's JSON and what the pages show: form data, inputs, display text.

Posted forms become JSON input per widget (blank → null, checkboxes → booleans, lists,
lookup ids as integers, datetimes typed in the user's time zone sent as UTC); records become
input values and display text (datetimes in the user's time zone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from metabiz.formulas import ExactNumber, FType, Image, Link, Location, from_json_value
from metabiz.formulas.values import format_number
from metabiz.objects import record_scope, reference_rules
from metabiz.objects.context import Context
from metabiz.objects.fields.base import FieldType, field_type
from metabiz.objects.records import Resolver, compute, record_key
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.platform import zones
from metabiz.platform.auth import display_names
from metabiz.platform.metadata.model import FieldDef
from metabiz.platform.web.i18n import message, text

#: system fields a list or detail page may show, with their widget for display
SYSTEM_WIDGETS = {"id": "number", "owner": "user", "created_at": "datetime",
                  "created_by": "user", "updated_at": "datetime", "updated_by": "user",
                  "version": "number", "approval_status": "approval_status"}
TRUE_TEXTS = frozenset({"true", "on", "1", "yes"})
#: widgets whose value is a number (input type=number)
NUMBER_WIDGETS = frozenset({"number", "currency", "percent"})
#: how formula results show, by return type
FORMULA_WIDGETS = {"currency": "currency", "percent": "percent", "number": "number",
                   "boolean": "checkbox", "date": "date", "datetime": "datetime",
                   "text": "text", "time": "time", "location": "location", "link": "link",
                   "image": "image"}
#: widgets of file and image fields (uploaded as multipart, shown as links / thumbnails)
FILE_WIDGETS = frozenset({"file", "image_upload"})
#: the prefix of a form's "remove this file" checkbox (never an api_name)
REMOVE_FILE = "_remove_"
#: the prefix of a lookup's visible search input (never an api_name: those start a-z)
LOOKUP_SEARCH = "_lookup_"


@dataclass(frozen=True)
class Shown:
    """A value as a page shows it: the text, an optional link, and how to style it."""

    text: str  # escaped when shown, unless it is Markup (an image)
    href: str | None = None
    kind: str = "text"  # text | blank | bool | multiline | badge | link | number | image

    def __bool__(self) -> bool:
        return self.kind != "blank"

    def __html__(self) -> str:
        """The markup of macros.html's `value(shown)`, without a macro call per cell (a
        list page has 150): tests/objects/test_record_readers.py holds them equal."""
        shown, kind = escape(self.text), self.kind
        if kind == "blank":
            return '<span class="blank" aria-label="—">—</span>'
        if self.href:
            return f'<a href="{escape(self.href)}">{shown}</a>'
        if kind == "badge":
            return f'<span class="pill">{shown}</span>'
        if kind.startswith("status-"):
            return f'<span class="status {escape(kind)}">{shown}</span>'
        if kind == "bool":
            yes = "yes" if self.text == text("yes") else "no"
            return f'<span class="bool bool-{yes}">{shown}</span>'
        if kind == "multiline":
            return f'<span class="multiline">{shown}</span>'
        return str(shown)


BLANK = Shown("", kind="blank")


@dataclass
class FieldView:
    """Everything a widget macro needs to render one field of a form."""

    name: str
    label: str
    widget: str
    value: Any  # str for most widgets, bool for checkbox, list for multiselect
    required: bool = False
    help: str | None = None
    errors: list[str] = field(default_factory=list)
    read_only: str | None = None  # None, or why: "computed" | "role"
    shown: Shown = BLANK  # the value as text, for read-only fields
    options: list[tuple[str, str]] = field(default_factory=list)
    target: str | None = None  # lookup target object
    target_label: str = ""
    lookup_text: str = ""  # the chosen record's name, shown in the lookup's search box
    source: str = ""  # the form's object (a lookup's type-ahead applies its `match`)
    include: str = ""  # CSS selector of the inputs a lookup's `match` reads
    users: list[str] | None = None  # a user field limited to `roles`: the users it may hold
    accept: str = ""  # a file input's accepted extensions (`.pdf,.txt`)
    step: str | None = None
    min: Any = None
    max: Any = None
    max_length: int | None = None
    zone: str | None = None  # a datetime's time zone, named beside the input


@dataclass
class SectionView:
    label: str
    columns: int
    fields: list[Any]


# -- metadata helpers ------------------------------------------------------------------


def widget_of(cf: CompiledField) -> str:
    """The widget a field renders with (formula results by their return type)."""
    if cf.fdef.type == "formula":
        return FORMULA_WIDGETS.get(cf.fdef.return_type or "text", "text")
    if cf.fdef.type == "rollup":
        # the latest visit (MAX of a datetime) is a datetime, not a number
        summarised = cf.summarised
        if cf.fdef.function in ("min", "max") and summarised is not None and \
                summarised.type in ("date", "datetime"):
            return summarised.type
        return "rollup"
    return cf.ftype.widget


def scale_of(cf: CompiledField) -> int | None:
    if cf.fdef.type == "rollup":
        # a count is whole; sum/min/max/avg show the scale of the field they summarise
        if cf.fdef.function == "count" or cf.summarised is None:
            return 0 if cf.fdef.function == "count" else None
        return _scale_of_def(cf.summarised)
    return _scale_of_def(cf.fdef, cf.ftype)


def _scale_of_def(fdef: FieldDef, ftype: FieldType | None = None) -> int | None:
    if fdef.scale is not None:
        return fdef.scale
    default = getattr(ftype or field_type(fdef.type), "default_scale", None)
    if default is not None:
        return int(default)
    if fdef.type == "formula" and fdef.return_type in ("currency", "percent"):
        return 2
    return None


def field_label(obj: CompiledObject, name: str, lang: str) -> str:
    cf = obj.fields.get(name)
    if cf is not None:
        return cf.fdef.label.get(lang)
    return text(f"sys_{name}", lang) if name in SYSTEM_WIDGETS else name


def record_name(obj: CompiledObject, record: Mapping[str, Any], lang: str = "en") -> str:
    """What a record is called: its name field, else the object's label and id."""
    name_field = obj.odef.name_field
    value = record.get(name_field) if name_field else None
    if value not in (None, ""):
        return str(value)
    return f"{obj.odef.label.get(lang)} #{record.get('id')}"


def picklist_label(cf: CompiledField, value: Any, lang: str) -> str:
    for item in cf.fdef.values:
        if item.value == value:
            return item.label.get(lang)
    return str(value)


# -- record → page -----------------------------------------------------------------------


def to_input(cf: CompiledField, value: Any, zone: dt.tzinfo = dt.UTC) -> Any:
    """A JSON field value as a form input's value (a datetime in the user's `zone`)."""
    widget = widget_of(cf)
    if widget == "checkbox":
        return bool(value)
    if widget == "multiselect":
        return list(value or [])
    if widget in FILE_WIDGETS:
        return value if isinstance(value, dict) else None
    if value is None:
        return ""
    if widget == "datetime":
        return zones.local_input(value, zone) or str(value)
    if widget in NUMBER_WIDGETS:
        return _decimal_text(value, scale_of(cf), grouping=False)
    return str(value)


def display(cf: CompiledField | None, value: Any, *, lang: str,
            names: Mapping[tuple[str, Any], str] | None = None, widget: str | None = None,
            readable: Iterable[str] = (), zone: dt.tzinfo = dt.UTC) -> Shown:
    """A JSON field value as text for list and detail pages (picklist labels, names...);
    datetimes in the user's `zone`."""
    widget = widget or (widget_of(cf) if cf is not None else "text")
    if value is None or value == "" or value == []:
        return BLANK
    if widget == "checkbox":
        return Shown(text("yes" if value else "no", lang), kind="bool")
    if widget == "select" and cf is not None:
        return Shown(picklist_label(cf, value, lang), kind="badge")
    if widget == "multiselect" and cf is not None:
        return Shown(", ".join(picklist_label(cf, v, lang) for v in value))
    if widget == "approval_status":
        return Shown(text(f"status_{value}", lang), kind=f"status-{value}")
    if widget == "user":
        return Shown((names or {}).get((USERS, value)) or str(value))
    if widget == "lookup" and cf is not None:
        target = cf.fdef.target or ""
        name = (names or {}).get((target, value))
        href = f"/o/{target}/{value}" if target in set(readable) else None
        return Shown(name if name is not None else f"#{value}", href=href, kind="link")
    if widget in NUMBER_WIDGETS or widget == "rollup":
        scale = scale_of(cf) if cf is not None else None
        if widget == "rollup" and isinstance(value, float) and scale is None:
            scale = 2
        shown = _decimal_text(value, scale, grouping=True)
        return Shown(shown + ("%" if widget == "percent" else ""), kind="number")
    if widget == "datetime":
        local = zones.local_text(value, zone)
        return Shown(local if local is not None else str(value))
    if widget == "url":
        return Shown(str(value), href=str(value), kind="link")
    if widget == "email":
        return Shown(str(value), href=f"mailto:{value}", kind="link")
    if widget == "tel":
        return Shown(str(value), href=f"tel:{value}", kind="link")
    if widget == "textarea":
        return Shown(str(value), kind="multiline")
    if widget in ("link", "image", "time", "location"):
        return _formula_value(widget, value)
    if widget in FILE_WIDGETS and isinstance(value, dict):
        return _stored_file(value)
    return Shown(str(value))


def _stored_file(value: Mapping[str, Any]) -> Shown:
    """A file links to its download; an image shows its thumbnail, linking to the picture."""
    url, name = str(value.get("url", "")), str(value.get("name", ""))
    if not url.startswith("/"):
        return Shown(name)
    if "thumbnail_url" in value:
        return Shown(Markup('<a class="file-image" href="{}"><img class="thumb" src="{}" '
                            'alt="{}" loading="lazy"></a>').format(
            url, value["thumbnail_url"], name), kind="image")
    return Shown(name, href=url, kind="link")


def _formula_value(widget: str, value: Any) -> Shown:
    """Values only formulas give: a link shows its label (HYPERLINK), an image the image;
    a URL that could run script (`javascript:`) never shows. Times show HH:MM:SS."""
    if widget in ("link", "image"):
        ftype = FType.LINK if widget == "link" else FType.IMAGE
        try:  # a value from the API is only the URL: checked again, shown as itself
            rich = value if isinstance(value, Link | Image) else from_json_value(value, ftype)
        except ValueError:
            return BLANK
        if isinstance(rich, Link):
            return Shown(rich.label, href=rich.url, kind="link")
        return Shown(Markup(rich.__html__()), kind="image")  # escaped by Image itself
    if widget == "time":
        return Shown(str(value)[:8])
    try:
        where = value if isinstance(value, Location) else from_json_value(value, FType.LOCATION)
    except ValueError:
        return Shown(str(value))
    return Shown(f"{format_number(where.latitude)}, {format_number(where.longitude)}")


def _decimal_text(value: Any, scale: int | None, *, grouping: bool) -> str:
    try:
        number = value.exact if isinstance(value, ExactNumber) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if scale is not None:
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    elif number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return f"{number:,f}" if grouping else f"{number:f}"


#: `wanted_lookups`' and `lookup_names`' key for users (no object is named so): a user field
#: shows the user's display name
USERS = "@users"


def lookup_names(ctx: Context, wanted: Mapping[str, set[Any]], *,
                 scoped: bool = False) -> dict[tuple[str, Any], str]:
    """The names of referenced records, {(object, id): name}, one query per target object;
    users' display names as {(USERS, user name): display name}.

    Like formulas that follow a lookup, and as Salesforce does, a name shows even when the
    record itself is outside the actor's record scope or its object is one they may not
    read: only the name (never another field; a name field hidden from the role shows
    none), the record stays closed to them.
    `scoped`: only records in the actor's scope, for ids that come from the request
    (`?account=7`), which anyone can walk through, rather than from a record they may read.
    """
    out: dict[tuple[str, Any], str] = {}
    resolver = Resolver(ctx)
    for target, ids in wanted.items():
        if target == USERS:
            out.update(((USERS, name), shown)
                       for name, shown in display_names(ctx.conn, ids).items())
            continue
        ids = {i for i in ids if isinstance(i, int)}
        obj = ctx.schema.objects.get(target)
        if not ids or obj is None or \
                scoped and not ctx.schema.access.allowed(ctx.actor, target, "read"):
            continue
        name_field = obj.odef.name_field
        if name_field and ctx.schema.access.field_rule(ctx.actor, target, name_field) == "hidden":
            continue
        query = select(obj.table).where(obj.table.c.id.in_(sorted(ids)))
        if scoped:
            query = query.where(*record_scope.conditions(ctx.schema, ctx.actor, obj))
        rows = ctx.conn.execute(query)
        for row in rows.mappings():
            values = obj.decode(row)
            if name_field and obj.fields[name_field].formula is not None:
                values = compute(ctx, obj, values, resolver)
            shown = display(obj.fields.get(name_field or ""), _json(obj, name_field, values),
                            lang=ctx.language) if name_field else BLANK
            out[(target, values["id"])] = shown.text or record_name(obj, values, ctx.language)
    return out


def _json(obj: CompiledObject, name: str | None, values: Mapping[str, Any]) -> Any:
    if not name:
        return None
    cf = obj.fields[name]
    return cf.ftype.to_json(cf.fdef, values.get(name))


def wanted_lookups(obj: CompiledObject, records: Iterable[Mapping[str, Any]],
                   names: Iterable[str]) -> dict[str, set[Any]]:
    """The lookup targets and ids that `records` reference through the fields `names`, and
    the users their user fields hold (under USERS)."""
    wanted: dict[str, set[Any]] = {}
    for name in names:
        cf = obj.fields.get(name)
        if (SYSTEM_WIDGETS.get(name) if cf is None else widget_of(cf)) == "user":
            held = {record.get(name) for record in records} - {None, ""}
            if held:
                wanted.setdefault(USERS, set()).update(held)
            continue
        if cf is None or cf.ftype.widget != "lookup" or not cf.fdef.target:
            continue
        for record in records:
            value = record.get(name)
            if value is not None:
                wanted.setdefault(cf.fdef.target, set()).add(value)
    return wanted


# -- page → record -----------------------------------------------------------------------


def parse(obj: CompiledObject, form: MultiDict[str, str], names: Iterable[str],
          zone: dt.tzinfo = dt.UTC) -> dict[str, Any]:
    """Posted form data → JSON input for the record service, for the fields in `names`
    (datetimes typed in the user's `zone`, sent as UTC).

    Only fields present in the form are set (a checkbox or multi-select posts an empty
    companion value so that "nothing ticked" is told apart from "not on the form").
    """
    data: dict[str, Any] = {}
    for name in names:
        cf = obj.fields.get(name)
        if cf is None or name not in form:
            continue
        values = form.getlist(name)
        widget = widget_of(cf)
        if widget == "checkbox":
            data[name] = any(v.strip().lower() in TRUE_TEXTS for v in values)
        elif widget == "multiselect":
            chosen = [v for v in values if v.strip()]
            data[name] = chosen or None
        else:
            data[name] = _scalar(widget, values[-1])
            if widget == "datetime" and isinstance(data[name], str):
                data[name] = zones.from_local_input(data[name], zone)
    return data


def _scalar(widget: str, raw: str) -> Any:
    value = raw.strip() if widget != "textarea" else raw
    if not value.strip():
        return None
    if widget == "lookup":
        key = record_key(value)
        return value if key is None else key
    if widget in NUMBER_WIDGETS:
        return value.replace(",", "").replace(" ", "").removesuffix("%")
    return value


def kept_input(obj: CompiledObject, form: MultiDict[str, str],
               names: Iterable[str]) -> dict[str, Any]:
    """What the user typed, as input values, to show the form again after an error."""
    out: dict[str, Any] = {}
    for name in names:
        cf = obj.fields.get(name)
        if cf is None or name not in form:
            continue
        widget = widget_of(cf)
        values = form.getlist(name)
        if widget == "checkbox":
            out[name] = any(v.strip().lower() in TRUE_TEXTS for v in values)
        elif widget == "multiselect":
            out[name] = [v for v in values if v.strip()]
        else:
            out[name] = values[-1]
    return out


def prefill(obj: CompiledObject, args: MultiDict[str, str], names: Iterable[str]) -> dict[str, Any]:
    """Input values given in the query string of a "new" page (`?account=7`)."""
    return kept_input(obj, args, names)


# -- building the form -------------------------------------------------------------------


def field_view(ctx: Context, obj: CompiledObject, cf: CompiledField, value: Any, *,
               errors: Mapping[str, list[str]], read_only: str | None, shown: Shown = BLANK,
               lookup_text: str = "") -> FieldView:
    lang = ctx.language
    fdef = cf.fdef
    widget = widget_of(cf)
    view = FieldView(name=cf.name, label=fdef.label.get(lang), widget=widget, value=value,
                     required=fdef.required and read_only is None,
                     help=fdef.help.get(lang) if fdef.help else None,
                     errors=[message(m, lang) for m in errors.get(cf.name, [])],
                     read_only=read_only, shown=shown, lookup_text=lookup_text,
                     max_length=fdef.max_length if widget in ("text", "email", "url", "tel")
                     else None)
    if widget in ("select", "multiselect"):
        view.options = [(v.value, v.label.get(lang)) for v in fdef.values]
    if widget in NUMBER_WIDGETS:
        scale = scale_of(cf) or 0
        view.step = "1" if scale == 0 else "0." + "0" * (scale - 1) + "1"
        view.min, view.max = fdef.min, fdef.max
    if widget == "datetime":
        view.zone = zones.zone_name(ctx.zone)
    if widget == "lookup" and fdef.target:
        target = ctx.schema.objects.get(fdef.target)
        view.target = fdef.target
        view.target_label = target.odef.label.get(lang) if target else fdef.target
        view.source = obj.name if fdef.match else ""
        view.include = ", ".join(f"[name={mine}]" for _, mine in fdef.match
                                 if isinstance(mine, str))
    if widget in FILE_WIDGETS:
        view.accept = ",".join("." + a.lower().lstrip(".") for a in fdef.accept) or \
            ("image/*" if widget == "image_upload" else "")
    if widget == "user" and fdef.roles:
        view.users = reference_rules.allowed_users(ctx, fdef)
    return view
