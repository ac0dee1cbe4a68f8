"""Points in time, stored in UTC and shown as `2026-11-23T08:00:00Z`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import fields as ma

from metabiz.formulas import FType
from metabiz.objects.fields.base import FieldType, register
from metabiz.objects.fields.date import DATE_TEXT, parse_date_text
from metabiz.platform.db import UTCDateTime, stored_utc
from metabiz.platform.metadata.model import FieldDef, MetadataBundle


@register
class DateTime(FieldType):
    name = "datetime"
    formula_type = FType.DATETIME
    widget = "datetime"
    converts_to = frozenset({"text", "date"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> UTCDateTime:
        return UTCDateTime()

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        # A value without an offset is taken as UTC.
        return ma.AwareDateTime(allow_none=True, default_timezone=dt.UTC)

    def normalise(self, f: FieldDef, value: Any) -> Any:
        return utc(value)

    def to_db(self, f: FieldDef, value: Any) -> Any:
        # the column type converts too; this keeps values compared with stored ones (unique
        # checks) in the stored form
        return None if value is None else stored_utc(value)

    def from_db(self, f: FieldDef, value: Any) -> Any:
        return utc(value)

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    # -- schema evolution -------------------------------------------------------
    def as_text(self, f: FieldDef, value: Any) -> str | None:
        moment = utc(value)
        if moment is None:
            return None
        return moment.replace(tzinfo=None).isoformat() + "Z"  # four-digit years, always

    def from_text(self, f: FieldDef, text: str) -> Any:
        cleaned = text.strip()
        if not cleaned:
            return None
        if DATE_TEXT.fullmatch(cleaned):  # a day alone is its midnight, UTC
            return dt.datetime.combine(parse_date_text(cleaned), dt.time(), dt.UTC)
        try:
            return utc(dt.datetime.fromisoformat(cleaned))
        except ValueError:
            raise ValueError("not a date and time (write it as 2020-02-29T17:05:00Z)") from None


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """An aware UTC datetime, as the runtime hands values around (naive values are stored UTC)."""
    if value is None:
        return None
    return stored_utc(value).replace(tzinfo=dt.UTC)
