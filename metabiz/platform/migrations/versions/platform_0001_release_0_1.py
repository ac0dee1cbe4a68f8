"""Release 0.1's system tables: users, roles, tokens, metadata versions, history, counters, audit.

Exactly the DDL `metabiz init` of release 0.1 made with `create_all`, and the system user it
inserted. A database made by 0.1 already holds these tables: it is stamped here, not run.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "platform_0001"
down_revision = None
branch_labels = ("platform",)
depends_on = None

#: a database made before revisions existed holds these tables: it is stamped at this
#: revision instead of running it (see metabiz.platform.migrations)
baseline_tables = ("sys_users", "sys_user_roles", "sys_tokens", "sys_metadata_versions",
                   "sys_field_history", "sys_counters", "sys_audit")

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    users = op.create_table(
        "sys_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("email", sa.String(254)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("manager", sa.String(64), sa.ForeignKey("sys_users.name", ondelete="SET NULL")),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sys_user_roles",
        sa.Column("user_name", sa.String(64), sa.ForeignKey("sys_users.name", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
    )
    op.create_table(
        "sys_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("sys_users.name", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime()),
        sa.Column("last_used_at", sa.DateTime()),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "sys_metadata_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("applied_by", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
    )
    op.create_table(
        "sys_field_history",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old_value", sa.JSON()),
        sa.Column("new_value", sa.JSON()),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Index("ix_sys_field_history_record", "object", "record_id"),
    )
    op.create_table(
        "sys_counters",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "sys_audit",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("user_name", sa.String(64)),
        sa.Column("client", sa.String(64)),
        sa.Column("detail", sa.JSON()),
        sa.Index("ix_sys_audit_user", "user_name", "kind", "at"),
        sa.Index("ix_sys_audit_client", "client", "kind", "at"),
        sa.Index("ix_sys_audit_at", "at"),
    )
    # the user behind the SYSTEM actor: inactive, with an unusable password
    op.bulk_insert(users, [{
        "name": "system", "display_name": "System", "password_hash": "!", "language": "en",
        "active": False, "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}])


def downgrade() -> None:
    for table in ("sys_audit", "sys_counters", "sys_field_history", "sys_metadata_versions",
                  "sys_tokens", "sys_user_roles", "sys_users"):
        op.drop_table(table)
