"""Formula value types and the catalog of fields (and business calendars) a formula may use.

The checker asks a `Catalog` about fields, and a `CalendarCatalog` also about calendars;
the runtime supplies one built from metadata, tests and the CLI use `DictCatalog`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from metabiz.formulas.calendars import Calendar


class FType(enum.Enum):
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    PICKLIST = "picklist"
    MULTI_PICKLIST = "multi_picklist"
    TIME = "time"  # a time of day (TIMEVALUE, TIMENOW), shown HH:MM:SS
    LOCATION = "location"  # GEOLOCATION(latitude, longitude)
    LINK = "link"  # HYPERLINK(url, label): a link on pages, its URL in the API
    IMAGE = "image"  # IMAGE(url, alt): an image on pages, its URL in the API
    NULL = "null"  # the type of the literal NULL: compatible with anything
    #: a business calendar named in NETWORKDAYS / WORKDAY (an argument, never a value)
    CALENDAR = "calendar"

    @property
    def label(self) -> str:
        """How messages name the type."""
        return {"null": "blank", "multi_picklist": "multi-picklist"}.get(self.value, self.value)


@dataclass(frozen=True)
class FieldSpec:
    """What the checker needs to know about one field."""

    name: str
    type: FType
    target: str | None = None  # object a dotted reference traverses into (lookups)
    picklist_values: tuple[str, ...] = ()


class Catalog(Protocol):
    def field(self, object_name: str, field_name: str) -> FieldSpec | None: ...


@runtime_checkable
class CalendarCatalog(Catalog, Protocol):
    """A catalog that also knows the app's business calendars (app.json "calendars").

    NETWORKDAYS and WORKDAY name a calendar; against a catalog without `calendar`, every
    calendar name is unknown."""

    def calendar(self, name: str) -> Calendar | None: ...


def calendar_of(catalog: Catalog, name: str) -> Calendar | None:
    """The calendar called `name`, or None (unknown, or a catalog without calendars)."""
    return catalog.calendar(name) if isinstance(catalog, CalendarCatalog) else None


class DictCatalog:
    """A catalog over `{object: {field: FieldSpec}}` and `{name: Calendar}` (tests, CLI)."""

    def __init__(self, mapping: Mapping[str, Mapping[str, FieldSpec]],
                 calendars: Mapping[str, Calendar] | None = None) -> None:
        self._mapping = {o: dict(f) for o, f in mapping.items()}
        self._calendars = dict(calendars or {})

    def field(self, object_name: str, field_name: str) -> FieldSpec | None:
        return self._mapping.get(object_name, {}).get(field_name)

    def calendar(self, name: str) -> Calendar | None:
        return self._calendars.get(name)


TEXTLIKE = frozenset({FType.TEXT, FType.PICKLIST})
#: values that `=` and `<>` cannot compare (compare DISTANCE or the URL instead)
UNCOMPARABLE = frozenset({FType.LOCATION, FType.LINK, FType.IMAGE, FType.CALENDAR})


def accepts(allowed: frozenset[FType], found: FType) -> bool:
    """Whether an argument of type `found` may stand where one of `allowed` is expected."""
    if found is FType.NULL or found in allowed:
        return True
    return found is FType.PICKLIST and FType.TEXT in allowed


def unify(a: FType, b: FType) -> FType | None:
    """The common type of two branches (IF, CASE, BLANKVALUE), or None if they clash."""
    if a is FType.NULL:
        return b
    if b is FType.NULL or a is b:
        return a
    if a in TEXTLIKE and b in TEXTLIKE:
        return FType.TEXT
    return None
