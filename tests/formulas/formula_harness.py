"""The harness the formula tests share: a catalog, records, real tables and both back ends.

`Backends.python(...)` evaluates with compile_python; `SqlDatabase.evaluate(...)` runs
compile_sql on SQLite or PostgreSQL; `agree(...)` compares them after `normalise(...)`.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    create_engine,
    event,
    select,
    type_coerce,
)
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from metabiz.formulas import (
    Calendar,
    CheckedFormula,
    DictCatalog,
    EvalContext,
    FieldSpec,
    FType,
    Location,
    check,
    compile_python,
    compile_sql,
)
from metabiz.formulas.limits import add_sqlite_functions
from metabiz.formulas.values import is_blank, time_of_ms

PG_ENV = "METABIZ_TEST_POSTGRES_URL"
FIXED_NOW = dt.datetime(2024, 3, 15, 10, 30, 0, tzinfo=dt.UTC)
UTC = dt.UTC

N, T, B = FType.NUMBER, FType.TEXT, FType.BOOLEAN
D, DT, P, MP = FType.DATE, FType.DATETIME, FType.PICKLIST, FType.MULTI_PICKLIST
TM = FType.TIME

DEAL_FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec("id", N),
    "amount": FieldSpec("amount", N),      # currency
    "qty": FieldSpec("qty", N),
    "rate": FieldSpec("rate", N),          # percent
    "discount": FieldSpec("discount", N),  # blank on the main record
    "name": FieldSpec("name", T),
    "note": FieldSpec("note", T),          # blank on the main record, "" on the edge one
    "title": FieldSpec("title", T),        # Chinese text
    "stage": FieldSpec("stage", P, picklist_values=("prospecting", "negotiation",
                                                     "closed_won")),
    "region": FieldSpec("region", P, picklist_values=("emea", "apac")),
    "tags": FieldSpec("tags", MP, picklist_values=("a", "b", "c", "重要")),
    "active": FieldSpec("active", B),
    "archived": FieldSpec("archived", B),
    "close": FieldSpec("close", D),
    "start": FieldSpec("start", DT),
    "finish": FieldSpec("finish", DT),
    "remind": FieldSpec("remind", TM),     # a time of day
    "lat": FieldSpec("lat", N),            # a visit's coordinates
    "lon": FieldSpec("lon", N),
    "site": FieldSpec("site", T),          # a URL (unsafe on the edge record)
    "account": FieldSpec("account", N, target="account"),
}
ACCOUNT_FIELDS: dict[str, FieldSpec] = {
    "id": FieldSpec("id", N),
    "name": FieldSpec("name", T),
    "industry": FieldSpec("industry", P, picklist_values=("tech", "retail", "制造")),
    "revenue": FieldSpec("revenue", N),
    "founded": FieldSpec("founded", D),
    "since": FieldSpec("since", DT),
    "tier": FieldSpec("tier", T),          # "gold" on accounts 1 and 2 (VLOOKUP's duplicates)
    "parent": FieldSpec("parent", N, target="account"),
}
#: China's 2026 National Day: 1-7 October off, Sunday 20 September and Saturday 10 October
#: worked (调休); the weekend of 3-4 October is listed among the holidays, changing nothing;
#: open 09:00-18:00 Shanghai time (ADDWORKHOURS)
CN = Calendar.from_json("cn", {
    "holidays": [f"2026-10-0{day}" for day in range(1, 8)],
    "workdays": ["2026-09-20", "2026-10-10"], "hours": ["09:00", "18:00"]}, "Asia/Shanghai")
CATALOG = DictCatalog({"deal": DEAL_FIELDS, "account": ACCOUNT_FIELDS}, calendars={"cn": CN})


def _deal(**values: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(DEAL_FIELDS)
    record.update(values)
    return record


#: Formula values as the runtime hands them to compile_python.
DEALS: dict[str, dict[str, Any]] = {
    "main": _deal(
        id=1, amount=Decimal("1250.50"), qty=Decimal(3), rate=Decimal("12.5"), discount=None,
        name="Acme Deal", note=None, title="客户管理系统", stage="negotiation", region=None,
        tags=("a", "c"), active=True, archived=None, close=dt.date(2024, 1, 31),
        start=dt.datetime(2020, 2, 29, 17, 5, tzinfo=UTC),
        finish=dt.datetime(2020, 3, 1, 5, 35, tzinfo=UTC), account=1,
        remind=dt.time(9, 15, 30, 250000), lat=Decimal("31.2304"), lon=Decimal("121.4737"),
        site="https://example.com/a?b=1&c=<x>"),
    "blank": _deal(id=2),
    "edge": _deal(
        id=3, amount=Decimal("-2.5"), qty=Decimal(0), rate=Decimal(0), discount=Decimal(0),
        name="  padded  ", note="", title="中文 text", stage="closed_won", region="emea",
        tags=("b", "重要"), active=False, archived=False, close=dt.date(2023, 12, 31),
        start=dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        finish=dt.datetime(2024, 2, 29, 0, 0, tzinfo=UTC), account=12,
        remind=dt.time(23, 59, 59), lat=Decimal("-33.8688"), lon=Decimal("151.2093"),
        site=" javascript:alert(1)"),
}
RECORD_NAMES = tuple(DEALS)


def _accounts() -> dict[int, dict[str, Any]]:
    accounts = {}
    for i in range(1, 13):  # a chain 1 → 2 → … → 12 to follow lookups 10 levels deep
        accounts[i] = {
            "id": i, "name": f"acct{i}", "industry": None, "revenue": None,
            "founded": None, "since": None, "tier": "gold" if i < 3 else None,
            "parent": i + 1 if i < 12 else None}
    accounts[1].update(name="Globex 环球", industry="tech", revenue=Decimal("1000000"),
                       founded=dt.date(2000, 2, 29),
                       since=dt.datetime(2019, 12, 31, 23, 0, tzinfo=UTC))
    accounts[2].update(industry="制造", revenue=Decimal("250.75"))
    return accounts


ACCOUNTS = _accounts()


def python_resolver(record: Mapping[str, Any]) -> Any:
    """Follows lookups through ACCOUNTS, as the runtime's record resolver does."""
    def resolve(path: tuple[str, ...]) -> Any:
        current: Mapping[str, Any] | None = record
        for part in path[:-1]:
            target = current.get(part) if current is not None else None
            current = ACCOUNTS.get(target) if target is not None else None
        return current.get(path[-1]) if current is not None else None

    return resolve


def vlookup(object_name: str, field_name: str, key_field: str, key: Any) -> Any:
    """What the objects layer's EvalContext.vlookup does, over ACCOUNTS."""
    assert object_name == "account" and not is_blank(key)
    found = [a for _, a in sorted(ACCOUNTS.items()) if a[key_field] == key]
    return found[0][field_name] if found else None


def checked(source: str, *, context: str = "field",
            blanks_as_zero: bool = False) -> CheckedFormula:
    return check(source, CATALOG, "deal", context=context, blanks_as_zero=blanks_as_zero)


def run_python(formula: CheckedFormula, record: str = "main", *,
               prior: Mapping[str, Any] | None = None) -> Any:
    """The formula's value on DEALS[record] (raises FormulaError kind "eval")."""
    values = DEALS[record]
    ctx = EvalContext(record=values, prior=prior, resolve=python_resolver(values),
                      now=FIXED_NOW, vlookup=vlookup)
    return compile_python(formula)(ctx)


# -- SQL ------------------------------------------------------------------------------------

METADATA = MetaData()
DEAL_TABLE = Table(
    "deal", METADATA,
    Column("id", Integer, primary_key=True), Column("amount", Numeric(18, 4)),
    Column("qty", Numeric(18, 4)), Column("rate", Numeric(18, 4)),
    Column("discount", Numeric(18, 4)), Column("name", String(255)),
    Column("note", String(255)), Column("title", String(255)), Column("stage", String(255)),
    Column("region", String(255)), Column("tags", Text), Column("active", Boolean),
    Column("archived", Boolean), Column("close", Date), Column("start", DateTime),
    Column("finish", DateTime), Column("remind", Time), Column("lat", Numeric(18, 4)),
    Column("lon", Numeric(18, 4)), Column("site", String(255)), Column("account", Integer))
ACCOUNT_TABLE = Table(
    "account", METADATA,
    Column("id", Integer, primary_key=True), Column("name", String(255)),
    Column("industry", String(255)), Column("revenue", Numeric(18, 4)),
    Column("founded", Date), Column("since", DateTime), Column("tier", String(255)),
    Column("parent", Integer))
TABLES = {"deal": DEAL_TABLE, "account": ACCOUNT_TABLE}
TARGETS = {"deal": {"account": "account"}, "account": {"parent": "account"}}


def _to_db(value: Any) -> Any:
    """A formula value as stored: naive UTC datetimes, ';'-joined multi-picklists."""
    if isinstance(value, dt.datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, tuple):
        return ";".join(value)
    return value


def sql_resolver(object_name: str = "deal", table: Any = None) -> Any:
    """Single names → columns; dotted paths → correlated scalar subqueries via lookups."""
    tbl = TABLES[object_name] if table is None else table

    def resolve(path: tuple[str, ...]) -> ColumnElement[Any]:
        head, rest = path[0], path[1:]
        if not rest:
            return tbl.c[head]
        target = TARGETS[object_name][head]
        alias = TABLES[target].alias()
        inner = sql_resolver(target, alias)(rest)
        return select(inner).where(alias.c.id == tbl.c[head]).scalar_subquery()

    return resolve


def other_object(object_name: str) -> Any:
    """VLOOKUP's columns: a resolver over a fresh alias of the object's table."""
    return sql_resolver(object_name, TABLES[object_name].alias())


def postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"{PG_ENV} is not set: PostgreSQL is mandatory in CI")
    return None


class SqlDatabase:
    """One engine holding the harness tables and rows; evaluates compiled formulas."""

    def __init__(self, engine: Engine, dialect: str) -> None:
        self.engine = engine
        self.dialect = dialect
        METADATA.create_all(engine)
        with engine.begin() as conn:
            conn.execute(ACCOUNT_TABLE.insert(),
                         [{k: _to_db(v) for k, v in a.items()} for a in ACCOUNTS.values()])
            conn.execute(DEAL_TABLE.insert(),
                         [{k: _to_db(v) for k, v in d.items()} for d in DEALS.values()])

    def compile(self, formula: CheckedFormula) -> ColumnElement[Any]:
        return compile_sql(formula, sql_resolver(), self.dialect, now=FIXED_NOW,
                           resolve_object=other_object)

    def evaluate_many(self, formulas: Sequence[CheckedFormula],
                      record: str = "main") -> list[Any]:
        """Raw driver values of each formula on one record, in one SELECT when possible.

        An expression that fails in the database (an Exception in the list) is run alone
        so that it does not hide the others' values.
        """
        if not formulas:
            return []
        exprs = [type_coerce(self.compile(f), NullType()).label(f"c{i}")
                 for i, f in enumerate(formulas)]
        row_id = DEALS[record]["id"]
        try:
            with self.engine.connect() as conn:
                row = conn.execute(select(*exprs).where(DEAL_TABLE.c.id == row_id)).one()
            return list(row)
        except Exception:  # noqa: BLE001 - narrowed below, one expression at a time
            if len(formulas) == 1:
                raise
        out: list[Any] = []
        for f in formulas:
            try:
                out.append(self.evaluate_many([f], record)[0])
            except Exception as err:  # noqa: BLE001 - reported by the caller's assertion
                out.append(err)
        return out

    def evaluate_many_records(self, formulas: Sequence[CheckedFormula]) -> dict[str, list[Any]]:
        """Raw values of each formula on every record: one SELECT over the whole table
        (record by record with evaluate_many when that statement fails)."""
        exprs = [type_coerce(self.compile(f), NullType()).label(f"c{i}")
                 for i, f in enumerate(formulas)]
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(DEAL_TABLE.c.id, *exprs)).all()
        except Exception:  # noqa: BLE001 - narrowed record by record
            return {name: self.evaluate_many(formulas, name) for name in DEALS}
        by_id = {row[0]: list(row[1:]) for row in rows}
        return {name: by_id[values["id"]] for name, values in DEALS.items()}

    def evaluate_records(self, formula: CheckedFormula) -> dict[str, Any]:
        """The formula's normalised value on every record, in one SELECT."""
        expr = type_coerce(self.compile(formula), NullType())
        with self.engine.connect() as conn:
            rows = conn.execute(select(DEAL_TABLE.c.id, expr)).all()
        by_id = {row[0]: normalise(row[1], formula.type, self.dialect) for row in rows}
        return {name: by_id[values["id"]] for name, values in DEALS.items()}

    def evaluate(self, formula: CheckedFormula, record: str = "main") -> Any:
        value = self.evaluate_many([formula], record)[0]
        return normalise(value, formula.type, self.dialect)


@dataclass
class Databases:
    """The SQL back ends available to this run (PostgreSQL only with METABIZ_TEST_POSTGRES_URL)."""

    items: dict[str, SqlDatabase]

    def __iter__(self) -> Iterator[SqlDatabase]:
        return iter(self.items.values())


def open_databases(tmp_dir: str) -> Iterator[Databases]:
    """A SQLite file database and, when configured, a private PostgreSQL schema."""
    engines: list[tuple[Engine, str | None]] = []
    items: dict[str, SqlDatabase] = {}
    sqlite = create_engine(f"sqlite:///{tmp_dir}/formulas.db")
    # what metabiz.platform.db.make_engine does for every SQLite connection
    event.listen(sqlite, "connect", lambda dbapi, _record: add_sqlite_functions(dbapi))
    engines.append((sqlite, None))
    items["sqlite"] = SqlDatabase(sqlite, "sqlite")
    base = postgres_url()
    admin = None
    if base is not None:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        pg = create_engine(url)
        engines.append((pg, schema))
        items["postgresql"] = SqlDatabase(pg, "postgresql")
    try:
        yield Databases(items)
    finally:
        for engine, schema in engines:
            engine.dispose()
            if schema is not None and admin is not None:
                with admin.begin() as conn:
                    conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        if admin is not None:
            admin.dispose()


# -- comparing values ---------------------------------------------------------------------

JULIAN_UNIX_EPOCH = 2440587.5
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def normalise(value: Any, ftype: FType, dialect: str = "python") -> Any:
    """A back end's value in the Python back end's terms, so that the two can be compared.

    - empty text is blank (`None`), as the formula language says;
    - numbers become Decimal (SQLite hands back floats and ints);
    - SQLite hands back booleans as 0/1, dates as 'YYYY-MM-DD' text and datetimes as
      Julian day numbers (the SQL back end's working form there); PostgreSQL hands back
      naive UTC datetimes; all become dt.date / aware UTC dt.datetime;
    - multi-picklists are ';'-joined text in SQL and tuples in Python;
    - times are milliseconds after midnight in SQL; links, images and locations are text
      there (the URL, "lat,lon"), which is what str() gives of the Python values.
    """
    if value is None or value == "" or value == ():
        return None
    if ftype is FType.TIME:
        return value if isinstance(value, dt.time) else time_of_ms(int(value))
    if ftype is FType.LOCATION and isinstance(value, str):  # as the database writes numbers
        return str(Location(*(Decimal(part) for part in value.split(","))))
    if ftype in (FType.LINK, FType.IMAGE, FType.LOCATION):
        return str(value)
    if ftype is FType.NUMBER:
        if isinstance(value, Decimal):
            return value
        if isinstance(value, bool):
            return Decimal(int(value))
        return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if ftype is FType.BOOLEAN:
        return bool(value)
    if ftype is FType.DATE:
        if isinstance(value, str):
            return dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            return value.date()
        return value
    if ftype is FType.DATETIME:
        if isinstance(value, int | float | Decimal):
            return EPOCH + dt.timedelta(days=float(value) - JULIAN_UNIX_EPOCH)
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=UTC)
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value
    if ftype is FType.MULTI_PICKLIST:
        return tuple(value.split(";")) if isinstance(value, str) else tuple(value)
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, with numbers within 1e-9 (relative) and datetimes within a millisecond."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        scale = max(Decimal(1), abs(a), abs(b))
        return abs(a - b) <= scale * Decimal("1e-9")
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return abs(a - b) <= dt.timedelta(milliseconds=1)
    return bool(type(a) is type(b) and a == b)


def expected_value(raw: Any, ftype: FType) -> Any:
    """A table's expected value in formula terms (numbers may be written as int/str)."""
    if ftype is FType.NUMBER and isinstance(raw, int | str | float) \
            and not isinstance(raw, bool):
        return Decimal(str(raw))
    return normalise(raw, ftype)
