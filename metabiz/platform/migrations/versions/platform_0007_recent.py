"""`sys_recent_views`: the records each user opened last, for "recently viewed" on home.

Nobody has viewed anything before this revision: the table starts empty.
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0007_recent"
down_revision = "platform_0006_numbers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_recent_views",
        sa.Column("user_name", sa.String(64),
                  sa.ForeignKey("sys_users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("viewed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_name", "object", "record_id"),
        sa.Index("ix_sys_recent_views_user", "user_name", "viewed_at"),
        sa.Index("ix_sys_recent_views_record", "object", "record_id"),
    )


def downgrade() -> None:
    op.drop_table("sys_recent_views")
