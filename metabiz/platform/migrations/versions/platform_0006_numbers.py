"""SQLite: object tables' number, currency, percent and roll-up columns hold integers scaled by 10^scale.

Releases before 0.4 kept these NUMERIC(p, s) columns as binary doubles on SQLite (15 to 17
significant digits); each value is now rewritten as the integer `value * 10^scale`, which
keeps all 18 digits from now on (digits a double had already lost cannot come back). The
scale is the field's in the applied metadata; a column whose declaration still shows an
older scale (those releases did not redeclare it when a field's scale changed) is declared
anew, as the scale is read from the declaration from now on. PostgreSQL's NUMERIC columns
were always exact: nothing changes there.
"""

import json
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
#: the default scale of each exact field type (a roll-up's column always has 6 decimals)
DEFAULT_SCALES = {"number": 0, "currency": 2, "percent": 2}


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    inspector = sa.inspect(conn)
    scales = _field_scales(conn, inspector.get_table_names())
    for table in inspector.get_table_names():
        if not table.startswith(OBJECT_TABLE_PREFIX):
            continue
        for column in inspector.get_columns(table):
            kind = column["type"]
            if not (isinstance(kind, sa.Numeric) and isinstance(kind.scale, int)):
                continue
            scale = scales.get((table, column["name"]), kind.scale)
            _scale_column(conn, table, column["name"], scale)
            if scale != kind.scale:
                _declare(conn, inspector, table, column["name"],
                         sa.Numeric(kind.precision, scale))


def _field_scales(conn: Any, tables: list[str]) -> dict[tuple[str, str], int]:
    """(table, column) → the scale of the number, currency or percent field it holds, as
    the newest applied metadata defines it."""
    if "sys_metadata_versions" not in tables:
        return {}
    raw = conn.execute(sa.text("SELECT documents FROM sys_metadata_versions "
                               "ORDER BY version DESC LIMIT 1")).scalar()
    documents = json.loads(raw) if isinstance(raw, str) else (raw or {})
    scales: dict[tuple[str, str], int] = {}
    for path, document in documents.items():
        if "/objects/" not in f"/{path}" or not isinstance(document, dict):
            continue
        for field in document.get("fields") or ():
            if isinstance(field, dict) and field.get("type") in DEFAULT_SCALES:
                scale = field.get("scale")
                scales[(f"{OBJECT_TABLE_PREFIX}{document.get('api_name')}",
                        str(field.get("api_name")))] = scale if isinstance(scale, int) \
                    else DEFAULT_SCALES[field["type"]]
    return scales


def _scale_column(conn: Any, table: str, column: str, scale: int) -> None:
    rows = conn.execute(sa.text(f'SELECT rowid, "{column}" FROM "{table}" '
                                f'WHERE "{column}" IS NOT NULL')).all()
    changed = [{"row": rowid, "value": to_scaled(value, scale)} for rowid, value in rows
               if not isinstance(value, str | bytes)]
    for start in range(0, len(changed), BATCH):
        conn.execute(sa.text(f'UPDATE "{table}" SET "{column}" = :value WHERE rowid = :row'),
                     changed[start:start + BATCH])


def _declare(conn: Any, inspector: Any, table: str, column: str, kind: Any) -> None:
    """Declare a column anew (SQLite cannot alter a type), values and indexes kept."""
    indexes = [ix for ix in inspector.get_indexes(table) if column in ix["column_names"]]
    for ix in indexes:
        op.drop_index(ix["name"], table_name=table)
    stale = f"{column[:50]}__old"
    op.alter_column(table, column, new_column_name=stale)
    op.add_column(table, sa.Column(column, kind, nullable=True))
    conn.execute(sa.text(f'UPDATE "{table}" SET "{column}" = "{stale}"'))
    op.drop_column(table, stale)
    for ix in indexes:
        op.create_index(ix["name"], table, ix["column_names"], unique=bool(ix["unique"]))


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
