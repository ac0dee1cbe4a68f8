"""The compiled runtime schema of one metadata version: tables, input schemas, formulas.

Built once per version (see runtime.py) and shared read-only by every request.
Compiling checks every formula, default, validation rule and roll-up, collecting
all problems as `file: json/path: message` lines before anything is applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import marshmallow
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from metabiz.errors import FormulaError, MetadataError
from metabiz.formulas import (
    SQLITE_HEADROOM,
    Calendar,
    CheckedFormula,
    DependencyGraph,
    EvalContext,
    FieldSpec,
    FType,
    check,
    compile_python,
    compile_sql,
)
from metabiz.objects.fields import FieldType, field_type
from metabiz.platform.access import AccessPolicy
from metabiz.platform.db import UTCDateTime, users
from metabiz.platform.metadata.model import FieldDef, MetadataBundle, ObjectDef
from metabiz.platform.metadata.reserved import POOL_COLUMN

APPROVAL_STATUSES = ("none", "pending", "approved", "rejected", "recalled")

#: system fields every object has, with their formula types
SYSTEM_FIELDS: dict[str, FType] = {
    "id": FType.NUMBER,
    "owner": FType.TEXT,
    "created_at": FType.DATETIME,
    "created_by": FType.TEXT,
    "updated_at": FType.DATETIME,
    "updated_by": FType.TEXT,
    "version": FType.NUMBER,
    "approval_status": FType.PICKLIST,
}


SYSTEM_COLUMN_NAMES = (*SYSTEM_FIELDS, "locked", POOL_COLUMN)

#: a formula's field references → SQL expressions over one object's table
ColumnResolver = Callable[[tuple[str, ...]], ColumnElement[Any]]
#: the rows of an object VLOOKUP may read in SQL, as a resolver over a fresh alias of them;
#: a user's query passes their record scope (objects/vlookups.py), None reads every row
RowReader = Callable[["CompiledObject"], ColumnResolver]


def pool_column() -> Column[Any]:
    """The column of an object with pools naming the pool a record is in (None: owned)."""
    return Column(POOL_COLUMN, String(64), nullable=True)


def system_columns() -> list[Column[Any]]:
    return [
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
               autoincrement=True),
        Column("owner", String(64), ForeignKey(users.c.name), nullable=True, index=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("created_by", String(64), nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("updated_by", String(64), nullable=False),
        Column("version", Integer, nullable=False, default=1),
        Column("approval_status", String(16), nullable=False, default="none"),
        Column("locked", Boolean, nullable=False, default=False),
    ]


@dataclass
class CompiledFormula:
    checked: CheckedFormula
    run: Callable[[EvalContext], Any]


@dataclass
class CompiledField:
    fdef: FieldDef
    ftype: FieldType
    index: int  # position in the object's JSON `fields` (for error paths)
    default: CompiledFormula | None = None
    formula: CompiledFormula | None = None
    rollup_filter: CheckedFormula | None = None
    #: a roll-up's child field (what sum/min/max/avg read), for showing its scale
    summarised: FieldDef | None = None

    @property
    def name(self) -> str:
        return self.fdef.api_name


@dataclass
class CompiledRule:
    api_name: str
    field: str | None
    message: Any  # Label
    condition: CompiledFormula


@dataclass
class CompiledObject:
    odef: ObjectDef
    table: Table
    fields: dict[str, CompiledField]
    input_schema: marshmallow.Schema
    rules: list[CompiledRule] = field(default_factory=list)
    formula_order: list[str] = field(default_factory=list)
    #: (child object, relationship field) for every lookup/master-detail pointing here
    children: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.odef.api_name

    def stored_fields(self) -> list[CompiledField]:
        return [f for f in self.fields.values() if f.ftype.stored]

    def writable_fields(self) -> list[CompiledField]:
        return [f for f in self.fields.values() if f.ftype.writable]

    def decode(self, row: Mapping[Any, Any]) -> dict[str, Any]:
        """A stored row as Python values (system columns as stored, fields via their type)."""
        values = {name: row[name] for name in SYSTEM_COLUMN_NAMES if name in row}
        for stamp in ("created_at", "updated_at"):
            if values.get(stamp) is not None and values[stamp].tzinfo is None:
                values[stamp] = values[stamp].replace(tzinfo=dt.UTC)
        for f in self.stored_fields():
            if f.name in row:
                values[f.name] = f.ftype.from_db(f.fdef, row[f.name])
        return values


class Catalog:
    """What the formula checker may reference: every active field and the system fields,
    and the business calendars of app.json (a `formulas.CalendarCatalog`)."""

    def __init__(self, bundle: MetadataBundle) -> None:
        self._calendars = {c.name: c for c in bundle.calendars}
        self._specs: dict[str, dict[str, FieldSpec]] = {}
        for obj in bundle.objects:
            specs = {name: FieldSpec(name=name, type=t) for name, t in SYSTEM_FIELDS.items()}
            if "approval_status" in specs:
                specs["approval_status"] = FieldSpec(
                    name="approval_status", type=FType.PICKLIST, picklist_values=APPROVAL_STATUSES)
            if obj.pools:
                specs[POOL_COLUMN] = FieldSpec(name=POOL_COLUMN, type=FType.TEXT)
            for f in obj.fields:
                specs[f.api_name] = field_type(f.type).spec(f, bundle)
            self._specs[obj.api_name] = specs

    def field(self, object_name: str, field_name: str) -> FieldSpec | None:
        return self._specs.get(object_name, {}).get(field_name)

    def fields(self, object_name: str) -> dict[str, FieldSpec]:
        return self._specs.get(object_name, {})

    def calendar(self, name: str) -> Calendar | None:
        return self._calendars.get(name)


class RuntimeSchema:
    """Everything the runtime needs for one metadata version, compiled and checked."""

    #: the process's read grants (extensions.ReadGrant), set by the runtime that caches it
    read_grants: tuple[Any, ...] = ()

    def __init__(self, version: int, bundle: MetadataBundle, *, dialect: str,
                 file_of: Callable[[ObjectDef], str] | None = None) -> None:
        self.version = version
        self.bundle = bundle
        self.dialect = dialect
        self.metadata = MetaData()
        self.catalog = Catalog(bundle)
        self.access = AccessPolicy(bundle.roles)
        self.objects: dict[str, CompiledObject] = {}
        #: what is compiled for this version on first use (objects/readers.py, OpenAPI)
        self.compiled: dict[str, Any] = {}
        self._file_of = file_of or (lambda o: f"objects/{o.api_name}.json")
        problems: list[str] = []
        for obj in bundle.objects:
            self.objects[obj.api_name] = self._compile_object(obj, problems)
        for compiled in self.objects.values():
            for f in compiled.fields.values():
                if f.fdef.type in ("lookup", "master_detail") and f.fdef.target in self.objects:
                    self.objects[f.fdef.target].children.append((compiled.name, f.name))
        self._order_formulas(problems)
        self._declare_computed()
        if problems:
            raise MetadataError(problems)

    # -- compiling ----------------------------------------------------------------------
    def _problem(self, obj: ObjectDef, path: str, err: FormulaError) -> str:
        where = f"{err.line}:{err.column}: " if err.line is not None else ""
        return f"{self._file_of(obj)}: {path}: {where}{err.message}"

    def _check(self, obj: ObjectDef, source: str, path: str, problems: list[str], *,
               context: str, expected: FType | None = None,
               blanks_as_zero: bool = False) -> CompiledFormula | None:
        try:
            checked = check(source, self.catalog, obj.api_name, context=context,
                            expected=expected, blanks_as_zero=blanks_as_zero)
            return CompiledFormula(checked, compile_python(checked))
        except FormulaError as err:
            problems.append(self._problem(obj, path, err))
            return None

    def _compile_object(self, obj: ObjectDef, problems: list[str]) -> CompiledObject:
        columns: list[Any] = system_columns()
        indexes: list[Index] = []
        if obj.pools:
            columns.append(pool_column())
            indexes.append(Index(f"ix_{obj.api_name}_{POOL_COLUMN}", POOL_COLUMN))
            self.access.declare_pools(obj.api_name, obj.pools)
        compiled: dict[str, CompiledField] = {}
        ma_fields: dict[str, marshmallow.fields.Field] = {}
        for index, f in enumerate(obj.fields):
            ftype = field_type(f.type)
            cf = CompiledField(f, ftype, index)
            compiled[f.api_name] = cf
            path = f"/fields/{index}"
            if ftype.stored:
                col_args: list[Any] = []
                if f.type in ("lookup", "master_detail"):
                    col_args.append(ForeignKey(f"obj_{f.target}.id",
                                               ondelete=ftype.ondelete(f)))  # type: ignore[attr-defined]
                columns.append(Column(f.api_name, ftype.column_type(f, self.bundle), *col_args,
                                      nullable=True))
                if f.unique:
                    indexes.append(Index(f"ux_{obj.api_name}_{f.api_name}", f.api_name,
                                         unique=True))
                elif f.indexed or f.type in ("lookup", "master_detail", "user"):
                    indexes.append(Index(f"ix_{obj.api_name}_{f.api_name}", f.api_name))
            if ftype.writable:
                ma_fields[f.api_name] = ftype.marshmallow_field(f)
            if f.default:
                expected = ftype.python_type(f)
                if expected in (FType.PICKLIST, FType.MULTI_PICKLIST):
                    expected = FType.TEXT  # a picklist default is the value's text
                cf.default = self._check(obj, f.default, f"{path}/default", problems,
                                         context="default", expected=expected)
            if f.type == "formula" and f.formula:
                cf.formula = self._check(obj, f.formula, f"{path}/formula", problems,
                                         context="field", expected=ftype.python_type(f),
                                         blanks_as_zero=f.treat_blanks_as == "zero")
            if f.type == "rollup":
                cf.summarised = ftype.summarised(f, self.bundle)  # type: ignore[attr-defined]
            if f.type == "rollup" and f.filter:
                child = f.child_object or ""
                try:
                    cf.rollup_filter = check(f.filter, self.catalog, child, context="filter",
                                             expected=FType.BOOLEAN)
                except FormulaError as err:
                    problems.append(self._problem(obj, f"{path}/filter", err))
        # AUTOINCREMENT on SQLite: a deleted record's id is never given to a new one
        table = Table(obj.table_name, self.metadata, *columns, *indexes,
                      sqlite_autoincrement=True)
        schema_cls = marshmallow.Schema.from_dict(ma_fields, name=f"{obj.api_name}_input")
        co = CompiledObject(obj, table, compiled, schema_cls(unknown=marshmallow.RAISE))
        for index, rule in enumerate(obj.validation_rules):
            if not rule.active:
                continue
            cond = self._check(obj, rule.error_condition,
                               f"/validation_rules/{index}/error_condition", problems,
                               context="validation", expected=FType.BOOLEAN)
            if cond is not None:
                co.rules.append(CompiledRule(rule.api_name, rule.field, rule.message, cond))
        return co

    def _order_formulas(self, problems: list[str]) -> None:
        """Find cycles across formula fields and order each object's formulas."""
        graph = DependencyGraph()
        for obj in self.objects.values():
            for f in obj.fields.values():
                if f.formula is None:
                    continue
                graph.add(f"{obj.name}.{f.name}", self._dependencies(obj.name, f.formula.checked))
        try:
            order = graph.order()
        except FormulaError as err:
            problems.append(f"objects: /: {err.message}")
            return
        for node in order:
            obj_name, _, fname = node.partition(".")
            target = self.objects.get(obj_name)
            if target and fname in target.fields and target.fields[fname].formula is not None:
                target.formula_order.append(fname)

    def _declare_computed(self) -> None:
        """Tell the access policy what each formula and roll-up reads, so that a value
        computed from a field hidden from a user is hidden from them as well."""
        for obj in self.objects.values():
            for f in obj.fields.values():
                node = f"{obj.name}.{f.name}"
                if f.formula is not None:
                    self.access.computed_from(node, self._dependencies(obj.name,
                                                                       f.formula.checked))
                elif f.fdef.type == "rollup" and f.fdef.child_object:
                    child = f.fdef.child_object
                    reads = {f"{child}.{f.fdef.relationship_field}"}
                    if f.fdef.rollup_field:
                        reads.add(f"{child}.{f.fdef.rollup_field}")
                    if f.rollup_filter is not None:
                        reads |= self._dependencies(child, f.rollup_filter)
                    self.access.computed_from(node, reads)

    def _dependencies(self, object_name: str, checked: CheckedFormula) -> set[str]:
        """The "object.field"s a formula reads: through lookups, and VLOOKUP's fields."""
        deps: set[str] = set()
        for other, field_name, key_field in checked.lookups:
            deps.update((f"{other}.{field_name}", f"{other}.{key_field}"))
        for path in checked.references:
            current = object_name
            for part in path:
                deps.add(f"{current}.{part}")
                spec = self.catalog.field(current, part)
                if spec is None or spec.target is None:
                    break
                current = spec.target
        return deps

    # -- lookups ------------------------------------------------------------------------
    def object(self, name: str) -> CompiledObject:
        from metabiz.errors import NotFound

        obj = self.objects.get(name)
        if obj is None:
            raise NotFound(f"unknown object {name!r}")
        return obj

    def rollups_over(self, child: str) -> list[tuple[CompiledObject, CompiledField]]:
        """Every roll-up field (on any object) that summarises `child` records."""
        found = []
        for obj in self.objects.values():
            for f in obj.fields.values():
                if f.fdef.type == "rollup" and f.fdef.child_object == child:
                    found.append((obj, f))
        return found

    # -- SQL ------------------------------------------------------------------------------
    def sql_columns(self, object_name: str, table: Any = None, *,
                    rows: RowReader | None = None,
                    sqlite_headroom: int | None = SQLITE_HEADROOM) -> ColumnResolver:
        """A resolver from formula field paths to SQL expressions over `table`.

        Dotted paths become correlated scalar subqueries through the lookup; formula
        fields are inlined as their own SQL so they filter and sort in the database;
        VLOOKUPs inside them read the `rows` of the other object. A formula field's SQL
        is tried on SQLite's parser with `sqlite_headroom` (compile_sql); None: not tried
        (the formula it stands in is tried as a whole).
        """
        obj = self.object(object_name)
        tbl = obj.table if table is None else table

        def resolve(path: tuple[str, ...]) -> ColumnElement[Any]:
            head, rest = path[0], path[1:]
            cf = obj.fields.get(head)
            if not rest:
                if cf is not None and cf.formula is not None:
                    return self._inlined(cf.formula.checked, inner, rows, sqlite_headroom)
                return tbl.c[head]
            if cf is None or cf.fdef.target is None:
                raise FormulaError(f"{head} is not a lookup", kind="sql")
            target = self.object(cf.fdef.target)
            alias = target.table.alias()
            through = self.sql_columns(target.name, alias, rows=rows,
                                       sqlite_headroom=sqlite_headroom)(rest)
            return select(through).where(alias.c.id == tbl.c[head]).scalar_subquery()

        # what an inlined formula reads is tried as part of it
        inner = resolve if sqlite_headroom is None else \
            self.sql_columns(object_name, table, rows=rows, sqlite_headroom=None)
        return resolve

    def formula_sql(self, checked: CheckedFormula, object_name: str, *, table: Any = None,
                    rows: RowReader | None = None, now: Any = None,
                    sqlite_headroom: int = SQLITE_HEADROOM) -> ColumnElement[Any]:
        """A checked formula on `object_name` as SQL over `table` (FormulaError when it
        cannot be); VLOOKUP reads the `rows` of other objects (every row when None)."""
        return compile_sql(checked, self.sql_columns(object_name, table, rows=rows,
                                                     sqlite_headroom=None),
                           self.dialect, now=now, resolve_object=self._other_rows(rows),
                           sqlite_headroom=sqlite_headroom)

    def compile_filter(self, object_name: str, source: str, *, now: Any = None,
                       table: Any = None) -> ColumnElement[bool]:
        """A list filter formula as a SQL WHERE clause (FormulaError when it cannot be)."""
        checked = check(source, self.catalog, object_name, context="filter",
                        expected=FType.BOOLEAN)
        return self.formula_sql(checked, object_name, table=table, now=now)

    def _other_rows(self, rows: RowReader | None) -> Callable[[str], ColumnResolver]:
        def resolve_object(name: str) -> ColumnResolver:
            target = self.object(name)
            if rows is not None:
                return rows(target)
            return self.sql_columns(name, target.table.alias())

        return resolve_object

    def _inlined(self, checked: CheckedFormula, resolve: ColumnResolver,
                 rows: RowReader | None, sqlite_headroom: int | None) -> ColumnElement[Any]:
        """A formula field's SQL, held the way a column of its type is stored (the formula
        back end reads both alike)."""
        sql = compile_sql(checked, resolve, self.dialect, resolve_object=self._other_rows(rows),
                          sqlite_headroom=sqlite_headroom)
        if checked.type is not FType.TIME:
            return sql
        # the back end computes with milliseconds after midnight, a column holds a time
        if self.dialect == "sqlite":
            ms = cast(sql, Integer)
            return case((ms.is_(None), None), else_=func.printf(
                literal("%02d:%02d:%02d.%03d"), ms // 3600000, ms // 60000 % 60,
                ms // 1000 % 60, ms % 1000))
        return literal_column("time '00:00'") + sql * literal_column("interval '1 millisecond'")
