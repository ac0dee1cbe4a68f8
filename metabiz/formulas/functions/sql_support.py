"""The dialect differences the SQL back end needs, in one small place (SQLite, PostgreSQL).

On SQLite, dates are 'YYYY-MM-DD' text and datetimes are handled as Julian day numbers,
so that arithmetic and comparisons are plain numbers; on PostgreSQL they are native types.
SQLite numbers are binary floats: `exact` and `exact_sum` round computed values back to
the 15 significant digits a double holds, so that `0.1 + 0.2 = 0.3` there too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Numeric,
    String,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import Integer as SAInteger
from sqlalchemy.sql.elements import BindParameter, ColumnClause, Grouping, Null
from sqlalchemy.sql.selectable import CTE, Select
from sqlalchemy.sql.visitors import replacement_traverse

from metabiz.formulas.ftypes import TEXTLIKE, FType

TEXTISH = TEXTLIKE | {FType.MULTI_PICKLIST}
#: values held as text in SQL: links and images as their URL, locations as "lat,lon"
TEXT_HELD = TEXTISH | {FType.LINK, FType.IMAGE, FType.LOCATION}
DAY_MS = 86_400_000
#: julianday('0001-01-01') - 1: a SQLite date's day number is julianday(date) - this
ORDINAL_JULIAN = 1721424.5


E = TypeVar("E")


class NeverNull:
    """The boolean expressions of one compilation known never to be NULL, so that `truthy`
    leaves them as they are: a condition wrapped in COALESCE is one no index can serve, and
    each COALESCE nests the SQL one level deeper (SQLite's parser has room for about 30).

    Held by the SQL compiler for one formula and handed to the functions' SQL (`SqlCall`);
    known by identity: it keeps the expressions, so no other one takes their id meanwhile.
    """

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, Any] = {}

    def mark(self, expr: E) -> E:
        """`expr`, known from now on never to be NULL."""
        self._known[id(expr)] = expr
        return expr

    def __contains__(self, expr: object) -> bool:
        return self._known.get(id(expr)) is expr


def truthy(expr: Any, known: NeverNull) -> Any:
    """A boolean that is never NULL: blank counts as false (IF, AND, OR, NOT, filters)."""
    if expr in known:
        return expr
    return known.mark(func.coalesce(expr, false()))


def negate(expr: Any, known: NeverNull) -> Any:
    """NOT expr, parenthesised: SQLAlchemy writes `NOT x IS NULL`, which means NOT (x IS NULL)."""
    negated = Grouping(not_(expr))
    return known.mark(negated) if expr in known else negated


def is_null_literal(expr: Any) -> bool:
    return isinstance(expr, Null)


def number_literal(value: Decimal, dialect: str) -> Any:
    if dialect == "sqlite":
        return literal(int(value) if value == value.to_integral_value() else float(value))
    return literal(value, Numeric())


def text_literal(value: str) -> Any:
    return literal(value, String())


def blank_text(expr: Any) -> Any:
    """Text with blank as ''."""
    return func.coalesce(expr, literal(""))


def numeric(expr: Any, dialect: str) -> Any:
    """Make sure division and rounding do not run as integer arithmetic."""
    if dialect == "sqlite":
        return expr * literal(1.0)
    return cast(expr, Numeric())


def exact(expr: Any, dialect: str) -> Any:
    """A computed number rid of binary-float noise (SQLite; PostgreSQL numerics are exact).

    SQLite writes a real as text with 15 significant digits, so the round trip turns
    0.30000000000000004 back into 0.3; NULL stays NULL. The text is read back by
    multiplying it (as CAST(… AS REAL) would, one level of nesting less: SQLite's parser
    has room for about 30, and formulas over formulas nest these deeply).
    """
    if dialect == "sqlite":
        return type_coerce(cast(expr, Text()) * literal(1.0), Float())
    return expr


#: decimals a SQLite sum keeps when its operands are computed (see exact_sum)
SUM_DECIMALS = 10


def exact_sum(values: list[Any], signs: list[int], dialect: str, *, simple: bool,
              skip_blanks: bool = False) -> Any:
    """Σ sign·value: blank if any value is blank (with skip_blanks: blank values count as
    0, and the caller decides what all-blank gives).

    On SQLite, cancellation leaves float noise in a small difference of large operands
    (24.95 - 24 = 0.9499999999999993). When the operands are `simple` (columns and
    literals, cheap to name twice) the sum is rounded to the 15 significant digits a
    double holds *of the largest operand*; otherwise to SUM_DECIMALS decimals, which
    stored values (at most 4 decimals) and their sums fit while operands stay below 1e5.
    """
    terms = [func.coalesce(v, literal(0)) if skip_blanks else v for v in values]
    total: Any = None
    for term, sign in zip(terms, signs, strict=True):
        if total is None:
            total = term if sign > 0 else -term
        else:
            total = total + term if sign > 0 else total - term
    if dialect != "sqlite":
        return total
    if not simple:
        return exact(func.round(total, SUM_DECIMALS), dialect)
    largest = func.max(*(func.abs(t) for t in terms), literal(1))
    # log10 of a number >= 1 is >= 0: the cast truncates like floor (SQLAlchemy replaces
    # SQLite's floor() by Python's math.floor, which fails on NULL)
    decimals = literal(14) - cast(func.log10(largest), SAInteger())
    return exact(func.round(total, decimals), dialect)


#: whole-number arguments (counts, positions, months, days) are held to this range, as far
#: beyond any text or date as 10^20 is, so that RIGHT(name, 10^20) gives the whole name
#: (not "integer out of range" on PostgreSQL, nor SQLite's substr overflowing), and sums
#: like months + 12 * year stay within 32 bits
INTEGER_RANGE = (-1_000_000_000, 1_000_000_000)


def integer(expr: Any, dialect: str, *, never_blank: bool = False) -> Any:
    """Truncate towards zero, as Python's int() does (held to INTEGER_RANGE)."""
    if dialect == "sqlite":
        # SQLite's CAST holds to 64 bits; its min() and max() are NULL for a NULL argument
        low_bound, high_bound = INTEGER_RANGE
        return func.max(func.min(cast(expr, SAInteger()), literal(high_bound)),
                        literal(low_bound))
    low, high = (literal(bound, Numeric()) for bound in INTEGER_RANGE)

    def held(value: Any) -> Any:
        number = func.trunc(cast(value, Numeric()))
        if never_blank:  # GREATEST and LEAST skip NULLs: only for values that are never NULL
            return cast(func.greatest(func.least(number, high), low), SAInteger())
        return cast(case((number > high, high), (number < low, low), else_=number),
                    SAInteger())

    if never_blank or isinstance(expr, ColumnClause | BindParameter | Null):
        return held(expr)
    # a computed value, named once: CASE reads it three times
    return bind([expr], held)


def greatest(a: Any, b: Any, dialect: str) -> Any:
    """The larger of two non-blank values."""
    return func.max(a, b) if dialect == "sqlite" else func.greatest(a, b)


def power_of_ten(digits: Any, dialect: str) -> Any:
    return func.pow(literal(10), digits) if dialect == "sqlite" \
        else func.power(literal(10, Numeric()), digits)


def position(search: Any, text: Any, dialect: str) -> Any:
    """1-based position of search in text (0 when absent); blank text is ''."""
    search, text = blank_text(search), blank_text(text)
    return func.instr(text, search) if dialect == "sqlite" else func.strpos(text, search)


def equal(left: Any, right: Any, lt: FType | None, rt: FType | None, known: NeverNull) -> Any:
    """`=` as the formula language means it: blank equals blank (and "") and never NULL."""
    if lt in TEXTISH or rt in TEXTISH:
        return known.mark(blank_text(left) == blank_text(right))
    if lt is FType.NULL or is_null_literal(left):
        return known.mark(right.is_(None))
    if rt is FType.NULL or is_null_literal(right):
        return known.mark(left.is_(None))
    return known.mark(or_(and_(left.is_(None), right.is_(None)), truthy(left == right, known)))


def date_literal(value: dt.date, dialect: str) -> Any:
    if dialect == "sqlite":
        return literal(value.isoformat(), String())
    return literal(value, Date())


def datetime_literal(value: dt.datetime, dialect: str) -> Any:
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    if dialect == "sqlite":
        return func.julianday(literal(naive.strftime("%Y-%m-%d %H:%M:%S.%f"), String()))
    return literal(naive, DateTime())


def datetime_column(expr: Any, dialect: str) -> Any:
    """A stored datetime as the back end's working representation."""
    return func.julianday(expr) if dialect == "sqlite" else expr


def add_days_to_date(date: Any, days: Any, dialect: str) -> Any:
    if dialect == "sqlite":  # NULL past 9999-12-31, as Python's error
        return func.date(date, cast(integer(days, dialect), String()).concat(literal(" days")))

    def shifted(start: Any, count: Any) -> Any:
        moved = start + count
        return case((moved.between(literal(dt.date.min, Date()), literal(dt.date.max, Date())),
                     moved), else_=None)

    return bind([date, integer(days, dialect)], shifted)


def add_days_to_datetime(value: Any, days: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return value + days
    return value + cast(days, Float()) * literal_column("interval '1 day'")


def days_between_dates(a: Any, b: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return exact(func.julianday(a) - func.julianday(b), dialect)
    return a - b


def days_between_datetimes(a: Any, b: Any, dialect: str) -> Any:
    if dialect == "sqlite":
        return exact(a - b, dialect)
    return func.extract("epoch", a - b) / literal(86400, Numeric())


def date_part(part: str, value: Any, dialect: str) -> Any:
    """year/month/day/hour/minute/second/dow/doy of a date or datetime, as an integer
    (second: whole seconds)."""
    if dialect == "sqlite":
        fmt = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M",
               "second": "%S", "dow": "%w", "doy": "%j"}[part]
        return cast(func.strftime(fmt, value), SAInteger())
    if part == "second":
        return cast(func.floor(func.extract(part, value)), SAInteger())
    return cast(func.extract(part, value), SAInteger())


def make_date(year: Any, month: Any, day: Any, dialect: str) -> Any:
    """DATE(year, month, day); NULL for a day that does not exist (Python: an error)."""
    if dialect == "sqlite":
        # date() keeps '2020-02-30' as it is but a modifier rolls it over to March:
        # a real date is one that survives '+0 days' unchanged
        text = func.printf(literal("%04d-%02d-%02d"), year, month, day)
        valid = and_(func.date(text, literal("+0 days")) == text, text >= literal("0001-01-01"))
        return case((valid, text), else_=None)
    y, m, d = (integer(v, dialect) for v in (year, month, day))
    first = func.make_date(y, m, literal(1))
    value = first + (d - literal(1))
    in_range = and_(y.between(1, 9999), m.between(1, 12), d.between(1, 31))
    same_month = cast(func.extract("month", value), SAInteger()) == m
    return case((in_range, case((same_month, value), else_=None)), else_=None)


def date_of_datetime(value: Any, dialect: str) -> Any:
    return func.date(value) if dialect == "sqlite" else cast(value, Date())


def datetime_of_date(value: Any, dialect: str) -> Any:
    return func.julianday(value) if dialect == "sqlite" else cast(value, DateTime())


def months_in_range(value: Any, count: Any, dialect: str) -> Any:
    """Whether the month `count` months on from value's is in 0001 … 9999."""
    total = date_part("year", value, dialect) * 12 + date_part("month", value, dialect) - 1
    return (total + count).between(12, 12 * 10000 - 1)


def add_months(value: Any, months: Any, is_datetime: bool, dialect: str) -> Any:
    """ADDMONTHS: the same day of the month, clamped to the target month's last day; from
    a month's last day, the target month's last day."""
    count = integer(months, dialect)
    if dialect == "postgresql":
        month: Any = literal_column("interval '1 month'")
        day: Any = literal_column("interval '1 day'")
        start = func.date_trunc("month", value)
        at_month_end = cast(func.extract("day", value + day), SAInteger()) == 1
        month_end = start + (count + 1) * month - day + (value - func.date_trunc("day", value))
        shifted = case((at_month_end, month_end), else_=value + count * month)
        result = shifted if is_datetime else cast(shifted, Date())
        return case((months_in_range(value, count, dialect), result), else_=None)
    day_of_month = date_part("day", value, dialect)
    first = func.date(value, literal("start of month"), cast(count, String()).concat(literal(" months")))
    same_day = func.date(first, cast(day_of_month - literal(1), String()).concat(literal(" days")))
    month_end = func.date(first, literal("+1 months"), literal("-1 days"))
    at_month_end = date_part("day", func.date(value, literal("+1 days")), dialect) == 1
    result = case((months_in_range(value, count, dialect),
                   case((at_month_end, month_end), else_=func.min(same_day, month_end))),
                  else_=None)
    if not is_datetime:
        return result
    return func.julianday(result) + (value - func.julianday(func.date(value)))


def field_value(column: Any, ftype: FType | None, dialect: str) -> Any:
    """A stored column as the back end's working value of `ftype`."""
    if ftype is FType.DATETIME:
        return datetime_column(column, dialect)
    if ftype is FType.TIME:
        return time_column(column, dialect)
    if ftype in TEXT_HELD:
        return func.nullif(column, literal(""))
    if ftype is FType.NUMBER and dialect == "sqlite":
        scaled = stored_integers(column)
        if scaled is not None:  # an exact column: integers times 10^scale
            raw, scale = scaled
            # a REAL divisor divides exactly as SQLite's `/` would with `(? + 0.0)`, one
            # level of nesting less
            return raw if scale == 0 else raw.op("/")(literal(float(10 ** scale), Float()))
    return column


def stored_integers(column: Any) -> tuple[Any, int] | None:
    """A SQLite column of exact numbers (integers scaled by 10^scale; its type says so with
    a `stored_scale`) as those plain integers and the scale; None for any other value."""
    scale = getattr(getattr(column, "type", None), "stored_scale", None)
    if not isinstance(scale, int):
        return None
    return type_coerce(column, SAInteger()), scale


def scaled_literal(value: Decimal, scale: int) -> Any:
    """A number literal as an exact column of `scale` stores it (for exact comparisons)."""
    shifted = value.scaleb(scale)
    if shifted == shifted.to_integral_value():
        return literal(int(shifted), SAInteger())
    return literal(float(shifted), Float())


# -- times of day: integer milliseconds after midnight ------------------------------------

def time_column(column: Any, dialect: str) -> Any:
    """A stored time (SQLite: 'HH:MM:SS.ffffff' text) as milliseconds, cut to the ms."""
    if dialect == "sqlite":
        def part(start: int, length: int) -> Any:
            return cast(func.substr(column, start, length), SAInteger())

        seconds = (part(1, 2) * 60 + part(4, 2)) * 60 + part(7, 2)
        return case((column.is_(None), None),
                    else_=seconds * 1000 + func.coalesce(part(10, 3), literal(0)))
    return cast(func.floor(func.extract("epoch", column) * 1000), BigInteger())


def time_arithmetic(left: Any, right: Any, op: str, lt: FType | None, rt: FType | None,
                    dialect: str) -> Any:
    """time ± milliseconds (fractions cut, wrapping at midnight); time - time in ms."""
    if lt is FType.TIME and rt is FType.TIME:
        return left - right
    time, ms = (left, right) if lt is FType.TIME else (right, left)
    if op == "-":
        ms = -ms
    if dialect == "sqlite":
        total = time + cast(ms, SAInteger())
        return (total % DAY_MS + DAY_MS) % DAY_MS
    total = cast(time, Numeric()) + func.trunc(cast(ms, Numeric()))
    return cast(func.mod(func.mod(total, DAY_MS) + DAY_MS, DAY_MS), BigInteger())


# -- whole numbers and dates as integers --------------------------------------------------

def whole_text(value: Any, dialect: str) -> Any:
    """A whole number as text ("7", "-12")."""
    return cast(value, String()) if dialect == "postgresql" else cast(value, Text())


def two_digits(value: Any, dialect: str) -> Any:
    """A number from 0 to 99 as two digits ("07")."""
    return case((value < 10, literal("0").concat(whole_text(value, dialect))),
                else_=whole_text(value, dialect))


def day_ordinal(date: Any, dialect: str) -> Any:
    """A date as its day number (Python's date.toordinal(): 1 for 0001-01-01)."""
    if dialect == "sqlite":
        return cast(func.julianday(date) - literal(ORDINAL_JULIAN), SAInteger())
    return date - literal(dt.date(1, 1, 1), Date()) + literal(1)


def date_of_ordinal(ordinal: Any, dialect: str) -> Any:
    """The date of a day number (blank outside 0001-01-01 … 9999-12-31)."""
    valid = ordinal.between(1, dt.date.max.toordinal())
    if dialect == "sqlite":
        return case((valid, func.date(ordinal + literal(ORDINAL_JULIAN))), else_=None)
    days = cast(ordinal - literal(1), SAInteger())
    return case((valid, literal(dt.date(1, 1, 1), Date()) + days), else_=None)


def as_date(value: Any, ftype: FType | None, dialect: str) -> Any:
    """A date or datetime argument as a date (a datetime's UTC date)."""
    return date_of_datetime(value, dialect) if ftype is FType.DATETIME else value


# -- text, one character at a time --------------------------------------------------------

def map_characters(text: Any, render: Any, *, prepend: bool = False) -> Any:
    """The text rebuilt character by character: `render(char, previous_char)` gives what
    each character becomes (a recursive CTE, correlated to the row; '' for blank text).

    `prepend` puts each result before the ones so far (REVERSE)."""
    seed = select(literal(1).label("i"), correlated(text).label("src"),
                  literal("", String()).label("out")).correlate_except(None)
    chars = seed.cte(recursive=True, nesting=True)  # anonymous: one per call, nestable
    char = func.substr(chars.c.src, chars.c.i, literal(1))
    before = func.substr(chars.c.src, chars.c.i - 1, literal(1))
    piece = render(char, before)
    step = select(chars.c.i + 1, chars.c.src,
                  piece.concat(chars.c.out) if prepend else chars.c.out.concat(piece)) \
        .where(chars.c.i <= func.length(chars.c.src))
    chars = chars.union_all(step)
    return select(chars.c.out).order_by(chars.c.i.desc()).limit(1).scalar_subquery()


def correlated(expr: Any) -> Any:
    """`expr` with every subquery in it correlated to whatever encloses it.

    Inside a CTE a subquery (a lookup's `account.name`) does not see the row outside, so
    SQLAlchemy would list the outer table in its FROM; correlating explicitly (every FROM
    an enclosing query has) keeps it tied to the row."""
    def replace(element: Any, **kw: Any) -> Any:
        if isinstance(element, CTE):
            return element  # map_characters' own: correlated already, and not to be copied
        if not isinstance(element, Select):
            return None

        root = element

        def below(element: Any, **kw: Any) -> Any:
            return None if element is root else replace(element)

        copied: Any = replacement_traverse(root, {}, below)
        return copied.correlate_except(None)

    result: Any = replacement_traverse(expr, {}, replace)
    return result


def code_point(char: Any, dialect: str) -> Any:
    """The Unicode code point of the first character (blank for '')."""
    char = func.nullif(char, literal(""))
    return func.unicode(char) if dialect == "sqlite" else func.ascii(char)


def whole(value: Any) -> Any:
    """A whole number typed as a 64-bit integer (so that // divides as integers)."""
    return cast(value, BigInteger())


def pad_digits(value: Any, width: int, dialect: str) -> Any:
    """A whole number from 0 on as at least `width` digits ("007")."""
    text = literal("0" * width).concat(whole_text(value, dialect))
    right = func.substr(text, -width) if dialect == "sqlite" else func.right(text, width)
    return case((value < 10 ** (width - 1), right), else_=whole_text(value, dialect))


def time_parts(ms: Any) -> tuple[Any, Any, Any, Any]:
    """Hour, minute, second and millisecond of a time of day in milliseconds."""
    ms = whole(ms)
    return ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000


def time_text(ms: Any, dialect: str) -> Any:
    """HH:MM:SS, and HH:MM:SS.mmm when there are milliseconds (values.format_time)."""
    return bind([ms], lambda value: _time_text_of(value, dialect))


def _time_text_of(ms: Any, dialect: str) -> Any:
    hour, minute, second, milli = time_parts(ms)
    text = two_digits(hour, dialect).concat(literal(":")).concat(two_digits(minute, dialect)) \
        .concat(literal(":")).concat(two_digits(second, dialect))
    return case((milli > 0, text.concat(literal(".")).concat(pad_digits(milli, 3, dialect))),
                else_=text)


def trim_chars(text: Any, chars: str, dialect: str) -> Any:
    """The text without these characters at either end."""
    return (func.trim if dialect == "sqlite" else func.btrim)(text, literal(chars))


def number_text(value: Any, dialect: str) -> Any:
    """A number as text without trailing zeros ("1250.5", "3"), like format_number."""
    if dialect == "postgresql":
        return func.trim_scale(cast(value, Numeric())).cast(String())
    # SQLite: the 15 significant digits its floats hold, at most ten of them decimals
    # (printf writes noise past them: 1703980800 would be 1703980799.9999990463),
    # trailing zeros cut
    return bind([exact(value, dialect)], _sqlite_number_text)


def _sqlite_number_text(number: Any) -> Any:
    whole_digits = func.length(func.printf(literal("%d"), func.abs(number)))
    decimals = func.max(literal(0), func.min(literal(10), literal(15) - whole_digits))
    text = func.rtrim(func.rtrim(func.printf(literal("%.*f"), decimals, number), literal("0")),
                      literal("."))
    return case((number.is_(None), None), (text == literal("-0"), literal("0")), else_=text)


def bind(values: list[Any], build: Any) -> Any:
    """`build(*names)` over the values computed once: a scalar subquery over a one-row
    derived table, so that SQL that reads an argument many times neither repeats it nor
    nests it ever deeper (SQLite's parser has a depth limit)."""
    row = select(*(correlated(v).label(f"v{i}") for i, v in enumerate(values))) \
        .correlate_except(None).subquery()
    return select(build(*(row.c[f"v{i}"] for i in range(len(values))))).scalar_subquery()
