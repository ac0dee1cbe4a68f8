"""Calendar dates without a time (`"2026-11-23"`)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import fields as ma
from sqlalchemy import Date as SADate

from metabiz.formulas import FType
from metabiz.objects.fields.base import NOT_PLAIN, FieldType, register
from metabiz.platform.metadata.model import FieldDef, MetadataBundle

#: the plain JSON form of a date (the quick path of bulk writes)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: the ways text may write a date when it converts to one: `2020-02-29`, `2020/2/29`,
#: `2020.2.29`, `2020年2月29日`
DATE_TEXT = re.compile(r"(\d{4})(?:-(\d{2})-(\d{2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})"
                       r"|\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)")


@register
class Date(FieldType):
    name = "date"
    formula_type = FType.DATE
    widget = "date"
    converts_to = frozenset({"text", "datetime"})

    def column_type(self, f: FieldDef, bundle: MetadataBundle) -> SADate:
        return SADate()

    def marshmallow_field(self, f: FieldDef) -> ma.Field:
        return ma.Date(allow_none=True)

    def quick_load(self, f: FieldDef, value: Any) -> Any:
        if value is None:
            return None
        if type(value) is str and ISO_DATE.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return NOT_PLAIN
        return NOT_PLAIN

    def openapi(self, f: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date"}

    # -- schema evolution -------------------------------------------------------
    def as_text(self, f: FieldDef, value: Any) -> str | None:
        return None if value is None else value.isoformat()

    def from_text(self, f: FieldDef, text: str) -> Any:
        cleaned = text.strip()
        return parse_date_text(cleaned) if cleaned else None

    def convert(self, f: FieldDef, source: FieldType, old: FieldDef, value: Any) -> Any:
        if isinstance(value, dt.datetime):  # the UTC calendar day; the time is dropped
            return value.astimezone(dt.UTC).date()
        return super().convert(f, source, old, value)


def parse_date_text(text: str) -> dt.date:
    """A date written as DATE_TEXT describes (ValueError otherwise)."""
    match = DATE_TEXT.fullmatch(text)
    if match is None:
        raise ValueError("not a date (write it as 2020-02-29)")
    year, *rest = match.groups()
    month, day = [int(part) for part in rest if part is not None]
    try:
        return dt.date(int(year), month, day)
    except ValueError:
        raise ValueError(f"no such day: {text}") from None
