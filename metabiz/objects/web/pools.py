"""Pages of public pools and owner transfer: the pool page, the record's owner card, and
the forms that claim, return, assign and transfer (one record, or many from a list).

Each form posts to a view here that calls `objects.pools` and redirects with a message
worded for people; the navigation lists the pools the user is a member of.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from metabiz.errors import ClaimLimitReached, MetabizError, NotFound, RecordLocked
from metabiz.objects import forms, pools, query, record_scope, records
from metabiz.objects.activity import shown_reason
from metabiz.objects.context import Context
from metabiz.objects.fields import json_value
from metabiz.objects.records import RECORD_KEY
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.navigation import kept_nav_links, plural
from metabiz.objects.web.tables import list_columns, table_rows
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import SYSTEM, Actor
from metabiz.platform.auth import display_names, list_users
from metabiz.platform.extensions import NavLink
from metabiz.platform.metadata.model import PoolDef
from metabiz.platform.request_input import MAX_PAGE, int_param
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required, safe_next

PAGE_SIZE = 25


def nav_links(actor: Actor) -> list[NavLink]:
    """One link per pool the user is a member or admin of."""
    lang = i18n.language()
    return kept_nav_links(actor, "pools", lambda ctx: [
        NavLink(href=url_for("objects_web.pool_page", object_name=ref.object_name,
                             pool_name=ref.pool.api_name),
                label=ref.pool.label.get(lang))
        for ref in pools.my_pools(ctx)])


def people(ctx: Context) -> list[dict[str, str]]:
    """The active users one may give a record to, by display name."""
    return [{"name": u.name, "label": f"{u.display_name} ({u.name})"
             if u.display_name and u.display_name != u.name else u.name}
            for u in list_users(ctx.conn) if u.active]


def can_transfer(ctx: Context, obj: CompiledObject) -> bool:
    """Whether a list offers to transfer its checked records (the edit right)."""
    return ctx.schema.access.allowed(ctx.actor, obj.name, "edit")


def reasons(pool: PoolDef, lang: str) -> list[dict[str, str]]:
    return [{"value": r.value, "label": r.label.get(lang)} for r in pool.return_reasons]


# -- the record's owner card ---------------------------------------------------------------


def owner_panel(ctx: Context, obj: CompiledObject, record: dict[str, Any]) -> str | None:
    """Who holds the record, and what the actor may do about it: claim or assign it from its
    pool, return it to a pool, transfer it to someone else (read-only while an approval
    locks it). A detail record has no owner of its own: its card names the master instead."""
    access, actor, lang = ctx.schema.access, ctx.actor, ctx.language
    master = master_of(ctx, obj, record)
    if master is not None:
        return render_template("owner_panel.html", obj=obj, record=record,
                               panel={"master": master})
    pool = obj.odef.pool(record.get("pool") or "") if obj.odef.pools else None
    locked = not actor.is_admin and _locked(ctx, obj, record["id"])
    can_edit = access.allowed(actor, obj.name, "edit") and not locked
    owner = record.get("owner")
    shown: dict[Any, str] = display_names(ctx.conn, [owner])
    panel: dict[str, Any] = {"owner": owner, "pool": None, "return": [],
                             "transfer": False, "people": [], "locked": locked,
                             "owner_label": shown.get(owner, owner)}
    if pool is not None:
        panel["pool"] = {"label": pool.label.get(lang), "name": pool.api_name,
                         "href": url_for("objects_web.pool_page", object_name=obj.name,
                                         pool_name=pool.api_name),
                         "claim": can_edit and access.pool_member(actor, obj.name, pool.api_name),
                         "assign": access.pool_admin(actor, obj.name, pool.api_name)}
    else:
        panel["transfer"] = can_edit
        panel["return"] = [{"name": p.api_name, "label": p.label.get(lang),
                            "reasons": reasons(p, lang)} for p in obj.odef.pools
                           if can_edit and (record.get("owner") == actor.name
                                            or access.pool_admin(actor, obj.name, p.api_name))]
    if panel["transfer"] or (panel["pool"] and panel["pool"]["assign"]):
        panel["people"] = people(ctx)
    return render_template("owner_panel.html", obj=obj, record=record, panel=panel)


def master_of(ctx: Context, obj: CompiledObject,
              record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The master a detail record follows (its owner and access are the master's): its
    object's label, its name and where it opens; None for a record of its own."""
    for link, target in record_scope.masters(obj):
        master_id = record.get(link)
        if master_id is None:
            continue
        names = forms.lookup_names(ctx, {target: {master_id}})
        master = ctx.schema.object(target)
        return {"object": master.odef.label.get(ctx.language),
                "name": names.get((target, master_id), f"#{master_id}"),
                "href": url_for("objects_web.detail", object_name=target,
                                record_id=master_id)}
    return None


def _locked(ctx: Context, obj: CompiledObject, record_id: int) -> bool:
    """Whether an approval locks the record (the page's record carries no `locked`)."""
    found = ctx.conn.execute(select(obj.table.c.locked).where(obj.table.c.id == record_id))
    return bool(found.scalar())


# -- the pool page -----------------------------------------------------------------------


@web.get("/pools/<object_name>/<pool_name>")
@login_required
def pool_page(actor: Actor, object_name: str, pool_name: str) -> Any:
    lang = i18n.language()
    q = request.args.get("q", "").strip()
    page = int_param("page", request.args.get("page"), 1, 1, MAX_PAGE)
    with unit_of_work(actor) as ctx:
        obj, pool = pools.pool_of(ctx, object_name, pool_name)
        view = obj.odef.list_views[0] if obj.odef.list_views else None
        columns = list_columns(ctx, obj, view.columns if view else (), skip=("owner",))
        found = query.list_records(ctx, obj.name, filter=pools.pool_filter(pool), q=q or None,
                                   sort="-updated_at", limit=PAGE_SIZE,
                                   offset=(page - 1) * PAGE_SIZE, rich=True)
        rows = table_rows(ctx, obj, columns, found.records)
        entries = pools.pool_entries(ctx, obj, [r["id"] for r in rows])
        known: dict[Any, str] = display_names(
            ctx.conn, (e.get("previous_owner") for e in entries.values()))
        for row in rows:
            entry = entries.get(row["id"], {})
            at = entry.get("at")
            row["since"] = forms.display(None, json_value(at.replace(tzinfo=dt.UTC)), lang=lang,
                                         widget="datetime", zone=ctx.zone) if at else None
            previous = entry.get("previous_owner")
            row["previous_owner"] = known.get(previous, previous) \
                if previous != SYSTEM.name else None
            row["reason"] = shown_reason(pool, entry.get("reason"), lang)
        access = ctx.schema.access
        admin = access.pool_admin(actor, obj.name, pool.api_name)
        held = pools.held_from(ctx, obj, pool.api_name, actor.name) \
            if pool.claim_limit is not None else None
        return render_template(
            "pool.html", obj=obj, pool=pool, label=pool.label.get(lang),
            object_label=plural(obj, lang), rows=rows, total=found.total, q=q, page=page,
            pages=max(1, math.ceil(found.total / PAGE_SIZE)),
            headers=[forms.field_label(obj, n, lang) for n in columns],
            can_claim=access.allowed(actor, obj.name, "edit"), admin=admin,
            people=_with_holdings(ctx, obj, pool) if admin else [], held=held,
            limit=pool.claim_limit)


def _with_holdings(ctx: Context, obj: CompiledObject, pool: PoolDef) -> list[dict[str, str]]:
    """The people an admin may assign to, each with how many records from the pool they
    hold against its claim limit (an admin may assign past it; the page then warns)."""
    choices = people(ctx)
    if pool.claim_limit is None:
        return choices
    held = pools.holdings(ctx, obj, pool.api_name)
    return [{**person, "label": i18n.text("person_holds", person=person["label"],
                                          held=held.get(person["name"], 0),
                                          limit=pool.claim_limit)} for person in choices]


@web.post("/pools/<object_name>/<pool_name>/claim")
@login_required
def claim(actor: Actor, object_name: str, pool_name: str) -> Any:
    back = url_for("objects_web.pool_page", object_name=object_name, pool_name=pool_name)
    try:
        with unit_of_work(actor, write=True) as ctx:
            obj, _ = pools.pool_of(ctx, object_name, pool_name)
            done = pools.claim(ctx, obj.name, request.form.get("id", ""))
            name = forms.record_name(obj, done, ctx.language)
    except ClaimLimitReached as err:
        flash(i18n.text("claim_limit", limit=err.details["limit"]), "error")
        return redirect(back)
    except NotFound as err:
        if "pool" in err.message:
            raise
        flash(i18n.text("claim_gone"), "error")
        return redirect(back)
    except MetabizError as err:
        flash(message(err), "error")
        return redirect(back)
    flash(i18n.text("claimed", name=name), "success")
    return redirect(url_for("objects_web.detail", object_name=object_name, record_id=done["id"]))


@web.post("/pools/<object_name>/<pool_name>/assign")
@login_required
def assign(actor: Actor, object_name: str, pool_name: str) -> Any:
    back = url_for("objects_web.pool_page", object_name=object_name, pool_name=pool_name)
    ids = request.form.getlist("ids")
    owner = request.form.get("owner", "").strip()
    if not ids:
        flash(i18n.text("choose_records"), "error")
        return redirect(safe_next(request.form.get("next")) or back)
    try:
        with unit_of_work(actor, write=True) as ctx:
            obj, _ = pools.pool_of(ctx, object_name, pool_name)
            # all or nothing: one failure rolls every one back
            done = pools.assign_many(ctx, obj.name, ids, owner)
            lang = ctx.language
            known = display_names(ctx.conn, [owner, *(a.owner for a in done.above_limit)])
    except MetabizError as err:
        flash(message(err), "error")
    else:
        flash(i18n.text("assigned", count=len(done.records), owner=known.get(owner, owner)),
              "success")
        for above in done.above_limit:  # allowed for admins, but they should know
            flash(i18n.text("above_claim_limit", owner=known.get(above.owner, above.owner),
                            held=above.held,
                            limit=above.limit, pool=above.pool.label.get(lang)), "warning")
    return redirect(safe_next(request.form.get("next")) or back)


# -- returning and transferring --------------------------------------------------------------


@web.post("/o/<object_name>/<record_id>/return")
@login_required
def return_record(actor: Actor, object_name: str, record_id: str) -> Any:
    detail = url_for("objects_web.detail", object_name=object_name, record_id=record_id)
    try:
        with unit_of_work(actor, write=True) as ctx:
            done = pools.return_to_pool(ctx, object_name, record_id,
                                        reason=request.form.get("reason") or None,
                                        pool=request.form.get("pool") or None)
            obj = ctx.schema.object(object_name)
            pool = obj.odef.pool(done["pool"])
            assert pool is not None
            label = pool.label.get(ctx.language)
    except MetabizError as err:
        flash(message(err), "error")
        return redirect(detail)
    flash(i18n.text("returned", pool=label), "success")
    return redirect(url_for("objects_web.pool_page", object_name=object_name,
                            pool_name=done["pool"]))


@web.post("/o/<object_name>/<record_id>/transfer")
@login_required
def transfer(actor: Actor, object_name: str, record_id: str) -> Any:
    detail = url_for("objects_web.detail", object_name=object_name, record_id=record_id)
    owner = request.form.get("owner", "").strip()
    try:
        with unit_of_work(actor, write=True) as ctx:
            (done,) = pools.transfer(ctx, object_name, [record_id], owner)
            obj = ctx.schema.object(object_name)
            name = forms.record_name(obj, done, ctx.language)
            still_visible = records_visible(ctx, obj, done["id"])
            owner = display_names(ctx.conn, [owner]).get(owner, owner)
    except MetabizError as err:
        flash(message(err), "error")
        return redirect(detail)
    flash(i18n.text("transferred", name=name, owner=owner), "success")
    if still_visible:
        return redirect(detail)
    return redirect(url_for("objects_web.list_page", object_name=object_name))


@web.post("/o/<object_name>/transfer")
@login_required
def transfer_many(actor: Actor, object_name: str) -> Any:
    back = safe_next(request.form.get("next")) or url_for("objects_web.list_page",
                                                          object_name=object_name)
    ids = request.form.getlist("ids")
    owner = request.form.get("owner", "").strip()
    if not ids:
        flash(i18n.text("choose_records"), "error")
        return redirect(back)
    try:
        with unit_of_work(actor, write=True) as ctx:
            pools.transfer(ctx, object_name, ids, owner)
            owner = display_names(ctx.conn, [owner]).get(owner, owner)
    except MetabizError as err:
        flash(i18n.text("transfer_failed") + " " + message(err), "error")
    else:
        flash(i18n.text("transferred_many", count=len(ids), owner=owner), "success")
    return redirect(back)


def records_visible(ctx: Context, obj: CompiledObject, record_id: int) -> bool:
    try:
        records.load(ctx, obj, record_id)
    except NotFound:
        return False
    return True


def message(err: MetabizError) -> str:
    """A refusal in the user's words: the field messages when there are any."""
    if isinstance(err, RecordLocked):
        approved = isinstance(err.details, dict) and err.details.get("locked") == "approved"
        return i18n.text("locked_approved" if approved else "locked_pending")
    parts = [i18n.message(m) for name, messages in err.fields.items() for m in messages
             if name in (RECORD_KEY, "owner", "reason", "ids", "pool")]
    return " ".join(parts) if parts else err.message
