"""Importing a sheet: every row through the record service's batch path, every bad row reported.

Rows are read and converted a batch at a time, created with `records.create_many` (updated with
`records.update` when `key` finds them) inside a savepoint, and a batch the service refuses is
retried without the rows it named, so one pass reports every bad row of the file. The caller's
transaction decides: `import_file` commits only when nothing failed (or `skip_bad_rows`); it
fills SQLite's search index for the new records once at the end (`search_index.filled_at_end`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select

from metabiz.errors import MetabizError, PermissionDenied
from metabiz.objects import record_scope, records, search_index
from metabiz.objects.context import Context
from metabiz.objects.fields.base import NOT_PLAIN
from metabiz.objects.schema import CompiledObject
from metabiz.platform.access import Actor
from metabiz.platform.db import writer
from metabiz.spreadsheets.columns import Column, Reader, match_columns, reader_for
from metabiz.spreadsheets.references import References
from metabiz.spreadsheets.sheets import MAX_CELL, SheetRejected, column_letter, open_sheet

BATCH = 1000
_INDEXED = re.compile(r"^\[(\d+)\]\.(.+)$")


@dataclass(frozen=True)
class ImportOptions:
    key: str | None = None
    dry_run: bool = False
    skip_bad_rows: bool = False
    #: column index → field name (None: leave the column out); unset columns match by header
    mapping: Mapping[int, str | None] | None = None
    batch: int = BATCH


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None  # the column's header (or letter); None for the whole row
    field: str | None
    message: str
    position: int = 10**6  # the column's place in the file (errors are sorted by it)

    def line(self) -> str:
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field,
                "message": self.message}


@dataclass
class ImportResult:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # columns left out, and why
    written: bool = False

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


Progress = Callable[[ImportResult], None]


@dataclass
class _Item:
    number: int  # the row's number in the sheet
    values: dict[str, Any]
    texts: dict[str, str]  # reference columns' texts, resolved per batch
    ok: bool = True  # False once any of its cells is bad (it is still checked to the end)
    record_id: int | None = None  # set when the key found the record to update


def import_file(engine: Engine, runtime: Any, actor: Actor, object_name: str, filename: str,
                data: bytes, options: ImportOptions = ImportOptions(),
                progress: Progress | None = None,
                before_commit: Callable[[Connection, ImportResult], None] | None = None,
                ) -> ImportResult:
    """Import a whole file in one transaction: committed when every row went in (or
    `skip_bad_rows`), rolled back on any bad row and for a dry run. `before_commit` writes
    in the same transaction (a background import records its outcome with its rows)."""
    with writer(engine).connect() as conn, conn.begin() as transaction:
        ctx = runtime.context(conn, actor)
        with search_index.filled_at_end(conn, ctx.schema.object(object_name)):
            result = run_import(ctx, object_name, filename, data, options, progress)
        if result.written:
            if before_commit is not None:
                before_commit(conn, result)
            transaction.commit()
        else:
            transaction.rollback()
    return result


def count_rows(filename: str, data: bytes) -> int:
    """How many data rows (not blank) the file holds."""
    return sum(1 for row in open_sheet(filename, data).rows if row.cells)


def check_rights(ctx: Context, obj: CompiledObject, options: ImportOptions) -> None:
    access = ctx.schema.access
    access.require(ctx.actor, obj.name, "read")
    if not access.allowed(ctx.actor, obj.name, "import"):
        raise PermissionDenied(f"your role may not import {obj.name} records")
    access.require(ctx.actor, obj.name, "create")
    if options.key:
        access.require(ctx.actor, obj.name, "edit")


def plan_columns(ctx: Context, obj: CompiledObject, header: Sequence[str],
                 options: ImportOptions) -> list[Column]:
    """The columns and the fields they fill; SheetRejected for a header (or key) problem."""
    columns = match_columns(obj, header, ctx.actor, ctx.schema.access, options.mapping)
    if options.key != "id":  # ids are metabiz's to give; an exported id column is left out
        columns = [Column(c.index, c.header, None, "record ids are set by metabiz; they "
                          "find the records to update with key id")
                   if c.field == "id" else c for c in columns]
    if options.key:
        if options.key != "id" and options.key not in obj.fields:
            raise SheetRejected([f"the key {options.key!r} is not a field of {obj.name}"])
        if not any(c.field == options.key for c in columns):
            raise SheetRejected([f"row 1: no column holds the key {options.key!r}"])
    if not any(c.field for c in columns):
        raise SheetRejected(["row 1: no column is imported"])
    return columns


def run_import(ctx: Context, object_name: str, filename: str, data: bytes,
               options: ImportOptions, progress: Progress | None = None,
               limit: int | None = None) -> ImportResult:
    """Import inside the caller's transaction; `limit` reads only the first rows (previews)."""
    obj = ctx.schema.object(object_name)
    check_rights(ctx, obj, options)
    sheet = open_sheet(filename, data)
    columns = plan_columns(ctx, obj, sheet.header, options)
    # the rows wait as plain tuples of text (a blank row has no cells left), which the
    # garbage collector stops tracking: its full passes during the import then skip them
    rows = [(row.number, tuple(row.cells)) for row in sheet.rows if row.cells]
    if limit is not None:
        rows = rows[:limit]
    result = ImportResult(total=len(rows), notes=[f"column {c.name}: not imported ({c.note})"
                                                  for c in columns if c.note])
    run = _Run(ctx, obj, columns, options, result, len(sheet.header))
    for start in range(0, len(rows), options.batch):
        run.batch(rows[start:start + options.batch])
        result.processed = min(start + options.batch, len(rows))
        if progress is not None:
            progress(result)
    result.errors.sort(key=lambda e: (e.row, e.position))
    result.written = not options.dry_run and (options.skip_bad_rows or not result.errors)
    return result


class _Run:
    """One import's state across batches: readers, references, the keys seen so far."""

    def __init__(self, ctx: Context, obj: CompiledObject, columns: list[Column],
                 options: ImportOptions, result: ImportResult, width: int) -> None:
        self.ctx, self.obj, self.options, self.result = ctx, obj, options, result
        self.width = width
        self.columns = [c for c in columns if c.field]
        self.by_field = {str(c.field): c for c in self.columns}
        self.readers: dict[str, Reader | None] = {
            str(c.field): reader_for(obj, str(c.field)) for c in self.columns}
        #: (cell index, field, reader) of each imported column, in order
        self.cells = [(c.index, str(c.field), self.readers[str(c.field)]) for c in self.columns]
        self.references = References(ctx, obj)
        #: reference column → its target ("" for users), for the columns resolved per batch
        self.targets = {name: self.references.target_of(name)
                        for name, reader in self.readers.items() if reader is None}
        self.keys_seen: dict[Any, int] = {}  # key value → the row that had it first

    def error(self, row: int, name: str | None, message: str) -> None:
        column = self.by_field.get(name) if name else None
        label = column.name if column else (name if name and name != records.RECORD_KEY
                                            else None)
        field_name = name if name and name != records.RECORD_KEY else None
        self.result.errors.append(RowError(row, label, field_name, message,
                                           column.index if column else 10**6))

    # -- one batch ----------------------------------------------------------------------

    def batch(self, rows: list[tuple[int, tuple[str | None, ...]]]) -> None:
        """Read, check and write rows given as (row number, cells)."""
        items = self._resolve([self._read(number, cells) for number, cells in rows])
        if self.options.key:
            items = self._match_keys(items)
        updates = [i for i in items if i.record_id is not None]
        creates = [i for i in items if i.record_id is None]
        for item in updates:
            self._update(item)
        self._create(creates)

    def _read(self, number: int, cells: tuple[str | None, ...]) -> _Item:
        ok = True
        width = len(cells)
        if width > self.width:
            ok = False
            self.result.errors.append(RowError(
                number, column_letter(self.width), None,
                f"{width} cells but the header has {self.width} columns", self.width))
        values: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for index, name, reader in self.cells:
            raw = cells[index] if index < width else None
            if raw is None:
                continue
            stripped = raw.strip()
            if not stripped:
                continue  # blank: the default on create, unchanged on update
            if len(raw) > MAX_CELL:
                ok = False
                self.error(number, name, f"the cell holds {len(raw):,} characters; a cell "
                                         f"may hold at most {MAX_CELL:,}")
                continue
            if reader is None:
                texts[name] = stripped
                continue
            try:
                values[name] = reader(stripped if name == "id" else raw)
            except ValueError as err:
                ok = False
                self.error(number, name, f"{stripped[:60]!r}: {err}")
        return _Item(number, values, texts, ok)

    def _resolve(self, items: list[_Item]) -> list[_Item]:
        targets, value = self.targets, self.references.value
        by_target: dict[str, set[str]] = {}
        for item in items:
            for name, text in item.texts.items():
                by_target.setdefault(targets[name], set()).add(text)
        for target, texts in by_target.items():
            self.references.resolve(target, texts)
        for item in items:
            for name, text in item.texts.items():
                try:
                    item.values[name] = value(targets[name], text)
                except ValueError as err:
                    item.ok = False
                    self.error(item.number, name, str(err))
        return [item for item in items if item.ok]

    def _match_keys(self, items: list[_Item]) -> list[_Item]:
        key = str(self.options.key)
        good = []
        wanted = {}
        for item in items:
            value = item.values.get(key)
            if value is None:
                good.append(item)
                continue
            marker = value if key == "id" else str(value).casefold()
            if marker in self.keys_seen:
                self.error(item.number, key, f"{value!r} is also the key of row "
                                                 f"{self.keys_seen[marker]}")
                continue
            self.keys_seen[marker] = item.number
            wanted[item.number] = value
            good.append(item)
        found = self._existing(key, set(wanted.values()))
        kept = []
        for item in good:
            value = wanted.get(item.number)
            if value is not None:
                ids = found.get(value, [])
                if len(ids) > 1:
                    self.error(item.number, key, f"{len(ids)} {self.obj.name} records have "
                                                     f"{key} {value!r}")
                    continue
                if ids:
                    item.record_id = ids[0]
                elif key == "id":
                    self.error(item.number, key, f"no {self.obj.name} record with id {value}")
                    continue
            if key == "id":
                item.values.pop("id", None)
            kept.append(item)
        return kept

    def _existing(self, key: str, values: set[Any]) -> dict[Any, list[int]]:
        """Records (that the actor may see) whose key is one of `values`."""
        if not values:
            return {}
        table = self.obj.table
        cf = self.obj.fields.get(key)
        column = table.c[key]
        stored = {(v if cf is None else cf.ftype.to_db(cf.fdef, v)): v for v in
                  (v if key == "id" else self._loaded(key, v) for v in values)}
        # the records the actor could update (their own, their team's, details of masters
        # they may see, pooled records of their pools): the record service's own scope
        scope = record_scope.conditions(self.ctx.schema, self.ctx.actor, self.obj,
                                        reading=False)
        found: dict[Any, list[int]] = {}
        keys = list(stored)
        for start in range(0, len(keys), 500):
            rows = self.ctx.conn.execute(select(table.c.id, column).where(
                column.in_(keys[start:start + 500]), *scope))
            for record_id, value in rows:
                if value in stored:
                    found.setdefault(stored[value], []).append(int(record_id))
        return found

    def _loaded(self, key: str, value: Any) -> Any:
        cf = self.obj.fields[key]
        loaded = cf.ftype.quick_load(cf.fdef, value)
        return cf.ftype.normalise(cf.fdef, value if loaded is NOT_PLAIN else loaded)

    def _update(self, item: _Item) -> None:
        try:
            with self.ctx.conn.begin_nested():
                records.update(self.ctx, self.obj.name, item.record_id, item.values)
        except MetabizError as err:
            self._report(item, err.fields, err.message)
            return
        self.result.updated += 1

    def _create(self, items: list[_Item]) -> None:
        """Create the batch; when the service refuses rows, report them and try the rest."""
        while items:
            try:
                with self.ctx.conn.begin_nested():
                    records.create_many(self.ctx, self.obj.name, [i.values for i in items],
                                        returning=False)
            except PermissionDenied:
                raise  # the role, not a row: the whole import stops
            except MetabizError as err:
                bad = self._attribute(items, err)
                if bad is None:  # no row named: find it one row at a time
                    if len(items) == 1:
                        self._report(items[0], err.fields, err.message)
                        return
                    for item in items:
                        self._create([item])
                    return
                items = [item for index, item in enumerate(items) if index not in bad]
                continue
            self.result.created += len(items)
            return

    def _attribute(self, items: list[_Item], err: MetabizError) -> set[int] | None:
        """Report the rows an error of `create_many` names; their indexes (None: it named none)."""
        if len(items) == 1 and err.fields:
            self._report(items[0], err.fields, err.message)
            return {0}
        per_row: dict[int, dict[str, list[str]]] = {}
        for key, messages in err.fields.items():
            match = _INDEXED.match(key)
            if match is None:
                return None
            per_row.setdefault(int(match.group(1)), {})[match.group(2)] = messages
        if not per_row:
            return None
        for index, fields in per_row.items():
            self._report(items[index], fields, err.message)
        return set(per_row)

    def _report(self, item: _Item, fields: Mapping[str, Sequence[str]], message: str) -> None:
        if not fields:
            self.error(item.number, None, message)
        for name, messages in fields.items():
            for text in messages:
                self.error(item.number, name, text)

