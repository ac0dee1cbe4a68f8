"""Automation triggers: which writes fire a rule, or when a time-based rule is due.

One class per kind with its JSON schema: created, updated, deleted, field_changed,
before_date and after_date (the last two are run by the worker, not by the write).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from metabiz.flows.definitions.model import TriggerDef
from metabiz.objects.context import WriteEvent

_SCHEMA = "https://metabiz.dev/schemas/v1/automation.json#/$defs/trigger"


class Trigger:
    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]] = {"$ref": _SCHEMA}
    #: run by the worker at a time relative to a date field
    scheduled: ClassVar[bool] = False

    def fires(self, event: WriteEvent) -> bool:
        return False


class Created(Trigger):
    name = "created"

    def fires(self, event: WriteEvent) -> bool:
        return event.kind == "created"


class Updated(Trigger):
    name = "updated"

    def fires(self, event: WriteEvent) -> bool:
        return event.kind == "updated"


class Deleted(Trigger):
    name = "deleted"

    def fires(self, event: WriteEvent) -> bool:
        return event.kind == "deleted"


class FieldChanged(Trigger):
    """An update changing one of the fields, or a new record giving one of them a value."""

    name = "field_changed"

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields

    def fires(self, event: WriteEvent) -> bool:
        if event.kind == "updated":
            return bool(event.changed() & set(self.fields))
        if event.kind == "created" and event.after is not None:
            return any(event.after.get(f) not in (None, "", ()) for f in self.fields)
        return False


class DateOffset(Trigger):
    """Due `days` (fractions allowed) before or after the value of a date/datetime field."""

    scheduled = True
    sign: ClassVar[int]

    def __init__(self, field: str, days: float) -> None:
        self.field = field
        self.days = days

    def due(self, values: Any) -> dt.datetime | None:
        value = values.get(self.field) if values is not None else None
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        elif isinstance(value, dt.date):
            moment = dt.datetime.combine(value, dt.time(), dt.UTC)
        else:
            return None
        return (moment + self.sign * dt.timedelta(days=float(self.days))).astimezone(dt.UTC)

    def passed(self, values: Any, now: dt.datetime) -> bool:
        """True when a run at `now` would be out of date: a reminder before a date that has
        already come (a late worker must not warn "due soon" after the date)."""
        return False


class BeforeDate(DateOffset):
    name = "before_date"
    sign = -1

    def passed(self, values: Any, now: dt.datetime) -> bool:
        due = self.due(values)
        if due is None:
            return False
        return now >= due + dt.timedelta(days=float(self.days)) and float(self.days) > 0


class AfterDate(DateOffset):
    name = "after_date"
    sign = 1


TRIGGERS: dict[str, type[Trigger]] = {cls.name: cls for cls in (
    Created, Updated, Deleted, FieldChanged, BeforeDate, AfterDate)}


def trigger(tdef: TriggerDef) -> Trigger:
    if tdef.kind == "field_changed":
        return FieldChanged(tdef.fields)
    if tdef.kind in ("before_date", "after_date"):
        assert tdef.date_field is not None
        cls: type[DateOffset] = BeforeDate if tdef.kind == "before_date" else AfterDate
        return cls(tdef.date_field, tdef.days)
    return TRIGGERS[tdef.kind]()
