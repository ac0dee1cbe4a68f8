"""Release 0.1's flow tables: approvals, work items, jobs, webhook attempts, notifications.

Also the assignment cursors. Exactly the DDL release 0.1 made with `create_all`; a database
made by 0.1 already holds these tables: it is stamped here, not run.
"""

import sqlalchemy as sa
from alembic import op

revision = "flows_0001"
down_revision = None
branch_labels = ("flows",)
depends_on = None

#: a database made before revisions existed holds these tables: it is stamped at this
#: revision instead of running it (see metabiz.platform.migrations)
baseline_tables = ("flow_approval_requests", "flow_approval_history", "flow_work_items",
                   "flow_jobs", "flow_webhook_attempts", "flow_notifications",
                   "flow_assignment_cursors")

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", _ID, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "flow_approval_requests",
        _id(),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step_index", sa.Integer()),
        sa.Column("step", sa.String(64)),
        sa.Column("locks_record", sa.Boolean(), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("comment", sa.Text()),
        sa.Index("ix_flow_approval_requests_record", "object", "record_id"),
        sa.Index("ix_flow_approval_requests_status", "status"),
    )
    op.create_table(
        "flow_approval_history",
        _id(),
        sa.Column("request_id", _ID,
                  sa.ForeignKey("flow_approval_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(64)),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("details", sa.JSON()),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Index("ix_flow_approval_history_request", "request_id"),
    )
    op.create_table(
        "flow_work_items",
        _id(),
        sa.Column("request_id", _ID,
                  sa.ForeignKey("flow_approval_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("acted_at", sa.DateTime()),
        sa.Column("comment", sa.Text()),
        sa.Column("reassigned_from", sa.String(64)),
        sa.Index("ix_flow_work_items_assignee", "assignee", "status"),
        sa.Index("ix_flow_work_items_request", "request_id"),
    )
    op.create_table(
        "flow_jobs",
        _id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("idempotency_key", sa.String(255), unique=True),
        sa.Column("ref", sa.String(200)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("locked_until", sa.DateTime()),
        sa.Index("ix_flow_jobs_due", "status", "run_at"),
        sa.Index("ix_flow_jobs_ref", "ref"),
    )
    op.create_table(
        "flow_webhook_attempts",
        _id(),
        sa.Column("job_id", _ID, sa.ForeignKey("flow_jobs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("response", sa.Text()),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Index("ix_flow_webhook_attempts_job", "job_id"),
    )
    op.create_table(
        "flow_notifications",
        _id(),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text()),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("object", sa.String(64)),
        sa.Column("record_id", sa.BigInteger()),
        sa.Column("source", sa.String(128)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime()),
        sa.Column("dedupe_key", sa.String(255), unique=True),
        sa.Index("ix_flow_notifications_user", "user_name", "read_at"),
    )
    op.create_table(
        "flow_assignment_cursors",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("last_user", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("flow_assignment_cursors", "flow_notifications", "flow_webhook_attempts",
                  "flow_jobs", "flow_work_items", "flow_approval_history",
                  "flow_approval_requests"):
        op.drop_table(table)
