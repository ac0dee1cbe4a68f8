"""`sys_sessions`: browser sessions kept on the server, so signing out ends one for good.

Sessions signed in before this revision hold no key: their users sign in again.
"""

import sqlalchemy as sa
from alembic import op

revision = "platform_0003"
down_revision = "platform_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64),
                  sa.ForeignKey("sys_users.name", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Index("ix_sys_sessions_user", "user_name"),
    )


def downgrade() -> None:
    op.drop_table("sys_sessions")
