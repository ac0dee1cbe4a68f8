"""The kanban board (`/o/<object>?board=<picklist>`), moving a card to another column, and
the stage path a record page shows for its stage-like picklist.

A move goes through the record service (`objects.board.move`): validation rules, locking
and the version check apply; refusals come back worded for people, on the card when the
board's script moved it, as a flash message otherwise.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from metabiz.errors import (
    BadRequest,
    ConflictError,
    MetabizError,
    NotFound,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from metabiz.objects import board, forms
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.navigation import plural
from metabiz.objects.web.tables import list_columns, table_rows
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.request_input import whole_number
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required, safe_next

#: fields a card shows besides its name and the summed amount
CARD_FIELDS = 3


def board_page(actor: Actor, object_name: str) -> Any:
    """The board for `?board=<field>` (called by the list page for that parameter)."""
    args = request.args
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "read")
        field = board.board_field(ctx, obj, args.get("board"))
        total_of = board.sum_field(ctx, obj, args.get("sum"))
        view_name = args.get("view")
        view = obj.odef.list_view(view_name) if view_name else None
        if view_name and view is None:
            raise NotFound(f"{obj.name} has no list view named {view_name!r}")
        q = args.get("q", "").strip()[:200]
        sort = (view.sort if view else None) or "-updated_at"
        filter_ = view.filter if view else None
        shown = [n for n in list_columns(ctx, obj, view.columns if view else ())
                 if n not in (field.name, obj.odef.name_field,
                              total_of.name if total_of else None)][:CARD_FIELDS]
        can_edit = ctx.schema.access.allowed(actor, obj.name, "edit") and \
            ctx.schema.access.field_rule(actor, obj.name, field.name) is None
        columns = []
        for column in board.columns(ctx, obj, field, total_of, filter=filter_, q=q):
            found = board.cards(ctx, obj, field, column.value, filter=filter_, q=q, sort=sort)
            columns.append({
                "value": column.value, "count": column.count,
                "label": column.label or i18n.text("board_no_value"),
                "total": _total_text(ctx, obj, total_of, column.total),
                "raw_total": str(column.total) if column.total is not None else "",
                "cards": _cards(ctx, obj, found, shown, total_of), "more": column.count -
                len(found)})
        base: dict[str, Any] = {k: v for k, v in args.items() if k not in ("lang",) and v}
        return render_template(
            "board.html", obj=obj, label=obj.odef.label.get(lang), title=plural(obj, lang),
            field=field, field_label=field.fdef.label.get(lang), columns=columns, q=q,
            view=view.api_name if view else None, can_edit=can_edit,
            sum_label=total_of.fdef.label.get(lang) if total_of else None,
            scale=forms.scale_of(total_of) if total_of else 0,
            choices=[(cf.name, cf.fdef.label.get(lang)) for cf in board.board_fields(ctx, obj)],
            sum_choices=[(cf.name, cf.fdef.label.get(lang))
                         for cf in board.summable_fields(ctx, obj)],
            sum_name=total_of.name if total_of else None,
            here=url_for("objects_web.list_page", object_name=obj.name, **base), on_board=True,
            board_href=url_for("objects_web.list_page", object_name=obj.name, **base),
            list_href=url_for("objects_web.list_page", object_name=obj.name,
                              **{k: v for k, v in base.items() if k not in ("board", "sum")}),
            can_create=ctx.schema.access.allowed(actor, obj.name, "create"))


def _total_text(ctx: Context, obj: CompiledObject, total_of: Any,
                total: Decimal | None) -> str:
    if total_of is None or total is None:
        return ""
    return forms.display(total_of, total, lang=ctx.language).text


def _cards(ctx: Context, obj: CompiledObject, found: list[dict[str, Any]], shown: list[str],
           total_of: Any) -> list[dict[str, Any]]:
    rows = table_rows(ctx, obj, shown, found)
    lang = ctx.language
    # locked by a pending approval (administrators may still change them, as in records)
    locked = set() if ctx.actor.is_admin or not found else set(ctx.conn.execute(
        select(obj.table.c.id).where(obj.table.c.id.in_([r["id"] for r in found]),
                                     obj.table.c.locked.is_(True))).scalars())
    out = []
    for record, row in zip(found, rows, strict=True):
        amount = record.get(total_of.name) if total_of is not None else None
        out.append({
            "id": record["id"], "version": record["version"], "href": row["href"],
            "name": row["name"], "locked": record["id"] in locked,
            "amount": forms.display(total_of, amount, lang=lang) if total_of else None,
            "raw_amount": str(amount) if amount is not None else "0",
            "fields": [(forms.field_label(obj, n, lang), cell)
                       for n, cell in zip(shown, row["cells"], strict=True) if cell]})
    return out


@web.post("/o/<object_name>/<record_id>/move")
@login_required
def move_record(actor: Actor, object_name: str, record_id: str) -> Any:
    """Move a record to another value of a picklist (a board column or a stage of the path).

    The board's script asks for JSON: `{"id", "version"}`, or `{"error": {"code",
    "message"}}` with 409/422/403 worded for the card; a plain form redirects to `next`.
    """
    form = request.form
    raw_version = form.get("version", "").strip()
    version = whole_number(raw_version)
    back = safe_next(form.get("next")) or url_for(
        "objects_web.detail", object_name=object_name, record_id=record_id)
    wants_json = request.accept_mimetypes.best == "application/json"
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        labels = {n: forms.field_label(obj, n, ctx.language) for n in obj.fields}
    try:
        with unit_of_work(actor, write=True) as ctx:
            saved = board.move(ctx, obj.name, record_id, form.get("field", ""),
                               form.get("value", ""), version)
            name = forms.record_name(ctx.schema.object(obj.name), saved, ctx.language)
    except (ValidationError, ConflictError, PermissionDenied, BadRequest) as err:
        message = refusal(err, labels)
        if wants_json:
            response = jsonify({"error": {"code": err.code, "message": message}})
            response.status_code = err.status
            return response
        flash(message, "error")
        return redirect(back)
    if wants_json:
        return jsonify({"id": saved["id"], "version": saved["version"]})
    flash(i18n.text("moved", name=name), "success")
    return redirect(back)


def refusal(err: MetabizError, labels: dict[str, str]) -> str:
    """Why a move was refused, in the user's language, fields by their labels."""
    if isinstance(err, RecordLocked):
        approved = isinstance(err.details, dict) and err.details.get("locked") == "approved"
        return i18n.text("locked_approved" if approved else "locked_pending")
    if isinstance(err, ConflictError) and "version" in err.fields:
        return i18n.text("board_stale")
    if isinstance(err, ValidationError) and err.fields:
        return " ".join(i18n.message(m) if name not in labels
                        else f"{labels[name]}: {i18n.message(m)}"
                        for name, messages in err.fields.items() for m in messages)
    return err.message


def stage_path(ctx: Context, obj: CompiledObject, record: dict[str, Any],
               locked: bool) -> dict[str, Any] | None:
    """The chevrons of the record's stage-like picklist: done, current and later stages,
    each a button when the actor may move the record there."""
    field = board.stage_field(ctx, obj)
    if field is None:
        return None
    current = record.get(field.name)
    values = [v.value for v in field.fdef.values]
    position = values.index(current) if current in values else -1
    access = ctx.schema.access
    movable = not locked and access.allowed(ctx.actor, obj.name, "edit") and \
        access.field_rule(ctx.actor, obj.name, field.name) is None
    steps = [{"value": v.value, "label": v.label.get(ctx.language),
              "state": "current" if i == position else "done" if i < position else "todo"}
             for i, v in enumerate(field.fdef.values)]
    return {"field": field.name, "label": field.fdef.label.get(ctx.language), "steps": steps,
            "movable": movable, "version": record["version"],
            "action": url_for("objects_web.move_record", object_name=obj.name,
                              record_id=record["id"]),
            "board": url_for("objects_web.list_page", object_name=obj.name,
                             board=field.name)}

