"""sheet_imports: uploaded files waiting for, being, or having been imported.

A new table; nothing to move.
"""

import sqlalchemy as sa
from alembic import op

revision = "spreadsheets_0001"
down_revision = None
branch_labels = ("spreadsheets",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sheet_imports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16)),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON()),
        sa.Column("notes", sa.JSON()),
        sa.Column("message", sa.Text()),
        sa.Column("written", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
    )
    op.create_index("ix_sheet_imports_actor", "sheet_imports", ["actor", "object"])


def downgrade() -> None:
    op.drop_index("ix_sheet_imports_actor", "sheet_imports")
    op.drop_table("sheet_imports")
