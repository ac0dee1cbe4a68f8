"""Time zones: which IANA names are valid, the list users choose from, and datetimes moved
between UTC (as stored and sent by the API) and a user's zone (as pages show and take them).

A page shows `2026-11-08 13:30` in the user's zone (their setting, else the app's
`app.json` "timezone", else UTC); a form's `datetime-local` value is read in that zone and
sent to the record service as UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

UTC_NAME = "UTC"
#: offered first in the settings page's list (the rest follow alphabetically)
COMMON = ("UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore",
          "Asia/Tokyo", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
          "America/Chicago", "America/Denver", "America/Los_Angeles", "Australia/Sydney")


@functools.cache
def names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {UTC_NAME}


def is_zone(name: Any) -> bool:
    return isinstance(name, str) and name in names()


def choices() -> list[str]:
    """Every zone name, the common ones first."""
    rest = sorted(n for n in names() if n not in COMMON and "/" in n
                  and not n.startswith(("Etc/", "SystemV/", "posix/", "right/")))
    return [n for n in COMMON if n in names()] + rest


def zone(name: str | None) -> dt.tzinfo:
    """The zone of a name; UTC for None or a name this system does not know."""
    if name and name != UTC_NAME and is_zone(name):
        return zoneinfo.ZoneInfo(name)
    return dt.UTC


def zone_name(tz: dt.tzinfo) -> str:
    return getattr(tz, "key", None) or UTC_NAME


def parse_utc(value: Any) -> dt.datetime | None:
    """A stored or API datetime (aware, naive UTC, or ISO text ending in Z) as aware UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def local_text(value: Any, tz: dt.tzinfo) -> str | None:
    """`2026-11-08 13:30` in the zone, with the zone's abbreviation (`CST`, `UTC`)."""
    moment = parse_utc(value)
    if moment is None:
        return None
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone_name(tz)}"


def local_input(value: Any, tz: dt.tzinfo) -> str:
    """A datetime as a `datetime-local` input's value in the zone (`2026-11-08T13:30`)."""
    moment = parse_utc(value)
    return f"{moment.astimezone(tz):%Y-%m-%dT%H:%M}" if moment is not None else ""


def from_local_input(text: str, tz: dt.tzinfo) -> str:
    """A `datetime-local` value typed in the zone as UTC ISO text for the record service;
    text that is not a datetime, or carries its own offset, is passed on as it is (the
    service reports what is wrong with it)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if moment.tzinfo is not None:
        return text
    utc = moment.replace(tzinfo=tz).astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
