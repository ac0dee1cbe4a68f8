"""SQLite: object tables' number, currency, percent and roll-up columns hold integers scaled by 10^scale.

Releases before 0.4 kept these NUMERIC(p, s) columns as binary doubles on SQLite (15 to 17
significant digits); each value is now rewritten as the integer `value * 10^s`, which keeps
all 18 digits from now on (digits a double had already lost cannot come back). PostgreSQL's
NUMERIC columns were always exact: nothing changes there.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

from metabiz.platform.exact_numbers import OBJECT_TABLE_PREFIX, to_scaled

revision = "platform_0006_numbers"
down_revision = "platform_0005_people"
branch_labels = None
depends_on = None

#: rows rewritten per statement
BATCH = 500


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    inspector = sa.inspect(conn)
    for table in inspector.get_table_names():
        if not table.startswith(OBJECT_TABLE_PREFIX):
            continue
        for column in inspector.get_columns(table):
            kind = column["type"]
            if isinstance(kind, sa.Numeric) and isinstance(kind.scale, int):
                _scale_column(conn, table, column["name"], kind.scale)


def _scale_column(conn: Any, table: str, column: str, scale: int) -> None:
    rows = conn.execute(sa.text(f'SELECT rowid, "{column}" FROM "{table}" '
                                f'WHERE "{column}" IS NOT NULL')).all()
    changed = [{"row": rowid, "value": to_scaled(value, scale)} for rowid, value in rows
               if not isinstance(value, str | bytes)]
    for start in range(0, len(changed), BATCH):
        conn.execute(sa.text(f'UPDATE "{table}" SET "{column}" = :value WHERE rowid = :row'),
                     changed[start:start + BATCH])


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    inspector = sa.inspect(conn)
    for table in inspector.get_table_names():
        if not table.startswith(OBJECT_TABLE_PREFIX):
            continue
        for column in inspector.get_columns(table):
            kind = column["type"]
            if isinstance(kind, sa.Numeric) and isinstance(kind.scale, int) and kind.scale:
                conn.execute(sa.text(f'UPDATE "{table}" SET "{column["name"]}" = '
                                     f'"{column["name"]}" / {10.0 ** kind.scale!r}'))
