"""`sys_field_history.kind` and `.note`: claims, returns, assignments and transfers of pools.

Rows written before this revision are plain field changes (kind and note stay empty).
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0004_pools"
down_revision = "platform_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("sys_field_history")}
    with op.batch_alter_table("sys_field_history") as batch:
        if "kind" not in present:
            batch.add_column(sa.Column("kind", sa.String(16), nullable=True))
        if "note" not in present:
            batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sys_field_history") as batch:
        batch.drop_column("note")
        batch.drop_column("kind")
