"""The migration from one metadata version to the next: tables, columns, values, indexes.

It walks the new compiled schema against the old bundle and what the database holds, does
the DDL through Alembic's operations, and writes one plan line per change; a value it cannot
keep (and --convert-failures=blank was not given) becomes a problem that refuses the apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    Column,
    Connection,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.types import TypeEngine

from metabiz.errors import FormulaError, MetadataError
from metabiz.formulas import EvalContext
from metabiz.objects import rollups, search_index
from metabiz.objects.context import Context
from metabiz.objects.evolution.columns import (
    blank_values,
    rename_references,
    rescale_column,
    set_aside,
    without_default,
    write_values,
)
from metabiz.objects.evolution.conversions import REFERENCE_TYPES, convert_values
from metabiz.objects.evolution.history import definitions_in_history
from metabiz.objects.evolution.plan import Change, Plan, object_parts, option_parts, plural, short
from metabiz.objects.evolution.pool_columns import migrate_pools
from metabiz.objects.evolution.preflight import Failure, narrowings, refusal
from metabiz.objects.fields import field_type
from metabiz.objects.records import Resolver
from metabiz.objects.schema import CompiledField, CompiledObject, RuntimeSchema
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import counters
from metabiz.platform.metadata.model import FieldDef, MetadataBundle, ObjectDef
from metabiz.platform.metadata.store import conversion_losses, ensure_losses_table

LOSSES_NOTE = "old values listed in sys_conversion_losses"


class Migration:
    """Plans and performs the DDL and data changes from one version to the next."""

    def __init__(self, conn: Connection, old: MetadataBundle, schema: RuntimeSchema,
                 plan: Plan, convert_failures: str | None) -> None:
        self.conn = conn
        self.old = old
        self.schema = schema
        self.plan = plan
        self.blank = convert_failures == "blank"
        self.dialect = conn.dialect.name
        self.ops = Operations(MigrationContext.configure(conn))
        self.now = dt.datetime.now(dt.UTC)
        self.problems: list[str] = []
        self._history: dict[str, ObjectDef] | None = None
        self.created: set[str] = set()
        #: the definition each object had before (None: new), and old → new object names
        self.previous: dict[str, ObjectDef | None] = {}
        self.renamed_objects: dict[str, str] = {}
        self.added: dict[tuple[str, str], Change] = {}
        self.backfills: list[tuple[CompiledObject, CompiledField, Change]] = []
        self.required: list[tuple[CompiledObject, CompiledField]] = []
        self.refresh: list[tuple[CompiledObject, CompiledField]] = []
        self.losses: list[dict[str, Any]] = []

    def step(self, sign: str, text: str) -> Change:
        return self.plan.add(sign, text)

    def run(self) -> None:
        search_index.before_migration(self.conn, self.old, self.schema)
        self._create_tables()
        self._rename_tables()
        for obj in self.schema.objects.values():
            if obj.name not in self.created:
                self._object(obj)
        for gone in self.old.objects:
            if gone.api_name not in self.schema.objects \
                    and gone.api_name not in self.renamed_objects:
                self.step("-", f"remove object {gone.api_name} (data kept; "
                               f"`metabiz restore {gone.api_name}` brings it back)")
        for obj, cf, change in self.backfills:
            self._default_existing(obj, cf, change)
        for obj, cf in self.required:
            self._check_required(obj, cf)
        for obj in self.schema.objects.values():
            if obj.name not in self.created:
                self._indexes(obj)
        if self.problems:
            raise MetadataError(self.problems)
        self._record_losses()
        for parent, rollup in self.refresh:
            rollups.refresh_all(self.conn, self.schema, parent, rollup)
            self.step("~", f"compute roll-up {parent.name}.{rollup.name}")
        search_index.after_migration(self.conn, self.schema)

    def _where(self, obj: CompiledObject, cf: CompiledField, key: str) -> str:
        return f"objects/{obj.name}.json: /fields/{cf.index}/{key}"

    # -- objects ------------------------------------------------------------------------
    def _create_tables(self) -> None:
        """New objects' tables at once, so foreign keys between them find each other."""
        inspector = inspect(self.conn)
        new = [obj for obj in self.schema.objects.values()
               if not inspector.has_table(obj.table.name)
               and not (obj.odef.renamed_from
                        and inspector.has_table(f"obj_{obj.odef.renamed_from}"))]
        self.schema.metadata.create_all(self.conn, tables=[obj.table for obj in new])
        for obj in new:
            self.created.add(obj.name)
            self.step("+", f"create object {obj.name} (table {obj.table.name})")

    def _rename_tables(self) -> None:
        """Renamed objects first, so every later step finds every table under its new name."""
        inspector = inspect(self.conn)
        for obj in self.schema.objects.values():
            if obj.name in self.created:
                continue
            previous = self.old.object(obj.name)
            source = obj.odef.renamed_from
            if not inspector.has_table(obj.table.name):
                assert source is not None  # otherwise _create_tables made it
                self.ops.rename_table(f"obj_{source}", obj.table.name)
                rename_references(self.conn, source, None, obj.name, None)
                self.renamed_objects[source] = obj.name
                self.step("→", f"rename object {source} → {obj.name} (data kept)")
                previous = self.old.object(source) or self._last_definition(source)
            elif previous is None:
                previous = self._last_definition(obj.name)
                if previous is not None:
                    self.step("+", f"restore object {obj.name} with its data")
            self.previous[obj.name] = previous

    def _object(self, obj: CompiledObject) -> None:
        previous = self.previous.get(obj.name)
        columns = {c["name"] for c in inspect(self.conn).get_columns(obj.table.name)}
        migrate_pools(self.conn, self.ops, obj, previous, columns, self.step, self.now)
        for cf in obj.fields.values():
            before = previous.field(cf.name) if previous else None
            if before is None and cf.fdef.renamed_from and previous:
                before = previous.field(cf.fdef.renamed_from)
            if cf.fdef.type == "rollup" and before != cf.fdef:
                self.refresh.append((obj, cf))
            if cf.ftype.stored:
                self._field(obj, cf, before, columns)
            elif before is None and previous is not None:
                self.step("+", f"add field {obj.name}.{cf.name} ({cf.fdef.type}, computed "
                               "on read)")
            elif before is not None and before != cf.fdef:
                self._describe_options(obj, cf, before)
        if previous is not None:
            kept = {f.fdef.renamed_from for f in obj.fields.values() if f.fdef.renamed_from}
            for f in previous.fields:
                if f.api_name in obj.fields or f.api_name in kept:
                    continue
                name = f"{obj.name}.{f.api_name}"
                if field_type(f.type).stored:
                    without_default(self.conn, self.ops, obj.table.name, f.api_name,
                                    field_type(f.type).column_type(f, self.old))
                    self.step("-", f"remove field {name} (data kept; "
                                   f"`metabiz restore {name}` brings it back)")
                else:
                    self.step("-", f"remove field {name} ({f.type})")
        if previous is not None and object_parts(previous, obj.odef):
            self.step("~", f"change object {obj.name}: "
                           f"{', '.join(object_parts(previous, obj.odef))}")

    # -- fields -------------------------------------------------------------------------
    def _field(self, obj: CompiledObject, cf: CompiledField, before: FieldDef | None,
               columns: set[str]) -> None:
        name = f"{obj.name}.{cf.name}"
        source = cf.fdef.renamed_from
        if cf.name in columns and source and source in columns and before is not None \
                and before.api_name == source:
            self.problems.append(
                f"{self._where(obj, cf, 'renamed_from')}: {obj.name}.{source} cannot be renamed "
                f"to {cf.name}: a removed field {cf.name} still keeps its data there "
                f"(`metabiz purge {name}` deletes it, or choose another name)")
            return
        if cf.name not in columns:
            if source and source in columns and before is not None:
                self.ops.alter_column(obj.table.name, source, new_column_name=cf.name)
                rename_references(self.conn, obj.name, source, obj.name, cf.name)
                self.step("→", f"rename field {obj.name}.{source} → {cf.name} (data kept)")
                columns.add(cf.name)
            else:
                self._add_column(obj, cf)
                return
        elif before is None:
            before = self._last_field_definition(obj.name, cf.name)
            if before is not None:
                self.step("+", f"restore field {name} with its data")
        if before is None or not field_type(before.type).stored:
            return
        if before.type != cf.fdef.type:
            self._convert(obj, cf, before)
        else:
            self._change_options(obj, cf, before)
        if cf.fdef.required and not before.required:
            self.required.append((obj, cf))

    def _add_column(self, obj: CompiledObject, cf: CompiledField) -> None:
        table, column_type = obj.table.name, obj.table.c[cf.name].type
        change = self.step("+", f"add field {obj.name}.{cf.name} ({cf.fdef.type})")
        self.added[(obj.name, cf.name)] = change
        constant = self._constant_default(cf)
        if constant is not None:
            # One DDL statement whatever the row count: the database keeps the default once
            # for the rows that exist instead of writing it into each of them. PostgreSQL
            # (≥ 11) can drop it again at once, so new rows are the record service's alone;
            # SQLite cannot, so it stays until the field is removed (see without_default).
            default = str(literal(constant, column_type).compile(
                dialect=self.conn.dialect, compile_kwargs={"literal_binds": True}))
            if self.conn.dialect.paramstyle in ("format", "pyformat"):
                default = default.replace("%%", "%")  # DDL runs without parameters
            self.ops.add_column(table, Column(cf.name, column_type, nullable=True,
                                              server_default=text(default)))
            if self.dialect == "postgresql":
                self.ops.alter_column(table, cf.name, server_default=None,
                                      existing_type=column_type)
            count = self.conn.execute(select(func.count()).select_from(obj.table)).scalar_one()
        else:
            self.ops.add_column(table, Column(cf.name, column_type, nullable=True))
            if cf.fdef.type == "auto_number":
                self._number_existing(obj, cf, change)
            elif cf.default is not None:
                # after every new column exists: the default may read the record's fields
                self.backfills.append((obj, cf, change))
        if constant is not None and count:
            value = short(cf.ftype.as_text(cf.fdef, cf.ftype.from_db(cf.fdef, constant)))
            change.details.append(f"{plural(count, 'existing record')} set to the default "
                                  f"{value}")
        if cf.fdef.required:
            self.required.append((obj, cf))

    def _constant_default(self, cf: CompiledField) -> Any:
        """The column value of a default that reads no field (None when there is none)."""
        if cf.default is None or cf.default.checked.references \
                or cf.default.checked.lookups or cf.fdef.type in REFERENCE_TYPES:
            return None
        try:
            value = cf.default.run(EvalContext(record={}, now=self.now, is_new=True))
        except FormulaError:
            return None  # each record then gets what the record service would give it
        return cf.ftype.to_db(cf.fdef, _default_value(cf, value))

    def _default_existing(self, obj: CompiledObject, cf: CompiledField, change: Change) -> None:
        assert cf.default is not None
        table = obj.table
        resolver = Resolver(Context(self.conn, self.schema, SYSTEM, now=self.now))
        values = []
        for row in self.conn.execute(select(table)).mappings().all():
            record = obj.decode(row)
            try:
                value = cf.default.run(resolver.context(obj, record, is_new=True))
            except FormulaError:
                continue  # as on create: a default that cannot be computed leaves it blank
            values.append((row["id"], cf.ftype.to_db(cf.fdef, _default_value(cf, value))))
        written = write_values(self.conn, table, cf.name, values)
        if written:
            change.details.append(f"{plural(written, 'existing record')} set to the default")

    def _number_existing(self, obj: CompiledObject, cf: CompiledField, change: Change) -> None:
        table = obj.table
        ids = self.conn.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        render = cf.ftype.render  # type: ignore[attr-defined]
        write_values(self.conn, table, cf.name,
                     [(i, render(cf.fdef, n)) for n, i in enumerate(ids, 1)])
        if ids:
            change.details.append(f"{plural(len(ids), 'existing record')} numbered in id order")
        name = f"{obj.name}.{cf.name}"
        self.conn.execute(counters.delete().where(counters.c.name == name))
        self.conn.execute(counters.insert().values(name=name, value=len(ids)))

    # -- conversions --------------------------------------------------------------------
    def _convert(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> None:
        where = self._where(obj, cf, "type")
        name = f"{obj.name}.{cf.name}"
        if cf.fdef.type not in field_type(before.type).converts_to:
            self.problems.append(f"{where}: {name} cannot be converted from {before.type} to "
                                 f"{cf.fdef.type} (docs/schema-changes.md lists the "
                                 "conversions; add a new field instead)")
            return
        done = convert_values(self.conn, self.schema, self.old, obj, cf, before,
                              self._compiled(before.target or ""), self.now)
        if done.failures and not self.blank:
            self.problems.append(refusal(
                where, f"cannot convert {len(done.failures)} of {done.total} values of {name} "
                       f"from {before.type} to {cf.fdef.type}",
                [f.line() for f in done.failures]))
            return
        backup = set_aside(self.conn, self.ops, obj, cf,
                           field_type(before.type).column_type(before, self.old),
                           self.schema.version)
        written = write_values(self.conn, obj.table, cf.name, done.converted)
        self._lose(obj, cf, before, done.failures)
        change = self.step("~", f"convert {name} from {before.type} to {cf.fdef.type}")
        blanked = f", {len(done.failures)} blanked ({LOSSES_NOTE})" if done.failures else ""
        change.details.append(f"{plural(written, 'value')} converted{blanked}; "
                              f"old values kept in column {backup}")
        if done.timed:
            change.details.append(f"{plural(done.timed, 'value')} had a time of day: the UTC "
                                  "date is kept")

    def _compiled(self, old_name: str) -> CompiledObject | None:
        new_name = self.renamed_objects.get(old_name, old_name)
        return self.schema.objects.get(new_name)

    # -- option changes (same type) -------------------------------------------------------
    def _change_options(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> None:
        after = cf.fdef
        name = f"{obj.name}.{cf.name}"
        if after.type in REFERENCE_TYPES and \
                self.renamed_objects.get(before.target or "", before.target) != after.target:
            self.problems.append(
                f"{self._where(obj, cf, 'target')}: {name} points to {before.target} records; "
                f"a lookup's target cannot change to {after.target} (add a new field instead)")
            return
        table = obj.table
        old_type = field_type(before.type)
        column = table.c[cf.name]
        stored = type_coerce(column, old_type.column_type(before, self.old))
        blanked = 0
        refused = False
        for check in narrowings(cf, before, column, self.old, self.schema.bundle, self.dialect):
            rows = self.conn.execute(select(table.c.id, stored)
                                     .where(column.is_not(None), check.violates)
                                     .order_by(table.c.id)).all()
            if not rows:
                continue
            failures = [Failure(i, old_type.as_text(before, old_type.from_db(before, raw)),
                                check.description) for i, raw in rows]
            if not self.blank:
                refused = True
                self.problems.append(refusal(
                    self._where(obj, cf, check.key),
                    f"{plural(len(rows), obj.name + ' record')} with {check.description} in "
                    f"{name}", [f"id {f.record_id}: {short(f.value)}" for f in failures]))
                continue
            if check.removed_values:  # a multi-picklist keeps the values that remain
                kept = [(i, ";".join(v for v in raw.split(";") if v not in check.removed_values))
                        for i, raw in rows]
                blank_values(self.conn, table, cf.name, [i for i, v in kept if not v])
                write_values(self.conn, table, cf.name, kept)
            else:
                self.conn.execute(update(table).where(check.violates).values({cf.name: None}))
            self._lose(obj, cf, before, failures)
            blanked += len(rows)
        if refused:
            return
        self._retype(obj, cf, before)
        change = self._describe_options(obj, cf, before)
        if blanked and change is not None:
            change.details.append(f"{plural(blanked, 'value')} blanked ({LOSSES_NOTE})")
        if change is not None and before.scale != cf.fdef.scale \
                and isinstance(scale := getattr(column.type, "stored_scale", None), int):
            values = self.conn.execute(select(func.count()).where(column.is_not(None)))
            change.details.append(f"{plural(values.scalar() or 0, 'value')} kept exactly at "
                                  f"{scale} decimal places")

    def _retype(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> None:
        """PostgreSQL enforces lengths and scales: give the column its new type (SQLite
        stores any length in the type it has, and exact numbers as integers times 10^scale:
        those are multiplied or divided by the difference)."""
        old = field_type(before.type).column_type(before, self.old)
        new = cf.ftype.column_type(cf.fdef, self.schema.bundle)
        if self.dialect != "postgresql":
            before_scale = getattr(old, "stored_scale", None)
            after_scale = getattr(new, "stored_scale", None)
            if before_scale is not None and after_scale is not None \
                    and before_scale != after_scale:
                rescale_column(self.conn, self.ops, obj.table.name, cf.name, new,
                               after_scale - before_scale)
            return
        if _sql(old, self.conn) == _sql(new, self.conn):
            return
        using = "NULL" if cf.fdef.type == "rollup" else f'"{cf.name}"::{_sql(new, self.conn)}'
        self.ops.alter_column(obj.table.name, cf.name, type_=new, existing_type=old,
                              postgresql_using=using)

    def _describe_options(self, obj: CompiledObject, cf: CompiledField,
                          before: FieldDef) -> Change | None:
        parts = option_parts(before, cf.fdef)
        if not parts:
            return None
        name = f"{obj.name}.{cf.name}"
        return self.step("~", f"change field {name}: {'; '.join(parts)}")

    # -- constraints --------------------------------------------------------------------
    def _check_required(self, obj: CompiledObject, cf: CompiledField) -> None:
        if cf.fdef.type == "boolean":  # a blank checkbox reads as false
            return
        table, name = obj.table, f"{obj.name}.{cf.name}"
        ids = self.conn.execute(select(table.c.id).where(table.c[cf.name].is_(None))
                                .order_by(table.c.id)).scalars().all()
        change = self.added.get((obj.name, cf.name))
        if ids and not self.blank:
            self.problems.append(refusal(
                self._where(obj, cf, "required"),
                f"{name} cannot be required: {plural(len(ids), obj.name + ' record')} without "
                "a value", [f"id {i}" for i in ids],
                "give it a default, fill them in, or apply with --convert-failures=blank to "
                "leave them blank until their next edit"))
            return
        if change is None:
            change = self.step("~", f"make {name} required")
        if ids:
            change.details.append(f"{plural(len(ids), 'record')} left blank: each needs a "
                                  "value on its next edit")

    def _indexes(self, obj: CompiledObject) -> None:
        table = obj.table.name
        existing = {str(ix["name"]): ix for ix in inspect(self.conn).get_indexes(table)
                    if ix["name"]}
        managed = {name for name in existing if name.startswith(("ux_", "ix_"))}
        wanted = {str(ix.name): ix for ix in obj.table.indexes if ix.name}

        def shape(name: str) -> tuple[tuple[str, ...], bool]:
            return tuple(str(c) for c in existing[name]["column_names"]), \
                bool(existing[name]["unique"])

        def wanted_shape(name: str) -> tuple[tuple[str, ...], bool]:
            return tuple(c.name for c in wanted[name].columns), bool(wanted[name].unique)

        if self.dialect == "postgresql":
            # a renamed field or object keeps its index: renaming one is instant
            for name in wanted:
                spare = next((n for n in sorted(managed) if name not in existing
                              and n not in wanted and shape(n) == wanted_shape(name)), None)
                if spare is not None:
                    self.conn.exec_driver_sql(f'ALTER INDEX "{spare}" RENAME TO "{name}"')
                    existing[name] = existing.pop(spare)
                    managed = (managed - {spare}) | {name}
        for name in sorted(managed):
            if name not in wanted or shape(name) != wanted_shape(name):
                self.ops.drop_index(name, table_name=table)
                column = shape(name)[0][0] if shape(name)[0] else ""
                before, cf = self._before(obj, column), obj.fields.get(column)
                if before is not None and before.indexed and cf is not None \
                        and not cf.fdef.indexed:
                    self.step("-", f"drop the index on {obj.name}.{column}")
                del existing[name]
        for name, index in wanted.items():
            if name in existing:
                continue
            column = next(iter(index.columns)).name
            blanked = self._deduplicate(obj, column) if index.unique else 0
            if blanked is None:
                continue
            self.ops.create_index(name, table, [column], unique=bool(index.unique))
            before = self._before(obj, column)
            cf = obj.fields.get(column)
            if not index.unique and cf is not None and cf.fdef.indexed and \
                    (before is None or not before.indexed):
                self.step("+", f"index {obj.name}.{column}")
            if index.unique and before is not None and not before.unique:
                change = self.step("~", f"make {obj.name}.{column} unique")
                if blanked:
                    change.details.append(f"{plural(blanked, 'repeated value')} blanked "
                                          f"({LOSSES_NOTE})")

    def _before(self, obj: CompiledObject, field_name: str) -> FieldDef | None:
        previous = self.previous.get(obj.name)
        cf = obj.fields.get(field_name)
        if previous is None or cf is None:
            return None
        return previous.field(field_name) or previous.field(cf.fdef.renamed_from or "")

    def _deduplicate(self, obj: CompiledObject, column: str) -> int | None:
        """How many repeats were blanked so `column` can be unique (None: it cannot be)."""
        table, col = obj.table, obj.table.c[column]
        repeated = select(col).where(col.is_not(None)).group_by(col).having(func.count() > 1)
        rows = self.conn.execute(select(table.c.id, col).where(col.in_(repeated))
                                 .order_by(col, table.c.id)).all()
        if not rows:
            return 0
        groups: dict[Any, list[int]] = {}
        for record_id, value in rows:
            groups.setdefault(value, []).append(record_id)
        cf = obj.fields[column]
        if not self.blank:
            lines = [f"{short(value)} is used {len(ids)} times: ids "
                     + ", ".join(str(i) for i in ids[:10]) + (", …" if len(ids) > 10 else "")
                     for value, ids in groups.items()]
            self.problems.append(refusal(
                self._where(obj, cf, "unique"),
                f"{obj.name}.{column} cannot be unique: {plural(len(groups), 'value')} used "
                "more than once", lines))
            return None
        repeats = [(ids[0], i, value) for value, ids in groups.items() for i in ids[1:]]
        blanked = [i for _, i, _ in repeats]
        blank_values(self.conn, table, column, blanked)
        self._lose(obj, cf, cf.fdef, [
            Failure(i, cf.ftype.as_text(cf.fdef, cf.ftype.from_db(cf.fdef, value)),
                    f"the same value as record {first}") for first, i, value in repeats])
        return len(blanked)

    # -- what blanks leave behind ---------------------------------------------------------
    def _lose(self, obj: CompiledObject, cf: CompiledField, before: FieldDef,
              failures: Sequence[Failure]) -> None:
        self.losses.extend({"object": obj.name, "field": cf.name, "record_id": f.record_id,
                            "old_type": before.type, "old_value": f.value, "reason": f.reason}
                           for f in failures)

    def _record_losses(self) -> None:
        if not self.losses:
            return
        ensure_losses_table(self.conn)
        stamp = self.now.replace(tzinfo=None)
        self.conn.execute(insert(conversion_losses), [
            {**loss, "version": self.schema.version, "recorded_at": stamp}
            for loss in self.losses])

    # -- history ------------------------------------------------------------------------
    def _last_definition(self, object_name: str) -> ObjectDef | None:
        """The object as the newest version that had it defined it (restores, re-adds)."""
        if self._history is None:
            self._history = definitions_in_history(self.conn)
        return self._history.get(object_name)

    def _last_field_definition(self, object_name: str, field_name: str) -> FieldDef | None:
        if self._history is None:
            self._history = definitions_in_history(self.conn)
        obj = self._history.get(object_name)
        return obj.field(field_name) if obj else None


def _default_value(cf: CompiledField, value: Any) -> Any:
    """A default's result as the record service stores it (numbers into text as text)."""
    if value is not None and isinstance(value, Decimal | int | float) \
            and cf.fdef.type in ("text", "long_text"):
        value = str(value)
    return cf.ftype.normalise(cf.fdef, value)


def _sql(column_type: TypeEngine[Any], conn: Connection) -> str:
    return str(column_type.compile(dialect=conn.dialect))
