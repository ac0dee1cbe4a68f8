"""Applying metadata to the database: validate → compile → plan → migrate → new version.

Everything happens in one write transaction, so any error leaves data and metadata exactly
as before. The plan comes from the applied version and what the database really holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import marshmallow
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    bindparam,
    func,
    inspect,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError

from metabiz.errors import ConflictError, MetadataError, NotFound
from metabiz.formulas import EvalContext
from metabiz.objects import rollups
from metabiz.objects.fields import FieldType, field_type
from metabiz.objects.runtime import bundle_from_documents
from metabiz.objects.schema import CompiledField, CompiledObject, RuntimeSchema
from metabiz.platform.db import counters, metadata_versions, writer
from metabiz.platform.metadata.loader import bundle_documents, load_documents, load_path
from metabiz.platform.metadata.model import FieldDef, MetadataBundle, ObjectDef
from metabiz.platform.metadata.store import (
    current_version,
    merge_app,
    save_version,
    split_apps,
)
from metabiz.platform.metadata.store import load_documents as stored_documents

#: how many failing rows a refused conversion lists
MAX_LISTED = 20
TEXT_TYPES = frozenset({"text", "long_text", "email", "phone", "url", "picklist"})


@dataclass
class Plan:
    """What an apply did (or, with --dry-run, would do), one line per change."""

    steps: list[str] = field(default_factory=list)
    version: int | None = None
    dry_run: bool = False

    def render(self) -> str:
        lines = self.steps or ["no changes"]
        if self.dry_run:
            tail = "dry run: nothing was changed"
        elif self.version is None:
            tail = "metadata unchanged"
        else:
            tail = f"applied as version {self.version}"
        return "\n".join([*lines, tail])


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def apply_path(engine: Engine, path: str | Path, *, applied_by: str = "system",
               dry_run: bool = False, convert_failures: str | None = None) -> Plan:
    """Apply a metadata folder (an app) or one JSON document."""
    path = Path(path)
    with engine.connect() as conn:
        stored = stored_documents(conn)
    others = _objects_outside(stored, path)
    bundle = load_path(path, known_objects=others)
    documents = {rel: doc for rel, doc in bundle_documents(bundle).items()
                 if not rel.startswith("data/")}
    app = bundle.app.name if path.is_dir() and bundle.app is not None else None
    return apply_documents(engine, lambda current: merge_app(current, app, documents),
                           applied_by=applied_by, dry_run=dry_run,
                           convert_failures=convert_failures,
                           summary=f"apply {path.name}")


def _objects_outside(stored: Mapping[str, Any], path: Path) -> set[str]:
    """Object names of the installed apps, except the one this folder replaces."""
    app_name = None
    if path.is_dir() and (path / "app.json").exists():
        import json

        try:
            app_name = json.loads((path / "app.json").read_text()).get("name")
        except (ValueError, OSError, AttributeError):
            app_name = None  # the loader reports the broken app.json
    names: set[str] = set()
    for app, docs in split_apps(stored).items():
        if app == app_name:
            continue
        names.update(rel.split("/", 1)[1].removesuffix(".json") for rel in docs
                     if rel.startswith("objects/"))
    return names


def apply_documents(engine: Engine, change: Callable[[dict[str, Any]], dict[str, Any]], *,
                    applied_by: str, summary: str, dry_run: bool = False,
                    convert_failures: str | None = None) -> Plan:
    """Turn the stored documents into `change(stored)` and migrate the database to match."""
    if convert_failures not in (None, "blank"):
        raise MetadataError([f"--convert-failures: unknown value {convert_failures!r} "
                             "(only 'blank')"])
    plan = Plan(dry_run=dry_run)
    try:
        with writer(engine).begin() as conn:
            stored = stored_documents(conn)
            documents = change(dict(stored))
            if documents == stored:
                return plan
            old = bundle_from_documents(stored) if stored else MetadataBundle(app=None)
            new = bundle_from_documents(documents)
            version = current_version(conn) + 1
            schema = RuntimeSchema(version, new, dialect=engine.dialect.name)
            _Migration(conn, old, schema, plan, convert_failures).run()
            if dry_run:
                raise _DryRun
            plan.version = save_version(conn, documents, applied_by,
                                        f"{summary}: " + ("; ".join(plan.steps) or "metadata only"))
    except _DryRun:
        pass
    return plan


class _Migration:
    """Plans and performs the DDL and data changes from one version to the next."""

    def __init__(self, conn: Connection, old: MetadataBundle, schema: RuntimeSchema,
                 plan: Plan, convert_failures: str | None) -> None:
        self.conn = conn
        self.old = old
        self.schema = schema
        self.plan = plan
        self.convert_failures = convert_failures
        self.ops = Operations(MigrationContext.configure(conn))
        self.problems: list[str] = []
        self._history: dict[str, ObjectDef] | None = None
        self.created: set[str] = set()
        self.backfills: list[tuple[CompiledObject, CompiledField]] = []

    def step(self, text: str) -> None:
        self.plan.steps.append(text)

    def run(self) -> None:
        refresh: list[tuple[CompiledObject, CompiledField]] = []
        new_names = set(self.schema.objects)
        renamed_away = {o.odef.renamed_from for o in self.schema.objects.values()
                        if o.odef.renamed_from}
        self._create_tables()
        for obj in self.schema.objects.values():
            if obj.name not in self.created:
                refresh.extend(self._object(obj))
        for gone in self.old.objects:
            if gone.api_name not in new_names and gone.api_name not in renamed_away:
                self.step(f"remove object {gone.api_name} (data kept; "
                          f"`metabiz restore {gone.api_name}` brings it back)")
        if self.problems:
            raise MetadataError(self.problems)
        for obj, cf in self.backfills:
            self._default_existing(obj, cf)
        for parent, rollup in refresh:
            rollups.refresh_all(self.conn, self.schema, parent, rollup)
            self.step(f"compute roll-up {parent.name}.{rollup.name}")

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
            self.step(f"create object {obj.name} (table {obj.table.name})")

    def _object(self, obj: CompiledObject) -> list[tuple[CompiledObject, CompiledField]]:
        inspector = inspect(self.conn)
        table = obj.table.name
        previous = self.old.object(obj.name)
        if not inspector.has_table(table):
            source = obj.odef.renamed_from
            if source and inspector.has_table(f"obj_{source}"):
                self.ops.rename_table(f"obj_{source}", table)
                self.step(f"rename object {source} → {obj.name} (data kept)")
                previous = self.old.object(source) or self._last_definition(source)
                inspector = inspect(self.conn)
            else:  # pragma: no cover - created up front by _create_tables
                raise AssertionError(f"{table} should exist")
        elif previous is None:
            previous = self._last_definition(obj.name)
            if previous is not None:
                self.step(f"restore object {obj.name} with its data")
        columns = {c["name"] for c in inspector.get_columns(table)}
        refresh: list[tuple[CompiledObject, CompiledField]] = []
        for cf in obj.fields.values():
            before = previous.field(cf.name) if previous else None
            if before is None and cf.fdef.renamed_from and previous:
                before = previous.field(cf.fdef.renamed_from)
            if cf.fdef.type == "rollup" and (before is None or before != cf.fdef):
                refresh.append((obj, cf))
            if not cf.ftype.stored:
                continue
            self._field(obj, cf, before, columns)
        if previous is not None:
            kept = {f.fdef.renamed_from for f in obj.fields.values() if f.fdef.renamed_from}
            for f in previous.fields:
                if (f.api_name not in obj.fields and f.api_name not in kept
                        and field_type(f.type).stored):
                    self.step(f"remove field {obj.name}.{f.api_name} (data kept; "
                              f"`metabiz restore {obj.name}.{f.api_name}` brings it back)")
        self._indexes(obj)
        return refresh

    # -- fields -------------------------------------------------------------------------
    def _field(self, obj: CompiledObject, cf: CompiledField, before: FieldDef | None,
               columns: set[str]) -> None:
        table = obj.table.name
        if cf.name not in columns:
            source = cf.fdef.renamed_from
            if source and source in columns and before is not None:
                self._drop_indexes_on(table, source)
                self.ops.alter_column(table, source, new_column_name=cf.name)
                self.step(f"rename field {obj.name}.{source} → {cf.name} (data kept)")
                columns.add(cf.name)
            else:
                self._add_column(obj, cf)
                return
        elif before is None:
            before = self._last_field_definition(obj.name, cf.name)
            if before is not None:
                self.step(f"restore field {obj.name}.{cf.name} with its data")
        if before is not None and field_type(before.type).stored and _needs_conversion(
                before, cf.fdef):
            self._convert(obj, cf, before)

    def _add_column(self, obj: CompiledObject, cf: CompiledField) -> None:
        column = obj.table.c[cf.name]
        self.ops.add_column(obj.table.name, Column(cf.name, column.type, nullable=True))
        self.step(f"add field {obj.name}.{cf.name} ({cf.fdef.type})")
        if cf.fdef.type == "auto_number":
            self._number_existing(obj, cf)
        elif cf.default is not None:
            # after every new column exists: the default may read the record's fields
            self.backfills.append((obj, cf))

    def _default_existing(self, obj: CompiledObject, cf: CompiledField) -> None:
        table = obj.table
        now = dt.datetime.now(dt.UTC)
        rows = self.conn.execute(select(table)).mappings().all()
        if not rows:
            return
        assert cf.default is not None
        updates = []
        for row in rows:
            record = obj.decode(row)
            value = cf.default.run(EvalContext(record=record, now=now, is_new=True))
            value = cf.ftype.normalise(cf.fdef, value)
            updates.append({"_id": row["id"], "_value": cf.ftype.to_db(cf.fdef, value)})
        self.conn.execute(update(table).where(table.c.id == bindparam("_id"))
                          .values({cf.name: bindparam("_value")}), updates)
        self.step(f"set {obj.name}.{cf.name} to its default on {len(updates)} existing records")

    def _number_existing(self, obj: CompiledObject, cf: CompiledField) -> None:
        table = obj.table
        ids = self.conn.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        render = cf.ftype.render  # type: ignore[attr-defined]
        if ids:
            self.conn.execute(update(table).where(table.c.id == bindparam("_id"))
                              .values({cf.name: bindparam("_value")}),
                              [{"_id": i, "_value": render(cf.fdef, n)}
                               for n, i in enumerate(ids, start=1)])
            self.step(f"number {len(ids)} existing {obj.name} records")
        name = f"{obj.name}.{cf.name}"
        self.conn.execute(counters.delete().where(counters.c.name == name))
        self.conn.execute(counters.insert().values(name=name, value=len(ids)))

    def _convert(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> None:
        old_type, new_type = field_type(before.type), cf.ftype
        where = f"objects/{obj.name}.json: /fields/{cf.index}/type"
        if before.type != cf.fdef.type and cf.fdef.type not in old_type.converts_to:
            self.problems.append(f"{where}: {obj.name}.{cf.name} cannot be converted from "
                                 f"{before.type} to {cf.fdef.type}")
            return
        table = obj.table
        # Read the values with the type they were stored with, not the new one.
        stored = type_coerce(table.c[cf.name], old_type.column_type(before, self.old))
        rows = self.conn.execute(select(table.c.id, stored).where(stored.is_not(None))
                                 .order_by(table.c.id)).all()
        converted, failures = [], []
        for record_id, raw in rows:
            try:
                value = convert_value(old_type, before, new_type, cf.fdef,
                                      old_type.from_db(before, raw))
            except ValueError as err:
                failures.append((record_id, raw, str(err)))
                value = None
            converted.append({"_id": record_id, "_value": value})
        if failures and self.convert_failures != "blank":
            listed = ", ".join(f"id {i} ({_short(v)}: {why})"
                               for i, v, why in failures[:MAX_LISTED])
            more = f" and {len(failures) - MAX_LISTED} more" if len(failures) > MAX_LISTED else ""
            self.problems.append(
                f"{where}: cannot convert {len(failures)} of {len(rows)} {obj.name} records "
                f"from {before.type} to {cf.fdef.type}: {listed}{more} "
                "(fix them, or apply with --convert-failures=blank)")
            return
        # Keep the old values in a backup column: a conversion never loses data.
        backup = f"{cf.name[:48]}__v{self.schema.version}"
        self._drop_indexes_on(table.name, cf.name)
        self.ops.alter_column(table.name, cf.name, new_column_name=backup)
        self.ops.add_column(table.name, Column(cf.name, table.c[cf.name].type, nullable=True))
        if converted:
            self.conn.execute(update(table).where(table.c.id == bindparam("_id"))
                              .values({cf.name: bindparam("_value")}), converted)
        blanked = f", {len(failures)} blanked" if failures else ""
        self.step(f"convert {obj.name}.{cf.name} from {before.type} to {cf.fdef.type} "
                  f"({len(rows)} values{blanked}; old values kept in column {backup})")

    # -- indexes ------------------------------------------------------------------------
    def _indexes(self, obj: CompiledObject) -> None:
        table = obj.table.name
        existing = {ix["name"]: ix for ix in inspect(self.conn).get_indexes(table)}
        wanted = {ix.name: ix for ix in obj.table.indexes}
        for name in existing:
            if name and name.startswith(("ux_", "ix_")) and name not in wanted:
                self.ops.drop_index(name, table_name=table)
        for name, index in wanted.items():
            if name in existing:
                continue
            column = next(iter(index.columns))
            if index.unique:
                dupes = self._duplicates(obj, column.name)
                if dupes:
                    cf = obj.fields[column.name]
                    self.problems.append(
                        f"objects/{obj.name}.json: /fields/{cf.index}/unique: "
                        f"{obj.name}.{column.name} cannot be unique: "
                        + ", ".join(f"{_short(v)} is used {n} times" for v, n in dupes))
                    continue
            self.ops.create_index(name, table, [column.name], unique=bool(index.unique))
            if index.unique:
                self.step(f"make {obj.name}.{column.name} unique")

    def _duplicates(self, obj: CompiledObject, column: str) -> list[tuple[Any, int]]:
        col = obj.table.c[column]
        query = (select(col, func.count()).where(col.is_not(None)).group_by(col)
                 .having(func.count() > 1).limit(MAX_LISTED))
        return [(v, n) for v, n in self.conn.execute(query)]

    def _drop_indexes_on(self, table: str, column: str) -> None:
        for ix in inspect(self.conn).get_indexes(table):
            if ix["column_names"] == [column] and ix["name"]:
                self.ops.drop_index(ix["name"], table_name=table)

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


def definitions_in_history(conn: Connection) -> dict[str, ObjectDef]:
    """For every object and field ever applied, its newest definition (older ones lose)."""
    found: dict[str, dict[str, Any]] = {}
    fields: dict[str, dict[str, Any]] = {}
    rows = conn.execute(select(metadata_versions.c.documents)
                        .order_by(metadata_versions.c.version)).scalars()
    for documents in rows:
        for key, doc in documents.items():
            rel = key.partition("/")[2]
            if rel.startswith("objects/") and isinstance(doc, dict):
                name = rel.removeprefix("objects/").removesuffix(".json")
                found[name] = doc
                merged = fields.setdefault(name, {})
                for f in doc.get("fields", []):
                    merged[f.get("api_name")] = f
    result: dict[str, ObjectDef] = {}
    for name, doc in found.items():
        doc = {**doc, "fields": list(fields[name].values())}
        doc.pop("layouts", None)
        doc.pop("list_views", None)
        doc.pop("validation_rules", None)
        try:
            bundle = load_documents({f"objects/{name}.json": doc}, known_objects=set(found))
        except MetadataError:
            continue
        if bundle.objects:
            result[name] = bundle.objects[0]
    return result


def _needs_conversion(before: FieldDef, after: FieldDef) -> bool:
    if before.type != after.type:
        return True
    if after.type in ("number", "currency", "percent"):
        return (before.scale or 0) != (after.scale or 0)
    if after.type == "text":
        return (after.max_length or 255) < (before.max_length or 255)
    if after.type in ("picklist", "multi_picklist"):
        return not set(before.picklist_values()) <= set(after.picklist_values())
    return False


def convert_value(old_type: FieldType, old: FieldDef, new_type: FieldType, new: FieldDef,
                  value: Any) -> Any:
    """One stored value converted to the new field definition (ValueError if it cannot)."""
    if value is None:
        return None
    raw = old_type.to_json(old, value)
    if new.type in TEXT_TYPES and not isinstance(raw, str):
        if isinstance(raw, list):
            raw = ";".join(raw)
        elif isinstance(raw, bool):
            raw = "true" if raw else "false"
        else:
            raw = str(raw)
    if new.type == "multi_picklist" and isinstance(raw, str):
        raw = [part.strip() for part in raw.split(";") if part.strip()]
    try:
        loaded = new_type.marshmallow_field(new).deserialize(raw)
    except marshmallow.ValidationError as err:
        messages = err.messages if isinstance(err.messages, list) else [str(err.messages)]
        raise ValueError(" ".join(str(m) for m in messages)) from None
    return new_type.to_db(new, new_type.normalise(new, loaded))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


# -- restore and purge ----------------------------------------------------------------


def restore(engine: Engine, target: str, *, applied_by: str = "system") -> Plan:
    """Bring a removed object or field back into the metadata, with its kept data."""
    object_name, _, field_name = target.partition(".")
    with engine.connect() as conn:
        stored = stored_documents(conn)
        history = list(conn.execute(select(metadata_versions.c.documents)
                                    .order_by(metadata_versions.c.version.desc())).scalars())
    current = _object_key(stored, object_name)
    if not field_name:
        if current is not None:
            raise ConflictError(f"object {object_name!r} is not removed")
        for documents in history:
            key = _object_key(documents, object_name)
            if key is not None:
                def put_object_back(d: dict[str, Any], key: str = key,
                                    doc: Any = documents[key]) -> dict[str, Any]:
                    return {**d, key: doc}

                return apply_documents(engine, put_object_back, applied_by=applied_by,
                                       summary=f"restore {target}")
        raise NotFound(f"no removed object {object_name!r} to restore")
    if current is None:
        raise NotFound(f"object {object_name!r} is not active: restore it first")
    if any(f.get("api_name") == field_name for f in stored[current].get("fields", [])):
        raise ConflictError(f"field {target!r} is not removed")
    for documents in history:
        key = _object_key(documents, object_name)
        old_field = next((f for f in documents[key].get("fields", [])
                          if f.get("api_name") == field_name), None) if key else None
        if old_field is not None:
            def put_back(d: dict[str, Any], key: str = current,
                         old_field: dict[str, Any] = old_field) -> dict[str, Any]:
                doc = dict(d[key])
                doc["fields"] = [*doc.get("fields", []), old_field]
                return {**d, key: doc}

            return apply_documents(engine, put_back, applied_by=applied_by,
                                   summary=f"restore {target}")
    raise NotFound(f"no removed field {target!r} to restore")


def purge(engine: Engine, target: str, *, applied_by: str = "system") -> Plan:
    """Delete a removed object's table or a removed field's column (and backups) for good."""
    object_name, _, field_name = target.partition(".")
    plan = Plan()
    with writer(engine).begin() as conn:
        stored = stored_documents(conn)
        key = _object_key(stored, object_name)
        table = f"obj_{object_name}"
        inspector = inspect(conn)
        ops = Operations(MigrationContext.configure(conn))
        if not field_name:
            if key is not None:
                raise ConflictError(f"object {object_name!r} is active: remove it from the "
                                    "metadata first")
            if not inspector.has_table(table):
                raise NotFound(f"no removed object {object_name!r} to purge")
            _purge_table(conn, ops, table)
            plan.steps.append(f"purge object {object_name} and all its records")
        else:
            if key is None or not inspector.has_table(table):
                raise NotFound(f"object {object_name!r} is not active")
            if any(f.get("api_name") == field_name for f in stored[key].get("fields", [])):
                raise ConflictError(f"field {target!r} is active: remove it from the "
                                    "metadata first")
            names = [c["name"] for c in inspector.get_columns(table)
                     if c["name"] == field_name or c["name"].startswith(f"{field_name[:48]}__v")]
            if not names:
                raise NotFound(f"no removed field {target!r} to purge")
            for column in names:
                _purge_column(conn, ops, table, column)
            plan.steps.append(f"purge field {target} and its values")
        plan.version = save_version(conn, stored, applied_by, "; ".join(plan.steps))
    return plan


def _purge_table(conn: Connection, ops: Operations, table: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'DROP TABLE "{table}" CASCADE')
        return
    # SQLite: kept columns of other tables may still point here; clear them first.
    for other in inspect(conn).get_table_names():
        for fk in inspect(conn).get_foreign_keys(other):
            if fk["referred_table"] == table:
                for column in fk["constrained_columns"]:
                    conn.exec_driver_sql(f'UPDATE "{other}" SET "{column}" = NULL')
    ops.drop_table(table)


def _purge_column(conn: Connection, ops: Operations, table: str, column: str) -> None:
    for ix in inspect(conn).get_indexes(table):
        if column in ix["column_names"] and ix["name"]:
            ops.drop_index(ix["name"], table_name=table)
    conn.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = NULL')
    try:
        with conn.begin_nested():
            ops.drop_column(table, column)
    except DBAPIError:
        # SQLite cannot drop a column that carries a foreign key without rebuilding the
        # table (which would cascade deletes); its values are gone, the empty column stays.
        pass


def _object_key(documents: Mapping[str, Any], object_name: str) -> str | None:
    suffix = f"/objects/{object_name}.json"
    return next((k for k in documents if k.endswith(suffix)), None)
