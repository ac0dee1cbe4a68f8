"""Applying metadata to the database: validate → compile → plan → migrate → new version.

Everything happens in one write transaction (DDL too, on PostgreSQL and SQLite), so a
refusal or any error leaves data and metadata exactly as before. The plan comes from the
applied version and what the database really holds; docs/schema-changes.md is the guide.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from metabiz.errors import ConflictError, FormulaError, MetadataError, NotFound
from metabiz.formulas import EvalContext, FType
from metabiz.formulas import check as check_formula
from metabiz.objects import rollups
from metabiz.objects.fields import field_type
from metabiz.objects.fields.number import PRECISION, Number
from metabiz.objects.records import Context, Resolver
from metabiz.objects.runtime import bundle_from_documents
from metabiz.objects.schema import CompiledField, CompiledObject, RuntimeSchema
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import counters, field_history, metadata_versions, writer
from metabiz.platform.extensions import DocumentKind
from metabiz.platform.metadata.loader import bundle_documents, load_path
from metabiz.platform.metadata.loader import load_documents as load_app
from metabiz.platform.metadata.model import FieldDef, Label, MetadataBundle, ObjectDef
from metabiz.platform.metadata.store import (
    conversion_losses,
    current_version,
    ensure_losses_table,
    forget_losses,
    merge_app,
    save_version,
    split_apps,
)
from metabiz.platform.metadata.store import load_documents as stored_documents

#: how many failing records a refusal lists before it only counts the rest
MAX_LISTED = 50
#: from how many rows on values are written through a temporary table
BULK_ROWS = 2000
BLANK_HINT = "fix them, or apply with --convert-failures=blank"
LOSSES_NOTE = "old values listed in sys_conversion_losses"
REFERENCE_TYPES = frozenset({"lookup", "master_detail"})
#: a plan line's sign → (dry run, applied) wording of its count
SIGNS = {"+": ("to add", "added"), "~": ("to change", "changed"),
         "→": ("to rename", "renamed"), "-": ("to remove", "removed")}


@dataclass
class Change:
    """One line of a plan: + add, ~ change, → rename or - remove, with details below it."""

    sign: str
    text: str
    details: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What an apply did (or, with --dry-run, would do), one change a line like `terraform plan`."""

    changes: list[Change] = field(default_factory=list)
    version: int | None = None
    dry_run: bool = False
    #: the version the plan starts from
    base: int = 0

    @property
    def steps(self) -> list[str]:
        return [change.text for change in self.changes]

    def add(self, sign: str, text: str) -> Change:
        change = Change(sign, text)
        self.changes.append(change)
        return change

    def render(self) -> str:
        if self.dry_run:
            tail = "dry run: nothing was changed"
        elif self.version is None:
            tail = "metadata unchanged"
        else:
            tail = f"applied as version {self.version}"
        if not self.changes:
            return "\n".join(["no changes", tail])
        title = "Plan" if self.dry_run else "Changes"
        lines = [f"{title}: metadata version {self.base} → {self.base + 1}", ""]
        for change in self.changes:
            lines.append(f"  {change.sign} {change.text}")
            lines.extend(f"      {detail}" for detail in change.details)
        counts = [f"{n} {words[0 if self.dry_run else 1]}" for sign, words in SIGNS.items()
                  if (n := sum(c.sign == sign for c in self.changes))]
        return "\n".join([*lines, "", ", ".join(counts) + ".", tail])


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


#: a further check of a compiled version (flows are checked by the flows package, which
#: this layer cannot import: the composition roots pass `metabiz.flows.check_flows`)
Check = Callable[[RuntimeSchema], list[str]]


def apply_path(engine: Engine, path: str | Path, *, applied_by: str = "system",
               dry_run: bool = False, convert_failures: str | None = None,
               checks: Sequence[Check] = (), kinds: Sequence[DocumentKind] = ()) -> Plan:
    """Apply a metadata folder (an app) or one JSON document (`kinds`: the document kinds
    higher packages add, as for `load_path`)."""
    path = Path(path)
    with engine.connect() as conn:
        stored = stored_documents(conn)
    others = _objects_outside(stored, path)
    try:
        bundle = load_path(path, known_objects=others, kinds=kinds)
    except MetadataError:
        old = bundle_from_documents(stored, kinds) if stored else MetadataBundle(app=None)
        with _explained(old, _raw_documents(stored, path)):
            raise
    documents = {rel: doc for rel, doc in bundle_documents(bundle, kinds).items()
                 if not rel.startswith("data/")}
    app = bundle.app.name if path.is_dir() and bundle.app is not None else None
    return apply_documents(engine, lambda current: merge_app(current, app, documents),
                           applied_by=applied_by, dry_run=dry_run,
                           convert_failures=convert_failures, checks=checks, kinds=kinds,
                           summary=f"apply {path.name}")


def _app_name(path: Path) -> str | None:
    if path.is_dir() and (path / "app.json").exists():
        try:
            name = json.loads((path / "app.json").read_text()).get("name")
        except (ValueError, OSError, AttributeError):
            return None  # the loader reports the broken app.json
        return name if isinstance(name, str) else None
    return None


def _raw_documents(stored: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The documents an apply of `path` would store, read as plain JSON (for explaining
    the loader's problems: only the object documents matter)."""
    files = sorted((path / "objects").glob("*.json")) if path.is_dir() else [path]
    raw: dict[str, Any] = {}
    for file in files:
        try:
            doc = json.loads(file.read_text(encoding="utf-8-sig"))
        except (ValueError, OSError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("api_name"), str):
            raw[f"objects/{doc['api_name']}.json"] = doc
    app = _app_name(path) or (None if not path.is_dir() else path.name)
    return merge_app(stored, app, raw)


def _objects_outside(stored: Mapping[str, Any], path: Path) -> set[str]:
    """Object names of the installed apps, except the one this folder replaces."""
    app_name = _app_name(path)
    names: set[str] = set()
    for app, docs in split_apps(stored).items():
        if app == app_name:
            continue
        names.update(rel.split("/", 1)[1].removesuffix(".json") for rel in docs
                     if rel.startswith("objects/"))
    return names


def apply_documents(engine: Engine, change: Callable[[dict[str, Any]], dict[str, Any]], *,
                    applied_by: str, summary: str, dry_run: bool = False,
                    convert_failures: str | None = None, checks: Sequence[Check] = (),
                    kinds: Sequence[DocumentKind] = ()) -> Plan:
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
            plan.base = current_version(conn)
            old = bundle_from_documents(stored, kinds) if stored else MetadataBundle(app=None)
            with _explained(old, documents):
                new = bundle_from_documents(documents, kinds)
                broken = _cross_app_problems(documents, new, kinds)
                if broken:
                    broken -= _cross_app_problems(stored, old, kinds)  # only what this change breaks
                if broken:
                    raise MetadataError(sorted(broken))
                schema = RuntimeSchema(plan.base + 1, new, dialect=engine.dialect.name)
                problems = _list_view_problems(schema)
                problems += [problem for more in checks for problem in more(schema)]
                if problems:
                    raise MetadataError(problems)
            _Migration(conn, old, schema, plan, convert_failures).run()
            _describe_documents(plan, stored, documents)
            if dry_run:
                raise _DryRun
            plan.version = save_version(conn, documents, applied_by,
                                        f"{summary}: " + ("; ".join(plan.steps) or "metadata only"))
    except _DryRun:
        pass
    return plan


# -- what would break elsewhere -----------------------------------------------------------

_UNKNOWN_FIELD = re.compile(r"unknown field '([^']+)' on (\w+)")
_UNKNOWN_OBJECT = re.compile(r"unknown object '([^']+)'")


@contextmanager
def _explained(old: MetadataBundle, documents: Mapping[str, Any]) -> Iterator[None]:
    """Metadata problems, each told what this change does to the field it cannot find.

    A formula, roll-up, flow or role that uses a field this change renames, removes or
    converts is refused by the loader or the compiler; the note says why the field is gone.
    """
    try:
        yield
    except MetadataError as err:
        notes, conversions = _changed_names(old, documents)
        problems, unexplained = [], False
        for problem in err.problems:
            field_match = _UNKNOWN_FIELD.search(problem)
            object_match = _UNKNOWN_OBJECT.search(problem)
            note = (notes.get(f"{field_match.group(2)}.{field_match.group(1)}") if field_match
                    else notes.get(object_match.group(1)) if object_match else None)
            problems.append(f"{problem} ({note})" if note else problem)
            unexplained = unexplained or note is None
        if unexplained:  # a type error in a formula may come from a conversion
            problems.extend(f"note: this change converts {what}" for what in conversions)
        raise MetadataError(problems) from None


def _changed_names(old: MetadataBundle,
                   documents: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """`object.field` or `object` → what this change does to it; and its type conversions."""
    new_objects: dict[str, Mapping[str, Any]] = {}
    for key, doc in documents.items():
        if key.partition("/")[2].startswith("objects/") and isinstance(doc, dict) \
                and isinstance(doc.get("api_name"), str):
            new_objects[doc["api_name"]] = doc
    renamed_objects = {doc.get("renamed_from"): name for name, doc in new_objects.items()
                       if isinstance(doc.get("renamed_from"), str)}
    notes: dict[str, str] = {}
    conversions: list[str] = []
    for obj in old.objects:
        name = renamed_objects.get(obj.api_name, obj.api_name)
        doc = new_objects.get(name)
        if doc is None:
            notes[obj.api_name] = f"this change removes the object {obj.api_name}"
            continue
        if name != obj.api_name:
            notes[obj.api_name] = f"this change renames the object {obj.api_name} to {name}"
        fields = {f.get("api_name"): f for f in doc.get("fields", []) if isinstance(f, dict)}
        renamed = {f.get("renamed_from"): n for n, f in fields.items() if f.get("renamed_from")}
        for fdef in obj.fields:
            key = f"{name}.{fdef.api_name}"
            if fdef.api_name in renamed:
                notes[key] = (f"this change renames {key} to {renamed[fdef.api_name]}: "
                              "rename it here too")
            elif fdef.api_name not in fields:
                notes[key] = f"this change removes {key}: remove this use too, or keep the field"
            elif fields[fdef.api_name].get("type", "text") != fdef.type:
                conversions.append(f"{key} from {fdef.type} to "
                                   f"{fields[fdef.api_name].get('type', 'text')}")
    return notes, conversions


def _list_view_problems(schema: RuntimeSchema) -> list[str]:
    """List views' filters, which the runtime compiles only when a list is shown."""
    problems = []
    for obj in schema.objects.values():
        for index, view in enumerate(obj.odef.list_views):
            if not view.filter:
                continue
            try:
                check_formula(view.filter, schema.catalog, obj.name, context="filter",
                              expected=FType.BOOLEAN)
            except FormulaError as err:
                where = f"{err.line}:{err.column}: " if err.line is not None else ""
                problems.append(f"objects/{obj.name}.json: /list_views/{index}/filter: "
                                f"{where}{err.message}")
    return problems


def _cross_app_problems(documents: Mapping[str, Any], bundle: MetadataBundle,
                        kinds: Sequence[DocumentKind]) -> set[str]:
    """References from one installed app into another's objects that do not resolve.

    Each app is loaded knowing only the other apps' object names; this pass gives it their
    definitions, so a flow or role of one app that uses a field another app drops is named.
    """
    apps = split_apps(documents)
    if len(apps) < 2:
        return set()
    problems: set[str] = set()
    for name, docs in apps.items():
        own = {rel.split("/", 1)[1].removesuffix(".json") for rel in docs
               if rel.startswith("objects/")}
        try:
            load_app(docs, known_objects=[o for o in bundle.objects if o.api_name not in own],
                     kinds=kinds)
        except MetadataError as err:
            problems.update(f"{name}/{problem}" for problem in err.problems)
    return problems


# -- the migration ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """A record whose value cannot become what the new metadata asks for."""

    record_id: int
    value: str | None  # the old value as text
    reason: str

    def line(self) -> str:
        return f"id {self.record_id}: {_short(self.value)} ({self.reason})"


@dataclass(frozen=True)
class _Narrowing:
    """A same-type option change some stored values may violate (a SQL condition)."""

    key: str  # the JSON key that changed
    description: str  # "longer than 10 characters"
    violates: ColumnElement[bool]
    removed_values: tuple[str, ...] = ()  # multi-picklist values to take out when blanking


class _Migration:
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
                self._rename_references(source, None, obj.name, None)
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
                    self._without_default(obj.table.name, f.api_name,
                                          field_type(f.type).column_type(f, self.old))
                    self.step("-", f"remove field {name} (data kept; "
                                   f"`metabiz restore {name}` brings it back)")
                else:
                    self.step("-", f"remove field {name} ({f.type})")
        if previous is not None and _object_parts(previous, obj.odef):
            self.step("~", f"change object {obj.name}: "
                           f"{', '.join(_object_parts(previous, obj.odef))}")

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
                self._rename_references(obj.name, source, obj.name, cf.name)
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
            # SQLite cannot, so it stays until the field is removed (see _without_default).
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
            shown = _short(cf.ftype.as_text(cf.fdef, cf.ftype.from_db(cf.fdef, constant)))
            change.details.append(f"{_n(count, 'existing record')} set to the default {shown}")
        if cf.fdef.required:
            self.required.append((obj, cf))

    def _constant_default(self, cf: CompiledField) -> Any:
        """The column value of a default that reads no field (None when there is none)."""
        if cf.default is None or cf.default.checked.references \
                or cf.fdef.type in REFERENCE_TYPES:
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
                value = cf.default.run(EvalContext(record=record, now=self.now, is_new=True,
                                                   resolve=resolver.bind(obj, record)))
            except FormulaError:
                continue  # as on create: a default that cannot be computed leaves it blank
            values.append((row["id"], cf.ftype.to_db(cf.fdef, _default_value(cf, value))))
        written = self._write(table, cf.name, values)
        if written:
            change.details.append(f"{_n(written, 'existing record')} set to the default")

    def _number_existing(self, obj: CompiledObject, cf: CompiledField, change: Change) -> None:
        table = obj.table
        ids = self.conn.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        render = cf.ftype.render  # type: ignore[attr-defined]
        self._write(table, cf.name, [(i, render(cf.fdef, n)) for n, i in enumerate(ids, 1)])
        if ids:
            change.details.append(f"{_n(len(ids), 'existing record')} numbered in id order")
        name = f"{obj.name}.{cf.name}"
        self.conn.execute(counters.delete().where(counters.c.name == name))
        self.conn.execute(counters.insert().values(name=name, value=len(ids)))

    def _blank(self, table: Any, column: str, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 500):
            self.conn.execute(update(table).where(table.c.id.in_(ids[start:start + 500]))
                              .values({column: None}))

    def _write(self, table: Any, column: str, values: Sequence[tuple[int, Any]]) -> int:
        """Set one column of many rows by id (blank values are left out: columns start blank).

        Many rows go through a temporary table and one UPDATE … FROM: an UPDATE per row
        costs a round trip each on PostgreSQL.
        """
        rows = [{"_id": i, "_value": v} for i, v in values if v is not None]
        if len(rows) < BULK_ROWS:
            if rows:
                self.conn.execute(update(table).where(table.c.id == bindparam("_id"))
                                  .values({column: bindparam("_value")}), rows)
            return len(rows)
        staged = Table(f"tmp_{table.name}_{column}"[:60], MetaData(),
                       Column("_id", BigInteger, primary_key=True),
                       Column("_value", table.c[column].type), prefixes=["TEMPORARY"])
        staged.create(self.conn)
        if self.dialect == "postgresql":  # COPY: the fastest way in, same transaction
            cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f'COPY "{staged.name}" ("_id", "_value") FROM STDIN') as copy:
                for row in rows:
                    copy.write_row((row["_id"], row["_value"]))
        else:
            self.conn.execute(insert(staged), rows)
        self.conn.execute(update(table).values({column: staged.c._value})
                          .where(table.c.id == staged.c._id))
        staged.drop(self.conn)
        return len(rows)

    # -- conversions --------------------------------------------------------------------
    def _convert(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> None:
        old_type, new_type = field_type(before.type), cf.ftype
        where = self._where(obj, cf, "type")
        name = f"{obj.name}.{cf.name}"
        if cf.fdef.type not in old_type.converts_to:
            self.problems.append(f"{where}: {name} cannot be converted from {before.type} to "
                                 f"{cf.fdef.type} (docs/schema-changes.md lists the "
                                 "conversions; add a new field instead)")
            return
        table = obj.table
        stored = type_coerce(table.c[cf.name], old_type.column_type(before, self.old))
        query = select(table.c.id, stored).order_by(table.c.id)
        if old_type.from_db(before, None) is None:  # a blank checkbox is false: convert it
            query = query.where(stored.is_not(None))
        rows = self.conn.execute(query).all()
        names = self._record_names(before.target or "", {raw for _, raw in rows}) \
            if before.type in REFERENCE_TYPES else None
        converted: list[tuple[int, Any]] = []
        failures: list[_Failure] = []
        timed = 0
        for record_id, raw in rows:
            value = old_type.from_db(before, raw)
            try:
                if names is not None:  # a lookup becomes the name of the record it points to
                    shown = names.get(raw)
                    if shown is None:
                        raise ValueError(f"{before.target} {raw} has no name" if raw in names
                                         else f"{before.target} {raw} does not exist")
                    new_value = new_type.from_text(cf.fdef, shown)
                else:
                    new_value = new_type.convert(cf.fdef, old_type, before, value)
            except ValueError as err:
                failures.append(_Failure(record_id, old_type.as_text(before, value), str(err)))
                continue
            if isinstance(value, dt.datetime) and cf.fdef.type == "date" \
                    and value.timetz().replace(tzinfo=None) != dt.time():
                timed += 1
            converted.append((record_id, new_type.to_db(cf.fdef, new_value)))
        if failures and not self.blank:
            self.problems.append(_refusal(
                where, f"cannot convert {len(failures)} of {len(rows)} values of {name} from "
                       f"{before.type} to {cf.fdef.type}", [f.line() for f in failures]))
            return
        backup = self._set_aside(obj, cf, before)
        written = self._write(table, cf.name, converted)
        self._lose(obj, cf, before, failures)
        change = self.step("~", f"convert {name} from {before.type} to {cf.fdef.type}")
        blanked = f", {len(failures)} blanked ({LOSSES_NOTE})" if failures else ""
        change.details.append(f"{_n(written, 'value')} converted{blanked}; "
                              f"old values kept in column {backup}")
        if timed:
            change.details.append(f"{_n(timed, 'value')} had a time of day: the UTC date is kept")

    def _record_names(self, old_target: str, ids: set[Any]) -> dict[Any, str | None]:
        """id → the text of its name field, for the records of a lookup's target."""
        target = self._compiled(old_target)
        if target is None:
            return {}
        name_cf = target.fields.get(target.odef.name_field or "")
        resolver = Resolver(Context(self.conn, self.schema, SYSTEM, now=self.now))
        names: dict[Any, str | None] = {}
        wanted = sorted(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows = self.conn.execute(select(target.table)
                                     .where(target.table.c.id.in_(chunk))).mappings()
            for row in rows:
                record = target.decode(row)
                if name_cf is None:
                    shown: str | None = str(row["id"])
                elif name_cf.formula is not None:
                    try:
                        value = name_cf.formula.run(EvalContext(
                            record=record, now=self.now, resolve=resolver.bind(target, record)))
                    except FormulaError:
                        value = None
                    shown = field_type(name_cf.fdef.return_type or "text").as_text(
                        name_cf.fdef, value)
                else:
                    shown = name_cf.ftype.as_text(name_cf.fdef, record.get(name_cf.name))
                names[row["id"]] = shown if shown and shown.strip() else None
        return names

    def _compiled(self, old_name: str) -> CompiledObject | None:
        new_name = self.renamed_objects.get(old_name, old_name)
        return self.schema.objects.get(new_name)

    def _set_aside(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> str:
        """Move the old column to `<field>__v<version>` and add the new one; gives the name."""
        table = obj.table.name
        backup = f"{cf.name[:48]}__v{self.schema.version}"
        old_column_type = field_type(before.type).column_type(before, self.old)
        self._drop_indexes_on(table, cf.name)
        keys = [fk for fk in inspect(self.conn).get_foreign_keys(table)
                if fk["constrained_columns"] == [cf.name]]
        if keys and self.dialect == "sqlite":
            # SQLite cannot drop a foreign key in place: keep the ids in a plain column and
            # empty the constrained one, so the kept ids never block deleting their targets.
            stale = f"{backup}_fk"
            self.ops.alter_column(table, cf.name, new_column_name=stale)
            self.ops.add_column(table, Column(backup, old_column_type, nullable=True))
            self.conn.exec_driver_sql(
                f'UPDATE "{table}" SET "{backup}" = "{stale}", "{stale}" = NULL')
        else:
            self.ops.alter_column(table, cf.name, new_column_name=backup)
            for key in keys:
                if key.get("name"):
                    self.ops.drop_constraint(str(key["name"]), table, type_="foreignkey")
            self._without_default(table, backup, old_column_type)
        self.ops.add_column(table, Column(cf.name, obj.table.c[cf.name].type, nullable=True))
        return backup

    def _without_default(self, table: str, column: str, column_type: TypeEngine[Any]) -> None:
        """A SQLite column given a default by _add_column, without it (values kept).

        The record service writes every active column, so the default is harmless while the
        field is active; a removed or set-aside column must not give it to new rows.
        """
        if self.dialect != "sqlite":
            return
        found = next((c for c in inspect(self.conn).get_columns(table) if c["name"] == column),
                     None)
        if found is None or found.get("default") is None:
            return
        self._drop_indexes_on(table, column)
        stale = f"{column[:50]}__old"
        self.ops.alter_column(table, column, new_column_name=stale)
        self.ops.add_column(table, Column(column, column_type, nullable=True))
        self.conn.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = "{stale}"')
        self.ops.drop_column(table, stale)

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
        for check in self._narrowings(obj, cf, before):
            rows = self.conn.execute(select(table.c.id, stored)
                                     .where(column.is_not(None), check.violates)
                                     .order_by(table.c.id)).all()
            if not rows:
                continue
            failures = [_Failure(i, old_type.as_text(before, old_type.from_db(before, raw)),
                                 check.description) for i, raw in rows]
            if not self.blank:
                refused = True
                self.problems.append(_refusal(
                    self._where(obj, cf, check.key),
                    f"{_n(len(rows), obj.name + ' record')} with {check.description} in {name}",
                    [f"id {f.record_id}: {_short(f.value)}" for f in failures]))
                continue
            if check.removed_values:  # a multi-picklist keeps the values that remain
                kept = [(i, ";".join(v for v in raw.split(";") if v not in check.removed_values))
                        for i, raw in rows]
                self._blank(table, cf.name, [i for i, v in kept if not v])
                self._write(table, cf.name, kept)
            else:
                self.conn.execute(update(table).where(check.violates).values({cf.name: None}))
            self._lose(obj, cf, before, failures)
            blanked += len(rows)
        if refused:
            return
        self._retype(obj, cf, before)
        change = self._describe_options(obj, cf, before)
        if blanked and change is not None:
            change.details.append(f"{_n(blanked, 'value')} blanked ({LOSSES_NOTE})")

    def _narrowings(self, obj: CompiledObject, cf: CompiledField,
                    before: FieldDef) -> list[_Narrowing]:
        after, column = cf.fdef, obj.table.c[cf.name]
        checks = []
        old_length = _length(field_type(before.type).column_type(before, self.old))
        new_length = _length(cf.ftype.column_type(after, self.schema.bundle))
        if old_length and new_length and new_length < old_length:
            checks.append(_Narrowing("max_length", f"values longer than {new_length} characters",
                                     func.length(column) > new_length))
        if isinstance(cf.ftype, Number):
            old_scale, new_scale = cf.ftype.scale(before), cf.ftype.scale(after)
            if new_scale < old_scale:
                checks.append(_Narrowing("scale", f"values with more than {new_scale} decimal "
                                                  "places", column != func.round(column, new_scale)))
            if new_scale > old_scale:
                digits = PRECISION - new_scale
                checks.append(_Narrowing("scale", f"values of more than {digits} digits before "
                                                  "the decimal point",
                                         func.abs(column) >= Decimal(10) ** digits))
            if after.min is not None and (before.min is None or after.min > before.min):
                checks.append(_Narrowing("min", f"values less than the minimum {after.min:g}",
                                         column < Decimal(str(after.min))))
            if after.max is not None and (before.max is None or after.max < before.max):
                checks.append(_Narrowing("max", f"values greater than the maximum {after.max:g}",
                                         column > Decimal(str(after.max))))
        removed = tuple(v for v in before.picklist_values() if v not in after.picklist_values())
        if removed and after.type == "picklist":
            checks.append(_Narrowing("values", "values removed from the picklist",
                                     column.in_(removed)))
        elif removed and after.type == "multi_picklist":
            framed = literal(";", String) + column + literal(";", String)
            checks.append(_Narrowing(
                "values", "values removed from the picklist",
                or_(*(framed.contains(f";{v};", autoescape=True) for v in removed)), removed))
        return checks

    def _retype(self, obj: CompiledObject, cf: CompiledField, before: FieldDef) -> None:
        """PostgreSQL enforces lengths and scales: give the column its new type (SQLite
        stores any length and scale in the type it has)."""
        if self.dialect != "postgresql":
            return
        old = field_type(before.type).column_type(before, self.old)
        new = cf.ftype.column_type(cf.fdef, self.schema.bundle)
        if _sql(old, self.conn) == _sql(new, self.conn):
            return
        using = "NULL" if cf.fdef.type == "rollup" else f'"{cf.name}"::{_sql(new, self.conn)}'
        self.ops.alter_column(obj.table.name, cf.name, type_=new, existing_type=old,
                              postgresql_using=using)

    def _describe_options(self, obj: CompiledObject, cf: CompiledField,
                          before: FieldDef) -> Change | None:
        parts = _option_parts(before, cf.fdef)
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
            self.problems.append(_refusal(
                self._where(obj, cf, "required"),
                f"{name} cannot be required: {_n(len(ids), obj.name + ' record')} without a "
                "value", [f"id {i}" for i in ids],
                "give it a default, fill them in, or apply with --convert-failures=blank to "
                "leave them blank until their next edit"))
            return
        if change is None:
            change = self.step("~", f"make {name} required")
        if ids:
            change.details.append(f"{_n(len(ids), 'record')} left blank: each needs a value on its "
                                  "next edit")

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
            if index.unique and before is not None and not before.unique:
                change = self.step("~", f"make {obj.name}.{column} unique")
                if blanked:
                    change.details.append(f"{_n(blanked, 'repeated value')} blanked "
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
            lines = [f"{_short(value)} is used {len(ids)} times: ids "
                     + ", ".join(str(i) for i in ids[:10]) + (", …" if len(ids) > 10 else "")
                     for value, ids in groups.items()]
            self.problems.append(_refusal(
                self._where(obj, cf, "unique"),
                f"{obj.name}.{column} cannot be unique: {_n(len(groups), 'value')} used more "
                "than once", lines))
            return None
        repeats = [(ids[0], i, value) for value, ids in groups.items() for i in ids[1:]]
        blanked = [i for _, i, _ in repeats]
        self._blank(table, column, blanked)
        self._lose(obj, cf, cf.fdef, [
            _Failure(i, cf.ftype.as_text(cf.fdef, cf.ftype.from_db(cf.fdef, value)),
                     f"the same value as record {first}") for first, i, value in repeats])
        return len(blanked)

    def _drop_indexes_on(self, table: str, column: str) -> None:
        for ix in inspect(self.conn).get_indexes(table):
            if ix["column_names"] == [column] and ix["name"]:
                self.ops.drop_index(ix["name"], table_name=table)

    # -- what renames and blanks leave behind ---------------------------------------------
    def _rename_references(self, old_object: str, old_field: str | None, new_object: str,
                           new_field: str | None) -> None:
        """Field history, auto-number counters and recorded losses follow a rename."""
        if old_field is None:
            self.conn.execute(update(field_history).where(field_history.c.object == old_object)
                              .values(object=new_object))
            names = self.conn.execute(select(counters.c.name).where(
                counters.c.name.startswith(f"{old_object}.", autoescape=True))).scalars().all()
            for name in names:
                self.conn.execute(update(counters).where(counters.c.name == name).values(
                    name=f"{new_object}.{name.partition('.')[2]}"))
            if inspect(self.conn).has_table(conversion_losses.name):
                self.conn.execute(update(conversion_losses)
                                  .where(conversion_losses.c.object == old_object)
                                  .values(object=new_object))
            return
        self.conn.execute(update(field_history).where(field_history.c.object == old_object,
                                                      field_history.c.field == old_field)
                          .values(field=new_field))
        self.conn.execute(update(counters)
                          .where(counters.c.name == f"{old_object}.{old_field}")
                          .values(name=f"{new_object}.{new_field}"))
        if inspect(self.conn).has_table(conversion_losses.name):
            self.conn.execute(update(conversion_losses)
                              .where(conversion_losses.c.object == old_object,
                                     conversion_losses.c.field == old_field)
                              .values(field=new_field))

    def _lose(self, obj: CompiledObject, cf: CompiledField, before: FieldDef,
              failures: Sequence[_Failure]) -> None:
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
            bundle = load_app({f"objects/{name}.json": doc}, known_objects=set(found))
        except MetadataError:
            continue
        if bundle.objects:
            result[name] = bundle.objects[0]
    return result


# -- describing a change ------------------------------------------------------------------

#: FieldDef attributes shown by name only when they change (their values are long)
_NAMED_ONLY = {"label", "help", "formula", "filter", "values"}
_NOT_OPTIONS = {"api_name", "type", "renamed_from", "raw", "required", "unique"}


def _option_parts(before: FieldDef, after: FieldDef) -> list[str]:
    """What changed in a field besides its name and type: `max_length 20 → 10`, …"""
    parts = []
    for attribute in dataclasses.fields(FieldDef):
        key = attribute.name
        old, new = getattr(before, key), getattr(after, key)
        if key in _NOT_OPTIONS or old == new:
            continue
        if key == "values":
            removed = [v for v in before.picklist_values() if v not in after.picklist_values()]
            added = [v for v in after.picklist_values() if v not in before.picklist_values()]
            if removed:
                parts.append("remove picklist values " + ", ".join(map(repr, removed)))
            if added:
                parts.append("add picklist values " + ", ".join(map(repr, added)))
            if not removed and not added:
                parts.append("picklist labels or order")
        elif key == "label" and old == Label.of(None, before.api_name) \
                and new == Label.of(None, after.api_name):
            continue  # a label made from the api_name follows a rename by itself
        elif key in _NAMED_ONLY:
            parts.append(key)
        else:
            shown = "field" if key == "rollup_field" else key
            parts.append(f"{shown} {_show(old)} → {_show(new)}")
    if before.required and not after.required:
        parts.append("no longer required")
    if before.unique and not after.unique:
        parts.append("no longer unique")
    return parts


def _object_parts(before: ObjectDef, after: ObjectDef) -> list[str]:
    """What changed in an object that holds no data: labels, rules, layouts, list views."""
    parts = []
    if (before.label, before.plural_label, before.description) != \
            (after.label, after.plural_label, after.description):
        parts.append("labels")
    for key, shown in (("name_field", "name field"), ("validation_rules", "validation rules"),
                       ("layouts", "layouts"), ("list_views", "list views")):
        if getattr(before, key) != getattr(after, key):
            parts.append(shown)
    return parts


def _describe_documents(plan: Plan, stored: Mapping[str, Any],
                        documents: Mapping[str, Any]) -> None:
    """Plan lines for the documents that hold no data: flows, roles and app manifests."""
    def kinds(docs: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
        found = {}
        for key, doc in docs.items():
            app, _, rel = key.partition("/")
            folder, _, file_name = rel.partition("/")
            if folder in ("flows", "roles"):
                found[f"{folder[:-1]} {file_name.removesuffix('.json')}"] = (key, doc)
            elif rel == "app.json":
                found[f"app {app}"] = (key, doc)
        return found

    before, after = kinds(stored), kinds(documents)
    for name in sorted(after.keys() - before.keys()):
        plan.add("+", f"add {name}")
    for name in sorted(after.keys() & before.keys()):
        if after[name][1] != before[name][1]:
            plan.add("~", f"change {name}")
    for name in sorted(before.keys() - after.keys()):
        plan.add("-", f"remove {name}")


# -- small pieces -----------------------------------------------------------------------


def _refusal(where: str, headline: str, lines: Sequence[str], hint: str = BLANK_HINT) -> str:
    """A refusal listing the first MAX_LISTED records, then how many more there are."""
    listed = "".join(f"\n    {line}" for line in lines[:MAX_LISTED])
    more = f"\n    … and {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""
    return f"{where}: {headline} ({hint}):{listed}{more}"


def _default_value(cf: CompiledField, value: Any) -> Any:
    """A default's result as the record service stores it (numbers into text as text)."""
    if value is not None and isinstance(value, Decimal | int | float) \
            and cf.fdef.type in ("text", "long_text"):
        value = str(value)
    return cf.ftype.normalise(cf.fdef, value)


def _length(column_type: TypeEngine[Any]) -> int | None:
    return getattr(column_type, "length", None) if isinstance(column_type, String) else None


def _sql(column_type: TypeEngine[Any], conn: Connection) -> str:
    return str(column_type.compile(dialect=conn.dialect))


def _show(value: Any) -> str:
    return "none" if value is None else repr(value) if isinstance(value, str) else f"{value}"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"

# -- restore and purge ----------------------------------------------------------------


def restore(engine: Engine, target: str, *, applied_by: str = "system",
            checks: Sequence[Check] = (), kinds: Sequence[DocumentKind] = ()) -> Plan:
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
                                       summary=f"restore {target}", checks=checks,
                                       kinds=kinds)
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
                                   summary=f"restore {target}", checks=checks, kinds=kinds)
    raise NotFound(f"no removed field {target!r} to restore")


def purge(engine: Engine, target: str, *, applied_by: str = "system") -> Plan:
    """Delete a removed object's table or a removed field's column (and backups) for good."""
    object_name, _, field_name = target.partition(".")
    plan = Plan()
    with writer(engine).begin() as conn:
        plan.base = current_version(conn)
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
            forget_losses(conn, object_name)
            plan.add("-", f"purge object {object_name} and all its records")
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
            forget_losses(conn, object_name, field_name)
            plan.add("-", f"purge field {target} and its values")
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
