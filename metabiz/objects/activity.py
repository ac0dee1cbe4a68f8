"""A record's activity timeline and "log a follow-up": field changes, claims, returns,
assignments, transfers, notes and related records in one stream, newest first.

Other packages add their events (approvals…) through `Extensions.timeline_sources`; a
follow-up creates the object's `follow_up` child record (a task), else a note in history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert

from metabiz.errors import ValidationError
from metabiz.objects import forms, query, records
from metabiz.objects.context import Context
from metabiz.objects.demo_data import DEMO_DATA_NOTE
from metabiz.objects.fields import json_value
from metabiz.objects.schema import CompiledObject
from metabiz.platform.db import field_history
from metabiz.platform.extensions import TimelineEntry, TimelineSource
from metabiz.platform.metadata.model import PoolDef
from metabiz.platform.metadata.reserved import POOL_COLUMN
from metabiz.platform.web.i18n import text as word

#: the history row of a note (kind "note") names this field
NOTE_FIELD = "_note"
#: related records shown per child object, and events in all
RELATED_PER_OBJECT = 20
MAX_ENTRIES = 100
MAX_NOTE = 5000


def timeline(ctx: Context, object_name: str, record_id: Any,
             sources: Sequence[TimelineSource] = ()) -> list[TimelineEntry]:
    """Everything that happened to a record the actor may read, newest first."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    values = records.load(ctx, obj, record_id)
    lang = ctx.language
    entries = [TimelineEntry(at=values["created_at"], kind="created", by=values["created_by"],
                             title=word("tl_created", lang, object=obj.odef.label.get(lang)))]
    entries += _from_history(ctx, obj, values)
    entries += _related(ctx, obj, values)
    for source in sources:
        entries += source(ctx, obj, values)
    # times are kept to the second: events of one second keep the order they happened in
    order = sorted(range(len(entries)), reverse=True,
                   key=lambda i: (_aware(entries[i].at).replace(microsecond=0), i))
    return [entries[i] for i in order[:MAX_ENTRIES]]


def log_follow_up(ctx: Context, object_name: str, record_id: Any, note: Any) -> dict[str, Any]:
    """Log what was done (a call, a visit): the object's follow-up record linked to this one,
    its date stamped on the record; a note in the history when the object declares none."""
    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "read")
    values = records.load(ctx, obj, record_id)
    if not isinstance(note, str) or not note.strip():
        raise ValidationError("say what you did", fields={"text": ["required"]})
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError("the follow-up is too long",
                              fields={"text": [f"at most {MAX_NOTE} characters"]})
    follow = obj.odef.follow_up
    if follow is None:
        ctx.conn.execute(insert(field_history).values(
            object=obj.name, record_id=values["id"], field=NOTE_FIELD, old_value=None,
            new_value=None, changed_by=ctx.actor.name, changed_at=ctx.naive_now(),
            kind="note", note=note))
        return {"kind": "note", "text": note}
    child = ctx.schema.object(follow.object)
    subject = child.fields[follow.subject].fdef
    limit = subject.max_length or 255 if subject.type == "text" else MAX_NOTE
    first = note.splitlines()[0].strip()
    data: dict[str, Any] = {**follow.values, follow.link: values["id"],
                            follow.subject: first if len(first) <= limit
                            else first[:limit - 1].rstrip() + "…"}
    if follow.text:
        data[follow.text] = note
    created = records.create(ctx, child.name, data)
    stamp = obj.fields.get(follow.stamp or "")
    access = ctx.schema.access
    if stamp is not None and not values.get("locked") and \
            access.allowed(ctx.actor, obj.name, "edit") and \
            access.field_rule(ctx.actor, obj.name, stamp.name) is None:
        now = ctx.now.astimezone(dt.UTC)
        value = now.date().isoformat() if stamp.fdef.type == "date" else \
            now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
        records.update(ctx, obj.name, values["id"], {stamp.name: value})
    return {"kind": "record", "object": child.name, "record": created}


def to_json(entry: TimelineEntry) -> dict[str, Any]:
    return {"at": json_value(_aware(entry.at)), "kind": entry.kind, "by": entry.by,
            "title": entry.title, "detail": entry.detail, "href": entry.href}


# -- the parts ---------------------------------------------------------------------------


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def shown_reason(pool: PoolDef | None, note: str | None, lang: str) -> str | None:
    """Why a record was returned to `pool`, in `lang`: the pool's reason's label, the demo
    data's own words, else the note as it was written."""
    reason = pool.reason(note) if pool is not None and note else None
    if reason is not None:
        return reason.label.get(lang)
    return word("reason_demo_data", lang) if note == DEMO_DATA_NOTE else note


def _from_history(ctx: Context, obj: CompiledObject,
                  values: Mapping[str, Any]) -> list[TimelineEntry]:
    """History rows as events: one per write (its changed fields together), claims,
    returns, assignments and transfers in words, notes with their text."""
    lang = ctx.language
    changes = records.history(ctx, obj.name, values["id"])
    names = _lookup_names(ctx, obj, changes)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for change in changes:
        groups.setdefault((change["at"], change["by"], change.get("kind")), []).append(change)
    out = []
    for (at, by, kind), rows in groups.items():
        when = dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
        fields = {r["field"]: r for r in rows}
        if kind == "note":
            for r in rows:
                out.append(TimelineEntry(when, "note", word("tl_note", lang), by, r.get("note")))
        elif kind in ("claim", "return", "assign", "transfer"):
            owner, pool = fields.get("owner"), fields.get(POOL_COLUMN)
            pool_name = (pool or {}).get("old" if kind in ("claim", "assign") else "new")
            found = obj.odef.pool(pool_name) if isinstance(pool_name, str) else None
            label = found.label.get(lang) if found else (pool_name or "")
            old_owner = (owner or {}).get("old")
            key = "tl_return_plain" if kind == "return" and old_owner in (None, "system") \
                else f"tl_{kind}"
            out.append(TimelineEntry(
                when, kind, word(key, lang, pool=label,
                                 old=(owner or {}).get("old") or "—",
                                 new=(owner or {}).get("new") or "—"),
                by, shown_reason(found, rows[0].get("note"), lang)))
        else:
            parts = [f"{forms.field_label(obj, r['field'], lang)}: "
                     f"{_shown(ctx, obj, r['field'], r['old'], names)} → "
                     f"{_shown(ctx, obj, r['field'], r['new'], names)}" for r in rows
                     if r["field"] != POOL_COLUMN]
            if parts:
                out.append(TimelineEntry(when, "change", word("tl_changed", lang), by,
                                         "; ".join(parts)))
    return out


def _shown(ctx: Context, obj: CompiledObject, name: str, value: Any,
           names: Mapping[tuple[str, Any], str]) -> str:
    if isinstance(value, dict) and "name" in value:  # a file: only the current one
        return str(value["name"])  # downloads, so the timeline names them
    cf = obj.fields.get(name)
    widget = None if cf is not None else forms.SYSTEM_WIDGETS.get(name, "text")
    shown = forms.display(cf, value, lang=ctx.language, names=names, widget=widget,
                          zone=ctx.zone)
    return shown.text or "—"


def _lookup_names(ctx: Context, obj: CompiledObject,
                  changes: Iterable[Mapping[str, Any]]) -> dict[tuple[str, Any], str]:
    wanted: dict[str, set[Any]] = {}
    for change in changes:
        cf = obj.fields.get(change["field"])
        if cf is not None and cf.ftype.widget == "lookup" and cf.fdef.target:
            wanted.setdefault(cf.fdef.target, set()).update(
                v for v in (change["old"], change["new"]) if v is not None)
    return forms.lookup_names(ctx, wanted)


def _related(ctx: Context, obj: CompiledObject,
             values: Mapping[str, Any]) -> list[TimelineEntry]:
    """The newest records of each child object pointing here (tasks, visits…), those the
    actor may read."""
    access, lang = ctx.schema.access, ctx.language
    out = []
    for child_name, link in obj.children:
        child = ctx.schema.object(child_name)
        if not access.allowed(ctx.actor, child.name, "read") or \
                access.field_rule(ctx.actor, child.name, link) == "hidden":
            continue
        found = query.list_records(ctx, child.name, filter=f"{link} = {values['id']}",
                                   sort="-created_at", limit=RELATED_PER_OBJECT)
        label = child.odef.label.get(lang)
        for record in found.records:
            at = dt.datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))
            out.append(TimelineEntry(
                at, "related", f"{label}: {forms.record_name(child, record, lang)}",
                record.get("owner") or record.get("created_by"), _summary(ctx, child, record),
                f"/o/{child.name}/{record['id']}"))
    return out


def _summary(ctx: Context, child: CompiledObject, record: Mapping[str, Any]) -> str | None:
    """A related record's picklists and dates, in a line (its status, its due date)."""
    lang, parts = ctx.language, []
    hidden = ctx.schema.access.hidden_fields(ctx.actor, child.name, child.fields)
    for cf in child.fields.values():
        if cf.name in hidden or cf.name == child.odef.name_field or \
                cf.fdef.type not in ("picklist", "date", "datetime") or record.get(cf.name) is None:
            continue
        shown = forms.display(cf, record[cf.name], lang=lang, zone=ctx.zone)
        parts.append(f"{cf.fdef.label.get(lang)}: {shown.text}")
    return " · ".join(parts[:3]) or None
