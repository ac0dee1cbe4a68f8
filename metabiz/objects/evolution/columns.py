"""Column and table work on the database that migrations and purges share.

Bulk writes of one column, blanking, setting a converted field's old column aside, dropping
SQLite defaults and indexes, the system rows that follow a rename, and dropping for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.operations import Operations
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    Table,
    bindparam,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.platform.db import counters, field_history
from metabiz.platform.metadata.store import conversion_losses

#: from how many rows on values are written through a temporary table
BULK_ROWS = 2000


def write_values(conn: Connection, table: Any, column: str,
                 values: Sequence[tuple[int, Any]]) -> int:
    """Set one column of many rows by id (blank values are left out: columns start blank).

    Many rows go through a temporary table and one UPDATE … FROM: an UPDATE per row
    costs a round trip each on PostgreSQL.
    """
    rows = [{"_id": i, "_value": v} for i, v in values if v is not None]
    if len(rows) < BULK_ROWS:
        if rows:
            conn.execute(update(table).where(table.c.id == bindparam("_id"))
                         .values({column: bindparam("_value")}), rows)
        return len(rows)
    staged = Table(f"tmp_{table.name}_{column}"[:60], MetaData(),
                   Column("_id", BigInteger, primary_key=True),
                   Column("_value", table.c[column].type), prefixes=["TEMPORARY"])
    staged.create(conn)
    if conn.dialect.name == "postgresql":  # COPY: the fastest way in, same transaction
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{staged.name}" ("_id", "_value") FROM STDIN') as copy:
            for row in rows:
                copy.write_row((row["_id"], row["_value"]))
    else:
        conn.execute(insert(staged), rows)
    conn.execute(update(table).values({column: staged.c._value})
                 .where(table.c.id == staged.c._id))
    staged.drop(conn)
    return len(rows)


def blank_values(conn: Connection, table: Any, column: str, ids: Sequence[int]) -> None:
    """Empty one column of the given rows."""
    for start in range(0, len(ids), 500):
        conn.execute(update(table).where(table.c.id.in_(ids[start:start + 500]))
                     .values({column: None}))


def set_aside(conn: Connection, ops: Operations, obj: CompiledObject, cf: CompiledField,
              old_column_type: TypeEngine[Any], version: int) -> str:
    """Move the old column to `<field>__v<version>` and add the new one; gives the name."""
    table = obj.table.name
    backup = f"{cf.name[:48]}__v{version}"
    drop_indexes_on(conn, ops, table, cf.name)
    keys = [fk for fk in inspect(conn).get_foreign_keys(table)
            if fk["constrained_columns"] == [cf.name]]
    if keys and conn.dialect.name == "sqlite":
        # SQLite cannot drop a foreign key in place: keep the ids in a plain column and
        # empty the constrained one, so the kept ids never block deleting their targets.
        stale = f"{backup}_fk"
        ops.alter_column(table, cf.name, new_column_name=stale)
        ops.add_column(table, Column(backup, old_column_type, nullable=True))
        conn.exec_driver_sql(f'UPDATE "{table}" SET "{backup}" = "{stale}", "{stale}" = NULL')
    else:
        ops.alter_column(table, cf.name, new_column_name=backup)
        for key in keys:
            if key.get("name"):
                ops.drop_constraint(str(key["name"]), table, type_="foreignkey")
        without_default(conn, ops, table, backup, old_column_type)
    ops.add_column(table, Column(cf.name, obj.table.c[cf.name].type, nullable=True))
    return backup


def without_default(conn: Connection, ops: Operations, table: str, column: str,
                    column_type: TypeEngine[Any]) -> None:
    """A SQLite column given a default when it was added, without it (values kept).

    The record service writes every active column, so the default is harmless while the
    field is active; a removed or set-aside column must not give it to new rows.
    """
    if conn.dialect.name != "sqlite":
        return
    found = next((c for c in inspect(conn).get_columns(table) if c["name"] == column), None)
    if found is None or found.get("default") is None:
        return
    drop_indexes_on(conn, ops, table, column)
    stale = f"{column[:50]}__old"
    ops.alter_column(table, column, new_column_name=stale)
    ops.add_column(table, Column(column, column_type, nullable=True))
    conn.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = "{stale}"')
    ops.drop_column(table, stale)


def rescale_column(conn: Connection, ops: Operations, table: str, column: str,
                   column_type: TypeEngine[Any], shift: int) -> None:
    """SQLite: an exact number column (integers times 10^scale) at a new scale: its values
    times 10^shift in a column declared with the new NUMERIC(p, s), as backups and upgrades
    read the scale from the declaration (indexes on it come back with the object's)."""
    drop_indexes_on(conn, ops, table, column)
    stale = f"{column[:50]}__old"
    ops.alter_column(table, column, new_column_name=stale)
    ops.add_column(table, Column(column, column_type, nullable=True))
    conn.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = metabiz_rescale("{stale}", {shift})')
    ops.drop_column(table, stale)


def drop_indexes_on(conn: Connection, ops: Operations, table: str, column: str) -> None:
    """Drop the indexes on exactly this one column."""
    for ix in inspect(conn).get_indexes(table):
        if ix["column_names"] == [column] and ix["name"]:
            ops.drop_index(ix["name"], table_name=table)


def rename_references(conn: Connection, old_object: str, old_field: str | None,
                      new_object: str, new_field: str | None) -> None:
    """Field history, auto-number counters and recorded losses follow a rename."""
    if old_field is None:
        conn.execute(update(field_history).where(field_history.c.object == old_object)
                     .values(object=new_object))
        names = conn.execute(select(counters.c.name).where(
            counters.c.name.startswith(f"{old_object}.", autoescape=True))).scalars().all()
        for name in names:
            conn.execute(update(counters).where(counters.c.name == name).values(
                name=f"{new_object}.{name.partition('.')[2]}"))
        if inspect(conn).has_table(conversion_losses.name):
            conn.execute(update(conversion_losses)
                         .where(conversion_losses.c.object == old_object)
                         .values(object=new_object))
        return
    conn.execute(update(field_history).where(field_history.c.object == old_object,
                                             field_history.c.field == old_field)
                 .values(field=new_field))
    conn.execute(update(counters)
                 .where(counters.c.name == f"{old_object}.{old_field}")
                 .values(name=f"{new_object}.{new_field}"))
    if inspect(conn).has_table(conversion_losses.name):
        conn.execute(update(conversion_losses)
                     .where(conversion_losses.c.object == old_object,
                            conversion_losses.c.field == old_field)
                     .values(field=new_field))


# -- for good -------------------------------------------------------------------------------


def purge_table(conn: Connection, ops: Operations, table: str) -> None:
    """Drop a removed object's table (and, on SQLite, clear kept columns that point to it)."""
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


def purge_column(conn: Connection, ops: Operations, table: str, column: str) -> None:
    """Drop a removed field's column (on SQLite one with a foreign key is only emptied)."""
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
