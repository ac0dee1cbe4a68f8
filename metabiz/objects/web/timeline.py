"""The activity timeline on the record page, and the "log a follow-up" form above it.

A record panel (last in the side column): what `objects.activity` collects, with what other
packages registered as timeline sources (approvals), newest first.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from metabiz.errors import MetabizError
from metabiz.objects import activity, forms, record_scope
from metabiz.objects.context import Context
from metabiz.objects.fields import json_value
from metabiz.objects.schema import CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.auth import display_names
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required
from metabiz.platform.web.shell import extensions


def timeline_panel(ctx: Context, obj: CompiledObject, record: dict[str, Any]) -> str:
    lang = ctx.language
    entries = activity.timeline(ctx, obj.name, record["id"], extensions().timeline_sources)
    # as the rest of the page names them
    people: dict[Any, str] = display_names(ctx.conn, (e.by for e in entries))
    shown = [{"kind": e.kind, "title": e.title, "by": people.get(e.by, e.by),
              "detail": e.detail, "href": e.href,
              "at": forms.display(None, json_value(e.at), lang=lang, widget="datetime",
                                  zone=ctx.zone)}
             for e in entries]
    follow = obj.odef.follow_up
    creates = None
    # a detail record (a quote line) is worked on through its master: follow-ups go there
    can_log = not any(record.get(link) is not None for link, _ in record_scope.masters(obj))
    if follow is not None:
        child = ctx.schema.object(follow.object)
        creates = child.odef.label.get(lang)
        can_log = can_log and ctx.schema.access.allowed(ctx.actor, child.name, "create")
    return render_template("timeline.html", obj=obj, record=record, entries=shown,
                           can_log=can_log, creates=creates)


@web.post("/o/<object_name>/<record_id>/follow-up")
@login_required
def log_follow_up(actor: Actor, object_name: str, record_id: str) -> Any:
    back = url_for("objects_web.detail", object_name=object_name, record_id=record_id)
    try:
        with unit_of_work(actor, write=True) as ctx:
            activity.log_follow_up(ctx, object_name, record_id, request.form.get("text"))
    except MetabizError as err:
        messages = [i18n.message(m) for ms in err.fields.values() for m in ms]
        flash(" ".join(messages) if messages else err.message, "error")
    else:
        flash(i18n.text("follow_up_saved"), "success")
    return redirect(back + "#activity")
