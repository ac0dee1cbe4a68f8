"""The unit of work: one transaction's connection, schema and actor, and the write events
its listeners (automation, approvals) are handed inside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from metabiz.objects.schema import RuntimeSchema
from metabiz.platform import zones
from metabiz.platform.access import Actor


@dataclass(frozen=True)
class WriteEvent:
    """What a write did, handed to listeners (automation, approvals) inside the transaction."""

    kind: str  # created | updated | deleted
    object: str
    record_id: int
    before: Mapping[str, Any] | None  # Python values incl. formulas (None when created)
    after: Mapping[str, Any] | None  # None when deleted
    actor: Actor
    #: what kind of change an update was, when it had one: claim, return, assign, transfer
    change: str | None = None

    def changed(self) -> set[str]:
        if self.before is None or self.after is None:
            return set()
        return {k for k in self.after if self.before.get(k) != self.after.get(k)}


Listener = Callable[["Context", WriteEvent], None]
#: called with (Context, records.Draft) before validation: before-save rules
BeforeSave = Callable[["Context", Any], None]


@dataclass
class Context:
    """One unit of work: a connection inside a transaction, the schema, the actor."""

    conn: Connection
    schema: RuntimeSchema
    actor: Actor
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    listeners: tuple[Listener, ...] = ()
    before_save: tuple[BeforeSave, ...] = ()
    #: set by flows acting on their own (e.g. approval actions may write a locked record)
    bypass_lock: bool = False
    #: what one unit of work computes once (the actor's field refusals per object)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def language(self) -> str:
        return self.actor.language

    @property
    def zone(self) -> dt.tzinfo:
        """Where the actor's datetimes are shown and entered: their own time zone, else the
        app's (app.json "timezone"), else UTC."""
        app = self.schema.bundle.app
        return zones.zone(self.actor.timezone or (app.timezone if app is not None else None))

    def naive_now(self) -> dt.datetime:
        return self.now.astimezone(dt.UTC).replace(tzinfo=None)


#: `Connection.info` key: how many changes to stored records the connection has made
_RECORD_WRITES = "metabiz_record_writes"


def note_record_write(conn: Connection) -> None:
    """Count a change to stored records (an insert, an update, a delete, a system value;
    roll-ups follow one of these) made on `conn` by any unit of work on it."""
    info = conn.info
    info[_RECORD_WRITES] = info.get(_RECORD_WRITES, 0) + 1


def record_writes(conn: Connection) -> int:
    """How many changes to stored records `conn` has made (only ever grows): equal before
    and after the write listeners ran, they changed no record (records.create's answer
    needs no reading back)."""
    return conn.info.get(_RECORD_WRITES, 0)  # type: ignore[no-any-return]
