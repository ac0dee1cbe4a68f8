"""Telling people a record became theirs: a pool admin assigned it to them, or a colleague
transferred it — a notification in the new owner's language, as a write listener.

Claims (the user took it) and returns (nobody owns it) tell no one; the `notify` action of
automation covers anything else a team wants to hear about.
"""

from __future__ import annotations

from typing import Any

from metabiz.flows import directory, notifications
from metabiz.objects.context import Context, WriteEvent
from metabiz.platform.metadata.reserved import POOL_COLUMN

#: (subject, message) of each change that hands a record to someone, per language
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "assign": {
        "en": ("{object} assigned to you",
               "{actor} assigned you {object} {name} from {pool}."),
        "zh": ("{object}已分配给你", "{actor}把{pool}中的{object}“{name}”分配给了你。"),
    },
    "transfer": {
        "en": ("{object} transferred to you", "{actor} transferred {object} {name} to you."),
        "zh": ("{object}已转交给你", "{actor}把{object}“{name}”转交给了你。"),
    },
}


def on_write(ctx: Context, event: WriteEvent) -> None:
    """Notify the new owner of an assigned or transferred record (not the one who did it)."""
    texts = TEXTS.get(event.change or "")
    if texts is None or event.before is None or event.after is None:
        return
    owner = event.after.get("owner")
    if not owner or owner == event.actor.name or owner == event.before.get("owner") \
            or event.object not in ctx.schema.objects:
        return
    obj = ctx.schema.object(event.object)
    lang = directory.language_of(ctx.conn, owner)
    lang = lang if lang in texts else "en"
    pool = obj.odef.pool(event.before.get(POOL_COLUMN) or "") if obj.odef.pools else None
    name_field = obj.odef.name_field
    name: Any = event.after.get(name_field) if name_field else None
    words = {"actor": event.actor.display_name or event.actor.name,
             "object": obj.odef.label.get(lang),
             "name": name if name not in (None, "") else f"#{event.record_id}",
             "pool": pool.label.get(lang) if pool is not None else ""}
    subject, message = texts[lang]
    notifications.send(ctx.conn, [owner], now=ctx.now, subject=subject.format(**words),
                       message=message.format(**words), object_name=obj.name,
                       record_id=event.record_id, source=f"{event.change} by {event.actor.name}")
