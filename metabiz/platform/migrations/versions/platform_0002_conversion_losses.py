"""`sys_conversion_losses` always exists (release 0.1 created it on the first blanked value).

A database where an apply already blanked values keeps its table and rows as they are.
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0002"
down_revision = "platform_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("sys_conversion_losses"):
        return
    op.create_table(
        "sys_conversion_losses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("old_type", sa.String(32), nullable=False),
        sa.Column("old_value", sa.Text()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Index("ix_sys_conversion_losses_field", "object", "field", "record_id"),
    )


def downgrade() -> None:
    op.drop_table("sys_conversion_losses")
