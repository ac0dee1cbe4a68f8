"""The search index of each object's text, e-mail and phone fields: an FTS5 trigram table
kept by triggers on SQLite, pg_trgm GIN indexes on PostgreSQL, and the SQL that uses them.

Schema evolution drops an object's index before changing the fields it covers and builds it
again after (`before_migration` / `after_migration`); `metabiz upgrade` builds what an older
database lacks (`build_missing`); a bulk import fills SQLite's index once at its end
(`filled_at_end`). A database without an index (not upgraded yet, or a
PostgreSQL server where pg_trgm cannot be created) is still searched, by scanning.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    exc,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnClause

from metabiz.objects.fields import field_type
from metabiz.objects.runtime import bundle_from_documents
from metabiz.objects.schema import CompiledObject, RuntimeSchema
from metabiz.platform.db import writer
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.model import MetadataBundle, ObjectDef
from metabiz.platform.metadata.store import current_version, hold_for_apply
from metabiz.platform.metadata.store import load_documents as stored_documents

log = logging.getLogger(__name__)

#: the separators a phone number may carry (fields/phone.py): a query of its digits finds it
PHONE_SEPARATORS = (" ", "(", ")", "-", ".", "/", "+")
#: an FTS5 trigram index finds words of at least this many characters; shorter ones scan
TRIGRAM = 3
_DIGITS_WORD = re.compile(r"^\+?[0-9][0-9 ()\-./]*$")


@dataclass(frozen=True)
class Indexed:
    """One indexed column: a field's text, or the digits of a phone field."""

    field: str
    digits: bool = False

    @property
    def fts_column(self) -> str:
        return ("d_" if self.digits else "f_") + self.field


def indexed(odef: ObjectDef) -> tuple[Indexed, ...]:
    """What an object's index covers: its stored searchable fields, and phone digits."""
    out: list[Indexed] = []
    for f in sorted(odef.fields, key=lambda f: f.api_name):
        ftype = field_type(f.type)
        if ftype.searchable and ftype.stored:
            out.append(Indexed(f.api_name))
            if f.type == "phone":
                out.append(Indexed(f.api_name, digits=True))
    return tuple(out)


def digits_sql(column: str) -> str:
    """SQL for a phone column's text without its separators (the same on both databases)."""
    expr = column
    for sep in PHONE_SEPARATORS:
        expr = f"replace({expr}, '{sep}', '')"
    return expr


def phone_digits(word: str) -> str | None:
    """The digits a word looks for in phone numbers (`138-1234` → 1381234), when it looks
    like (part of) one."""
    if not _DIGITS_WORD.match(word):
        return None
    digits = "".join(ch for ch in word if ch.isdigit())
    return digits or None


# -- the SQL a search runs ----------------------------------------------------------------


def matching(conn: Connection, obj: CompiledObject, fields: Sequence[str],
             words: Sequence[str]) -> list[ColumnElement[bool]]:
    """Conditions on `obj.table` keeping the records where every word matches one of
    `fields` (a phone field also by its digits): through the index where it can help."""
    dialect = conn.dialect.name
    phones = {n for n in fields if obj.fields[n].fdef.type == "phone"}
    long_words = [w for w in words if len(w) >= TRIGRAM]
    use_fts = dialect == "sqlite" and long_words and _has_fts(conn, obj)
    conditions: list[ColumnElement[bool]] = []
    if use_fts:
        expr = " AND ".join(_fts_word(w, fields, phones) for w in long_words)
        conditions.append(obj.table.c.id.in_(
            text(f'SELECT rowid FROM "{fts_table(obj.name)}" '
                 f'WHERE "{fts_table(obj.name)}" MATCH :search_expr')
            .bindparams(search_expr=expr).columns(literal_column("rowid"))))
    for word in words:
        if use_fts and len(word) >= TRIGRAM:
            continue
        conditions.append(_scan_word(obj, fields, phones, word, dialect))
    return conditions


def contains(column: ColumnElement[str], word: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive substring match: SQLite's LIKE already ignores ASCII case (and CJK
    has none); PostgreSQL's ILIKE is what its trigram indexes serve."""
    return _like(column, "%" + _escape(word) + "%", dialect)


def _like(column: ColumnElement[str], pattern: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scan_word(obj: CompiledObject, fields: Sequence[str], phones: set[str], word: str,
               dialect: str) -> ColumnElement[bool]:
    either = [contains(obj.table.c[n], word, dialect) for n in fields]
    digits = phone_digits(word)
    if digits:
        either += [_digits_of(obj.table.c[n]).like("%" + digits + "%") for n in sorted(phones)]
    return or_(*either)


def _digits_of(column: ColumnClause[str]) -> ColumnElement[str]:
    # constants, not bound values: PostgreSQL matches the index's expression literally
    expr: ColumnElement[str] = column
    for sep in PHONE_SEPARATORS:
        expr = func.replace(expr, literal_column(f"'{sep}'"), literal_column("''"))
    return expr


def _fts_word(word: str, fields: Sequence[str], phones: set[str]) -> str:
    columns = " ".join(Indexed(n).fts_column for n in fields)
    either = [f"{{{columns}}} : {_phrase(word)}"]
    digits = phone_digits(word)
    if digits and len(digits) >= TRIGRAM and phones:
        columns = " ".join(Indexed(n, digits=True).fts_column for n in sorted(phones))
        either.append(f"{{{columns}}} : {_phrase(digits)}")
    return "(" + " OR ".join(either) + ")"


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


# -- keeping the index ----------------------------------------------------------------------


def fts_table(object_name: str) -> str:
    # the `_fts` ending keeps it apart from FTS5's own `<table>_data`, `_idx`… tables
    return f"search_{object_name}_fts"


def before_migration(conn: Connection, old: MetadataBundle, schema: RuntimeSchema) -> None:
    """Drop the index of every object whose indexed fields change (added, removed, renamed,
    retyped), that is renamed or removed, and SQLite's triggers of all: the DDL that follows
    must find no trigger or operator class tied to a column it changes."""
    for odef in old.objects:
        new = schema.objects.get(odef.api_name)
        if new is None or indexed(new.odef) != indexed(odef):
            drop(conn, odef.api_name)
        elif conn.dialect.name == "sqlite":
            _drop_triggers(conn, odef.api_name)


def after_migration(conn: Connection, schema: RuntimeSchema) -> list[str]:
    """Build every missing index (new objects, changed fields) and SQLite's triggers; the
    objects whose index was built from their rows."""
    return build_missing(conn, schema.objects.values())


def build_missing(conn: Connection, objects: Iterable[CompiledObject]) -> list[str]:
    """Create what the objects' indexes lack and fill what was created; the objects filled.
    Idempotent: `metabiz upgrade` runs it on every database."""
    built: list[str] = []
    trigrams = _trigram_extension(conn) if conn.dialect.name == "postgresql" else None
    fts = conn.dialect.name == "sqlite" and _fts5_trigram(conn)
    for obj in objects:
        if fts:
            if _sqlite_index(conn, obj):
                built.append(obj.name)
        elif trigrams is not None and _pg_indexes(conn, obj, trigrams):
            built.append(obj.name)
    return built


def upgrade(engine: Engine, extensions: Extensions) -> None:
    """The upgrade step (`metabiz upgrade`): build the indexes a database made before them,
    or whose index was dropped, lacks; nothing when all are there."""
    with writer(engine).begin() as conn:
        hold_for_apply(conn)
        kinds = tuple(extensions.document_kinds)
        bundle = bundle_from_documents(stored_documents(conn), kinds)
        built = build_missing(conn, RuntimeSchema(current_version(conn), bundle,
                                                  dialect=engine.dialect.name).objects.values())
    if built:
        log.info("search: indexed %s", ", ".join(built))


def drop(conn: Connection, object_name: str) -> None:
    """Remove an object's index (its table, or its data kept after removal, stays)."""
    if conn.dialect.name == "sqlite":
        _drop_triggers(conn, object_name)
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{fts_table(object_name)}"')
        return
    if conn.dialect.name == "postgresql":
        for name in conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = :t AND indexname LIKE 'srch\\_%'"),
                {"t": f"obj_{object_name}"}).scalars():
            conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')


def _fts5_trigram(conn: Connection) -> bool:
    """SQLite has FTS5 and its trigram tokenizer (3.34+); without them searches scan."""
    version = tuple(int(p) for p in str(conn.exec_driver_sql(
        "SELECT sqlite_version()").scalar()).split("."))
    options = set(conn.exec_driver_sql("PRAGMA compile_options").scalars())
    if version >= (3, 34) and "ENABLE_FTS5" in options:
        return True
    log.warning("search: this SQLite (%s) lacks FTS5's trigram tokenizer; searches scan "
                "the tables", ".".join(map(str, version)))
    return False


def _has_fts(conn: Connection, obj: CompiledObject) -> bool:
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"),
                        {"n": fts_table(obj.name)}).first() is not None


def _fts_columns(conn: Connection, name: str) -> list[str] | None:
    rows = conn.exec_driver_sql(f'PRAGMA table_info("{name}")').fetchall()
    return [r[1] for r in rows] if rows else None


def _sqlite_index(conn: Connection, obj: CompiledObject) -> bool:
    """The FTS5 table (filled when new or when its columns are not the fields') and its
    three triggers; True when it was filled."""
    cols = indexed(obj.odef)
    name, table = fts_table(obj.name), obj.table.name
    if not cols:
        drop(conn, obj.name)
        return False
    wanted = [c.fts_column for c in cols]
    filled = False
    if _fts_columns(conn, name) != wanted:
        _drop_triggers(conn, obj.name)
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
        conn.exec_driver_sql(
            f'CREATE VIRTUAL TABLE "{name}" USING fts5('
            + ", ".join(f'"{c}"' for c in wanted) + ", tokenize = 'trigram')")
        conn.exec_driver_sql(
            f'INSERT INTO "{name}" (rowid, ' + ", ".join(f'"{c}"' for c in wanted) + ") "
            f'SELECT id, {", ".join(_value(c, "") for c in cols)} FROM "{table}"')
        filled = True
    for suffix, body in _triggers(obj, cols).items():
        conn.exec_driver_sql(f'CREATE TRIGGER IF NOT EXISTS "{name}_{suffix}" {body}')
    return filled


def _triggers(obj: CompiledObject, cols: Sequence[Indexed]) -> dict[str, str]:
    """The bodies of the three triggers keeping an object's FTS5 table, by name suffix."""
    name, table = fts_table(obj.name), obj.table.name
    names = ", ".join(f'"{c.fts_column}"' for c in cols)
    new_values = ", ".join(_value(c, "new.") for c in cols)
    sets = ", ".join(f'"{c.fts_column}" = {_value(c, "new.")}' for c in cols)
    watched = ", ".join(f'"{f}"' for f in dict.fromkeys(c.field for c in cols))
    return {
        "ai": f'AFTER INSERT ON "{table}" BEGIN INSERT INTO "{name}" (rowid, {names}) '
              f"VALUES (new.id, {new_values}); END",
        "au": f'AFTER UPDATE OF {watched} ON "{table}" BEGIN UPDATE "{name}" SET {sets} '
              "WHERE rowid = new.id; END",
        "ad": f'AFTER DELETE ON "{table}" BEGIN DELETE FROM "{name}" '
              "WHERE rowid = old.id; END",
    }


@contextmanager
def filled_at_end(conn: Connection, obj: CompiledObject) -> Iterator[None]:
    """SQLite: index the records inserted into `obj`'s table inside the block with one
    statement at its end instead of one by one by the insert trigger (a bulk import: the
    trigger's row-by-row filling costs about twice as much inside savepoints).

    Runs in the caller's transaction, which must hold SQLite's write lock (every metabiz
    writer does from `BEGIN`): the trigger is dropped and created again in it, so a rollback
    restores it, and the rows above the table's largest id before the block are exactly the
    block's (record ids are AUTOINCREMENT). Edits and deletes in the block keep their
    triggers: an edit of a new row finds no index entry yet and the final fill reads its last
    values; a deleted new row is not filled. Nothing to do on PostgreSQL (its indexes are
    the table's own) or without an index."""
    cols = indexed(obj.odef)
    name = fts_table(obj.name)
    if (conn.dialect.name != "sqlite" or not cols
            or _fts_columns(conn, name) != [c.fts_column for c in cols]
            or not _has_trigger(conn, f"{name}_ai")):
        yield
        return
    before = conn.execute(select(func.max(obj.table.c.id))).scalar() or 0
    conn.exec_driver_sql(f'DROP TRIGGER "{name}_ai"')
    try:
        yield
    except BaseException:
        with suppress(exc.SQLAlchemyError):  # the transaction may be gone; rollback restores
            _fill_since(conn, obj, cols, before)
        raise
    _fill_since(conn, obj, cols, before)


def _fill_since(conn: Connection, obj: CompiledObject, cols: Sequence[Indexed],
                before: int) -> None:
    name = fts_table(obj.name)
    conn.exec_driver_sql(
        f'INSERT INTO "{name}" (rowid, ' + ", ".join(f'"{c.fts_column}"' for c in cols)
        + f') SELECT id, {", ".join(_value(c, "") for c in cols)} FROM "{obj.table.name}" '
        "WHERE id > ?", (int(before),))
    conn.exec_driver_sql(
        f'CREATE TRIGGER IF NOT EXISTS "{name}_ai" {_triggers(obj, cols)["ai"]}')


def _has_trigger(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'trigger' "
                             "AND name = :n"), {"n": name}).first() is not None


def _value(col: Indexed, prefix: str) -> str:
    ref = f'{prefix}"{col.field}"'
    return digits_sql(ref) if col.digits else ref


def _drop_triggers(conn: Connection, object_name: str) -> None:
    for suffix in ("ai", "au", "ad"):
        conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{fts_table(object_name)}_{suffix}"')


def _trigram_extension(conn: Connection) -> str | None:
    """The schema holding pg_trgm, created if it can be (a trusted extension since
    PostgreSQL 13, so a database owner may); None without it: searches then scan, which
    stays correct, only slower on large tables."""
    found = text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                 "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")
    schema = conn.execute(found).scalar()
    if schema is not None:
        return str(schema)
    reason = ""
    # in `public` when allowed: an extension in an application's own schema goes with it
    for where in (" SCHEMA public", ""):
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS pg_trgm{where}")
        except exc.DBAPIError as err:
            reason = str(err.orig).strip().splitlines()[0]
            continue
        return conn.execute(found).scalar()
    log.warning("search: pg_trgm cannot be created (%s); searches scan the tables", reason)
    return None


def pg_index_name(table: str, col: Indexed) -> str:
    """`srch_` + what it indexes, cut to PostgreSQL's 63 characters and made unique by a hash
    of the table and column (a renamed field's index is dropped, never mistaken)."""
    digest = hashlib.sha1(f"{table}|{col.fts_column}".encode()).hexdigest()[:10]
    return f"srch_{table[4:24]}_{col.fts_column[:24]}_{digest}"


def _pg_indexes(conn: Connection, obj: CompiledObject, trigrams: str) -> bool:
    table = obj.table.name
    existing = set(conn.execute(text(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = :t AND indexname LIKE 'srch\\_%'"), {"t": table}).scalars())
    wanted = {pg_index_name(table, c): c for c in indexed(obj.odef)}
    for name in existing - set(wanted):
        conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
    created = False
    for name, col in wanted.items():
        if name in existing:
            continue
        target = f'"{col.field}"'
        target = f"({digits_sql(target)})" if col.digits else target
        conn.exec_driver_sql(
            f'CREATE INDEX "{name}" ON "{table}" USING gin ({target} "{trigrams}".gin_trgm_ops)')
        created = True
    return created
