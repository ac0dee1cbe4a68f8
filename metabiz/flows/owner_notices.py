"""Telling people a record became theirs: a pool admin assigned it to them, a colleague
transferred it, or an assignment rule or a flow's `assign` action gave it to them — a
notification in the new owner's language naming who did it, as a write listener.

Several records handed to one person in one go (a bulk transfer or assignment) make one
notification listing them, not one each. An assignment rule giving a record to the person
whose write ran it tells no one (flows.assignment.set_owner leaves such a change unmarked).
Claims (the user took it) and returns (nobody owns
it) tell no one; the `notify` action of automation covers anything else.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from metabiz.flows import directory, notifications
from metabiz.flows.assignment import FLOW_CHANGES, RULE_CHANGE
from metabiz.flows.compiled import CompiledFlows, flows_of
from metabiz.flows.store import jobs
from metabiz.objects.context import Context, WriteEvent
from metabiz.platform.db import field_history
from metabiz.platform.metadata.reserved import POOL_COLUMN

#: the records a grouped notification names before "…"
NAMED = 5
#: (subject, one record, several records) of each change that hands records to someone
TEXTS: dict[str, dict[str, tuple[str, str, str]]] = {
    "assign": {
        "en": ("{object} assigned to you",
               "{actor} assigned you {object} {name} from {pool}.",
               "{actor} assigned you {count} {object} records from {pool}: {names}."),
        "zh": ("{object}已分配给你",
               "{actor}把{pool}中的{object}“{name}”分配给了你。",
               "{actor}把{pool}中的{count}条{object}分配给了你：{names}。"),
    },
    "transfer": {
        "en": ("{object} transferred to you",
               "{actor} transferred {object} {name} to you.",
               "{actor} transferred {count} {object} records to you: {names}."),
        "zh": ("{object}已转交给你",
               "{actor}把{object}“{name}”转交给了你。",
               "{actor}把{count}条{object}转交给了你：{names}。"),
    },
    RULE_CHANGE: {
        "en": ("{object} assigned to you",
               "The assignment rule {rule} assigned you {object} {name}.",
               "The assignment rule {rule} assigned you {count} {object} records: {names}."),
        "zh": ("{object}已分配给你",
               "分配规则“{rule}”把{object}“{name}”分配给了你。",
               "分配规则“{rule}”把{count}条{object}分配给了你：{names}。"),
    },
    "automation": {
        "en": ("{object} assigned to you",
               "The automation rule {rule} assigned you {object} {name}.",
               "The automation rule {rule} assigned you {count} {object} records: {names}."),
        "zh": ("{object}已分配给你",
               "自动化规则“{rule}”把{object}“{name}”分配给了你。",
               "自动化规则“{rule}”把{count}条{object}分配给了你：{names}。"),
    },
    "approval": {
        "en": ("{object} assigned to you",
               "The approval flow {rule} assigned you {object} {name}.",
               "The approval flow {rule} assigned you {count} {object} records: {names}."),
        "zh": ("{object}已分配给你",
               "审批流程“{rule}”把{object}“{name}”分配给了你。",
               "审批流程“{rule}”把{count}条{object}分配给了你：{names}。"),
    },
}
#: the changes a rule or flow made (history note: its name), and how to find it by name
MARKED = {RULE_CHANGE: CompiledFlows.assignment_rule,
          "automation": CompiledFlows.automation_rule,
          "approval": CompiledFlows.approval_flow}
assert set(MARKED) == {RULE_CHANGE, *FLOW_CHANGES}


def on_write(ctx: Context, event: WriteEvent) -> None:
    """Notify the new owner of a record assigned (by an admin, a rule or a flow) or
    transferred to them (not the one who did it)."""
    texts = TEXTS.get(event.change or "")
    if texts is None or event.before is None or event.after is None:
        return
    owner = event.after.get("owner")
    if not owner or owner == event.actor.name or owner == event.before.get("owner") \
            or event.object not in ctx.schema.objects:
        return
    obj = ctx.schema.object(event.object)
    pool = obj.odef.pool(event.before.get(POOL_COLUMN) or "") if obj.odef.pools else None
    name_field = obj.odef.name_field
    name: Any = event.after.get(name_field) if name_field else None
    name = str(name) if name not in (None, "") else f"#{event.record_id}"
    marked_by = MARKED.get(event.change or "")
    rule = _rule_of(ctx, event) if marked_by else None
    key = ("owner_notice", event.change, owner, obj.name, pool.api_name if pool else rule)
    batch = ctx.cache.get(key)
    if batch is None:
        lang = directory.language_of(ctx.conn, owner)
        batch = ctx.cache[key] = {"lang": lang if lang in texts else "en", "names": [],
                                  "job": None}
    batch["names"].append(name)
    lang = batch["lang"]
    compiled_rule = marked_by(flows_of(ctx.schema), rule) if marked_by and rule else None
    words = {"actor": event.actor.display_name or event.actor.name,
             "object": obj.odef.label.get(lang), "name": name,
             "pool": pool.label.get(lang) if pool is not None else "",
             "rule": compiled_rule.label.get(lang) if compiled_rule else (rule or ""),
             "count": len(batch["names"]), "names": _names(batch["names"], lang)}
    source = (f"{event.change} by {event.actor.name}" if not rule else
              f"assignment rule {rule}" if event.change == RULE_CHANGE else
              f"{event.change} {rule}")
    subject, one, several = texts[lang]
    message = (one if len(batch["names"]) == 1 else several).format(**words)
    if batch["job"] is None:
        batch["job"] = notifications.send(
            ctx.conn, [owner], now=ctx.now, subject=subject.format(**words), message=message,
            object_name=obj.name, record_id=event.record_id,
            source=source)
        return
    # the same unit of work handed them another: one notification names them all
    payload = {"users": [owner], "subject": subject.format(**words), "message": message,
               "object": obj.name, "record_id": None,
               "source": source}
    ctx.conn.execute(update(jobs).where(jobs.c.id == batch["job"]).values(payload=payload))


def _rule_of(ctx: Context, event: WriteEvent) -> str | None:
    """The name of the rule or flow that just changed the record's owner (its history
    row's note)."""
    return ctx.conn.execute(
        select(field_history.c.note)
        .where(field_history.c.object == event.object,
               field_history.c.record_id == event.record_id,
               field_history.c.kind == event.change)
        .order_by(field_history.c.id.desc()).limit(1)).scalar()


def _names(names: list[str], lang: str) -> str:
    shown = names[:NAMED]
    if lang == "zh":
        return "、".join(f"“{n}”" for n in shown) + ("等" if len(names) > NAMED else "")
    return ", ".join(shown) + (" …" if len(names) > NAMED else "")
