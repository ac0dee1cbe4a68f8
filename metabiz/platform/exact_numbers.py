"""Exact decimal columns: NUMERIC(precision, scale) on PostgreSQL; on SQLite (whose NUMERIC
is a binary double) the value times 10^scale, stored as a 64-bit integer in the same column.

The rule on SQLite: a column of an object table declared NUMERIC(p, s) holds integers scaled
by 10^s (`ExactDecimal` reads and writes them; `scaled_columns` finds them by reflection, for
backups and upgrades). SQL over such a column sees the integer: it sorts and compares right,
`exact_sum` adds exactly, and formulas divide by the scale (`stored_scale` tells them).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, Table, func, literal, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

#: the largest integer SQLite stores exactly (64 bits)
INT64 = 2**63 - 1
#: object tables' names start with this (their NUMERIC(p, s) columns are scaled on SQLite)
OBJECT_TABLE_PREFIX = "obj_"


class _SqliteScaled(UserDefinedType[Any]):
    """SQLite's side: DDL `NUMERIC(p, s)` (integer values stay integers under NUMERIC
    affinity), values passed through untouched (SQLAlchemy's Numeric would make floats)."""

    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        self.precision, self.scale = precision, scale

    def get_col_spec(self, **_kw: Any) -> str:
        return f"NUMERIC({self.precision}, {self.scale})"


class ExactDecimal(TypeDecorator[Decimal]):
    """An exact decimal column of `precision` digits, `scale` of them after the point.

    Values bound against it (inserts, updates, `column == 5`, `column.in_(…)`) are scaled
    on SQLite; results (the column, its MIN, MAX and `exact_sum`) come back as Decimals."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteScaled(self.precision, self.scale))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    @property
    def stored_scale(self) -> int:
        """What formulas read to divide by on SQLite (the attribute they look for)."""
        return self.scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return to_scaled(value, self.scale)

    def process_literal_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(to_scaled(value, self.scale))  # written into the SQL as it is

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name != "sqlite":
            return value if isinstance(value, Decimal) else Decimal(str(value))
        return from_scaled(value, self.scale)

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        return self  # `column == 12.5`: the literal is scaled as the column is

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def to_scaled(value: Any, scale: int) -> int:
    """`value` (a Decimal, int, float or numeric text) as the integer SQLite stores."""
    return int(_exact(value).scaleb(scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_scaled(value: Any, scale: int) -> Decimal:
    """What SQLite stored (an integer; a float only past 64 bits or in legacy data) as the
    Decimal it means."""
    if type(value) is int and -INT64 <= value <= INT64:
        # exact, and already at the scale: an integer's exponent is 0 until scaleb moves it
        return Decimal(value).scaleb(-scale)
    return _exact(value).scaleb(-scale).quantize(Decimal(1).scaleb(-scale),
                                                 rounding=ROUND_HALF_UP)


def stored_scale(expr: Any) -> int | None:
    """The scale a SQL expression's integers carry on SQLite (None: not an exact column)."""
    return getattr(getattr(expr, "type", None), "stored_scale", None)


def plain(expr: Any) -> Any:
    """The stored integers themselves (no scaling when read or compared)."""
    return type_coerce(expr, BigInteger())


#: exact_sum splits each stored integer at 2^32 on SQLite: the two parts' sums cannot overflow
_SPLIT = 2**32


def exact_sum(expr: Any, dialect: str, *, window: bool = False) -> Any:
    """SUM of a column that adds exactly (`window`: over every row the query returns), read
    back with the column's type.

    On SQLite the stored integers are added by SQLite's own SUM, which fails with 'integer
    overflow' past 64 bits: so their high and low 32-bit parts are summed apart (neither can
    overflow) and joined as `high · 2^32 + low`, which SQLite's arithmetic turns into the
    nearest double past 64 bits instead of failing. (A Python aggregate did the same at a
    third of the speed: it is called once per row.)"""
    if dialect != "sqlite" or stored_scale(expr) is None:
        total = func.sum(expr)
        return total.over() if window else total
    raw, split = plain(expr), literal(_SPLIT, BigInteger())
    high: Any = func.sum(raw.op("/", return_type=BigInteger())(split))
    low: Any = func.sum(raw.op("%", return_type=BigInteger())(split))
    if window:
        high, low = high.over(), low.over()
    joined = high.op("*", return_type=BigInteger())(split).op("+", return_type=BigInteger())(low)
    return type_coerce(joined, expr.type)


def _exact(value: Any) -> Decimal:
    """A number as the Decimal it means: a float by its shortest repr (0.1, not
    0.1000000000000000055…), SQLite's text or bytes by their digits."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, bytes):
        return Decimal(value.decode("ascii"))
    return Decimal(str(value))


def _stored(number: Decimal) -> int | float:
    rounded = int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return rounded if -INT64 <= rounded <= INT64 else float(number)


class _Sum:
    """metabiz_sum(x, shift): Σx · 10^shift, exact (rounded half away from zero).

    Called once per row from SQLite, so the common step is one integer addition: stored
    values are integers (Python's are unbounded); floats (legacy data, values past 64 bits)
    are added apart as Decimals."""

    def __init__(self) -> None:
        self.ints = 0
        self.others: Decimal | None = None
        self.count = 0
        self.shift = 0

    def step(self, value: Any, shift: int) -> None:
        if value is None:
            return
        self.shift = shift
        self.count += 1
        if type(value) is int:
            self.ints += value
        else:
            self.others = (self.others or Decimal(0)) + _exact(value)

    def inverse(self, value: Any, shift: int) -> None:  # leaving a window's frame
        if value is None:
            return
        self.count -= 1
        if type(value) is int:
            self.ints -= value
        else:
            self.others = (self.others or Decimal(0)) - _exact(value)

    def total(self) -> Decimal | None:
        if not self.count:
            return None
        total = Decimal(self.ints)
        return total if self.others is None else total + self.others

    def value(self) -> int | float | None:
        total = self.total()
        return None if total is None else _stored(total.scaleb(self.shift))

    def finalize(self) -> int | float | None:
        return self.value()


class _Average(_Sum):
    """metabiz_avg(x, shift): the mean of x · 10^shift (rounded half away from zero)."""

    def finalize(self) -> int | float | None:
        total = self.total()
        if total is None:
            return None
        return _stored(total.scaleb(self.shift) / self.count)


def _rescale(value: Any, shift: int) -> int | float | None:
    """metabiz_rescale(x, shift): x · 10^shift (rounded half away from zero)."""
    return None if value is None else _stored(_exact(value).scaleb(shift))


def add_sqlite_numbers(dbapi_connection: Any) -> None:
    """Register metabiz_sum (an aggregate that also runs OVER a window, for report totals),
    metabiz_avg and metabiz_rescale on a new sqlite3 connection (platform.db's connect
    event)."""
    dbapi_connection.create_window_function("metabiz_sum", 2, _Sum)
    dbapi_connection.create_aggregate("metabiz_avg", 2, _Average)
    dbapi_connection.create_function("metabiz_rescale", 2, _rescale, deterministic=True)


def scaled_columns(table: Table) -> dict[str, ExactDecimal]:
    """The columns of a reflected SQLite object table that hold scaled integers (declared
    NUMERIC(p, s)), each with the type that reads them."""
    if not table.name.startswith(OBJECT_TABLE_PREFIX):
        return {}
    found: dict[str, ExactDecimal] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, Numeric) and not isinstance(kind, ExactDecimal) \
                and isinstance(kind.precision, int) and isinstance(kind.scale, int):
            found[column.name] = ExactDecimal(kind.precision, kind.scale)
    return found


def read_exactly(table: Table) -> Table:
    """`table` (reflected from SQLite) with its scaled columns typed to read them."""
    for name, kind in scaled_columns(table).items():
        table.c[name].type = kind
    return table
