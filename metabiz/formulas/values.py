"""Formula values in Python: blanks, exact decimals, UTC datetimes, and JSON conversion.

Numbers are `Decimal`, datetimes aware UTC, times `datetime.time` (to the millisecond),
locations `Location`, links and images `links.Link`/`links.Image`, multi-picklists
tuples; `None` is blank and empty text counts as blank too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import FType
from metabiz.formulas.limits import NUMBER_DIGITS, in_range, too_large
from metabiz.formulas.links import Image, Link, make_image, make_link

DATETIME_TEXT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
TIME_TEXT = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?Z?$")
#: what VALUE reads and ISNUMBER accepts: a sign, digits (with "," separators), a decimal
#: point, an exponent, and spaces, tabs or newlines around (the same pattern runs in SQL)
NUMBER_TEXT = r"\A[ \t\r\n]*[+-]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\r\n]*\Z"
_NUMBER_TEXT = re.compile(NUMBER_TEXT)
DAY_MS = 86_400_000


# int(Decimal) and Decimal(int) cost more than a dict look-up: the whole numbers formulas
# use most (counts, digits, days, months, years) are converted through these tables.
# Decimal(2) hashes and compares like 2, so a Decimal finds its int directly.
_INTS: dict[Any, int] = {i: i for i in range(-400, 3001)}
#: whole numbers as Decimals without a Decimal() per use (compiled formulas read it inline)
DECIMALS: dict[int, Decimal] = {i: Decimal(i) for i in range(-400, 3001)}


def as_int(value: Decimal) -> int:
    """int(value), truncating towards zero; an evaluation error for a number beyond
    limits.MAX_NUMBER (int() of 1e999999 would take a minute)."""
    found = _INTS.get(value)
    if found is not None:
        return found
    if not in_range(value):
        raise too_large("a whole number argument")
    return int(value)


def as_decimal(value: int) -> Decimal:
    found = DECIMALS.get(value)
    return Decimal(value) if found is None else found


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == ()


@dataclass(frozen=True)
class Location:
    """GEOLOCATION(latitude, longitude), in degrees; TEXT() writes "31.2304,121.4737"."""

    latitude: Decimal
    longitude: Decimal

    def __str__(self) -> str:
        return f"{format_number(self.latitude)},{format_number(self.longitude)}"


def normaliser(ftype: FType | None) -> Callable[[Any], Any]:
    """How a value read from a record becomes a formula value of `ftype`."""
    if ftype in (FType.TIME, FType.LOCATION, FType.LINK, FType.IMAGE):
        def rich(value: Any) -> Any:
            return None if value is None or value == "" else from_json_value(value, ftype)

        return rich
    if ftype is FType.NUMBER:
        return lambda v: v if v is None or isinstance(v, Decimal) else to_decimal(v)
    if ftype is FType.DATETIME:
        return lambda v: utc(v) if isinstance(v, dt.datetime) else v
    if ftype in (FType.TEXT, FType.PICKLIST):
        return lambda v: None if v == "" else v
    if ftype is FType.MULTI_PICKLIST:
        return normalise_multi
    return lambda v: v


def normalise_multi(value: Any) -> tuple[str, ...] | None:
    """A multi-picklist as a tuple; no values is blank."""
    if isinstance(value, list | tuple):
        return tuple(value) or None
    return value or None


def to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise FormulaError("expected a number, got true/false", kind="eval")
    if isinstance(value, int):
        return Decimal(value)
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise FormulaError(f"{value!r} is not a number", kind="eval") from None
    if not in_range(number):  # JSON's 1e999 is infinity; "NaN" reads as a Decimal too
        raise FormulaError(f"{value!r} is not a number below 10^{NUMBER_DIGITS}", kind="eval")
    return number


def utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_date(text: str, function: str = "DATEVALUE") -> dt.date:
    text = text.strip()
    match = DATE_TEXT.match(text)
    if match:
        try:
            return dt.date(*(int(g) for g in match.groups()))
        except ValueError:
            raise FormulaError(f"{function}: {text} is not a valid date", kind="eval") from None
    return parse_datetime(text, function).date()


def parse_datetime(text: str, function: str = "DATETIMEVALUE") -> dt.datetime:
    text = text.strip()
    match = DATETIME_TEXT.match(text)
    if not match:
        date_only = DATE_TEXT.match(text)
        if date_only:
            return dt.datetime.combine(parse_date(text, function), dt.time(), dt.UTC)
        raise FormulaError(f"{function}: {text!r} is not a date and time "
                           "(use 2020-02-29 17:05:00Z)", kind="eval")
    y, mo, d, h, mi, s, frac, zone = match.groups()
    try:
        tz = dt.UTC
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        value = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0),
                            int((frac or "0").ljust(6, "0")), tzinfo=tz)
    except ValueError:
        raise FormulaError(f"{function}: {text} is not a valid date and time",
                           kind="eval") from None
    return value.astimezone(dt.UTC)


def is_number_text(text: str) -> bool:
    return _NUMBER_TEXT.search(text) is not None


def parse_number_text(text: str, function: str = "VALUE") -> Decimal:
    """A number written as text (NUMBER_TEXT), FormulaError otherwise."""
    if not is_number_text(text):
        raise FormulaError(f"{function}: {text!r} is not a number", kind="eval")
    return Decimal(text.strip(" \t\r\n").replace(",", ""))


def parse_time(text: str, function: str = "TIMEVALUE") -> dt.time:
    """17:30, 17:30:45 or 17:30:45.125 (a trailing Z is allowed): a time to the millisecond."""
    match = TIME_TEXT.match(text.strip())
    if match:
        h, mi, s, frac = match.groups()
        try:
            return dt.time(int(h), int(mi), int(s or 0), int((frac or "0")[:3].ljust(3, "0")) * 1000)
        except ValueError:
            pass
    raise FormulaError(f"{function}: {text!r} is not a time of day (use 17:30:45)",
                       kind="eval")


def time_of_ms(ms: int) -> dt.time:
    """The time `ms` milliseconds after midnight (wrapping around a day)."""
    seconds, milli = divmod(ms % DAY_MS, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return dt.time(hour, minute, second, milli * 1000)


def ms_of_time(value: dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 \
        + value.microsecond // 1000


def format_time(value: dt.time) -> str:
    """17:30:45, and 17:30:45.125 when there are milliseconds."""
    text = value.strftime("%H:%M:%S")
    milli = value.microsecond // 1000
    return f"{text}.{milli:03d}" if milli else text


def format_datetime(value: dt.datetime) -> str:
    return utc(value).replace(microsecond=0, tzinfo=None).isoformat(" ") + "Z"


def format_number(value: Decimal) -> str:
    """A number as TEXT() writes it: plain digits, no trailing zeros ("1250.5", "3")."""
    text = format(value.normalize() if value else Decimal(0), "f")
    return "0" if text in ("-0", "") else text


def as_text(value: Any) -> str | None:
    """A formula value as text, as TEXT() gives it (blank stays blank)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, tuple | list):
        return ";".join(str(v) for v in value) or None
    return str(value) or None  # text, and Location, Link and Image (their URL)


class ExactNumber(float):
    """A decimal with more digits than a float keeps (`1234567890123456.78`): a float to
    any JSON writer, and the exact digits (`exact`) to the API's, which writes them all."""

    exact: Decimal

    def __new__(cls, value: Decimal) -> ExactNumber:
        number = super().__new__(cls, value)
        number.exact = value
        return number

    def __repr__(self) -> str:  # what Decimal(repr(x)) and marshmallow's str(x) read
        return format(self.exact, "f")

    __str__ = __repr__


def exact_float(text: str) -> float:
    """A JSON number's text as a float, an ExactNumber when a float would lose digits (a
    JSON reader's `parse_float`)."""
    number = float(text)
    if Decimal(repr(number)) == Decimal(text):
        return number
    return ExactNumber(Decimal(text))


def to_json_value(value: Any, ftype: FType | None = None) -> Any:
    """A formula value as JSON: exact numbers, `2026-11-23`, `2026-11-23T08:00:00Z`, lists."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        number = float(value)
        return number if Decimal(repr(number)) == value else ExactNumber(value)
    if isinstance(value, dt.datetime):  # isoformat: years before 1000 keep four digits
        return utc(value).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return format_time(value)
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, Location):
        return {"latitude": float(value.latitude), "longitude": float(value.longitude)}
    if isinstance(value, Link | Image):
        return value.url
    return value


def from_json_value(raw: Any, ftype: FType) -> Any:
    """A JSON value as the formula value of a field of type `ftype` (ValueError if it is not)."""
    if raw is None:
        return None
    try:
        if ftype is FType.NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise ValueError(f"{raw!r} is not a number")
            return to_decimal(raw)
        if ftype is FType.BOOLEAN:
            if not isinstance(raw, bool):
                raise ValueError(f"{raw!r} is not true or false")
            return raw
        if ftype is FType.DATE:
            return parse_date(str(raw), "date")
        if ftype is FType.DATETIME:
            return parse_datetime(str(raw), "datetime")
        if ftype in (FType.TIME, FType.LOCATION, FType.LINK, FType.IMAGE):
            return _rich_from_json(raw, ftype)
        if ftype is FType.MULTI_PICKLIST:
            if isinstance(raw, str):
                raw = [p for p in raw.split(";") if p]
            if not isinstance(raw, list):
                raise ValueError(f"{raw!r} is not a list")
            return tuple(str(v) for v in raw)
        if not isinstance(raw, str):
            raise ValueError(f"{raw!r} is not text")
        return raw
    except FormulaError as err:
        raise ValueError(err.message) from None


def _rich_from_json(raw: Any, ftype: FType) -> Any:
    if ftype is FType.TIME:
        if isinstance(raw, dt.time):
            return raw.replace(microsecond=raw.microsecond // 1000 * 1000, tzinfo=None)
        return parse_time(str(raw), "time")
    if ftype is FType.LOCATION:
        if isinstance(raw, Location):
            return raw
        if not isinstance(raw, Mapping) or {"latitude", "longitude"} - set(raw):
            raise ValueError(f"{raw!r} is not a location (latitude and longitude)")
        return Location(to_decimal(raw["latitude"]), to_decimal(raw["longitude"]))  # type: ignore[arg-type]
    if isinstance(raw, Link | Image):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"{raw!r} is not a URL")
    made = make_link(raw, None) if ftype is FType.LINK else make_image(raw, None)
    if made is None:
        raise ValueError(f"{raw!r} is not a safe URL")
    return made
