"""sys_users.timezone: the time zone a user chose in their settings (IANA name).

Existing users get none: they see datetimes in the app's time zone (app.json "timezone").
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0005_people"
down_revision = "platform_0004_pools"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sys_users") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("sys_users") as batch:
        batch.drop_column("timezone")
