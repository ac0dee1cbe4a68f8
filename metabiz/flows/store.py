"""The flow engine's own tables: approval requests, history, work items, jobs, notifications.

They live on their own `MetaData` (no foreign keys into the system tables) and are created
and changed only by the revisions in metabiz/flows/migrations/ (branch `flows`), which
`metabiz init` / `metabiz upgrade` run; tests/platform/test_upgrade.py keeps the two in step.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from metabiz.platform.db import UTCDateTime

flow_metadata = MetaData()

_ID = BigInteger().with_variant(Integer, "sqlite")


def _id() -> Column[int]:
    return Column("id", _ID, primary_key=True, autoincrement=True)


#: one submission of one record to one approval flow
approval_requests = Table(
    "flow_approval_requests", flow_metadata,
    _id(),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("flow", String(64), nullable=False),
    #: pending | approved | rejected | recalled | cancelled (the record was deleted)
    Column("status", String(16), nullable=False),
    Column("step_index", Integer),  # the current step while pending
    Column("step", String(64)),
    Column("locks_record", Boolean, nullable=False, default=False),
    Column("submitted_by", String(64), nullable=False),
    Column("submitted_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("comment", Text),
    Index("ix_flow_approval_requests_record", "object", "record_id"),
    Index("ix_flow_approval_requests_status", "status"),
)

#: everything that happened to a request, oldest first
approval_history = Table(
    "flow_approval_history", flow_metadata,
    _id(),
    Column("request_id", _ID, ForeignKey("flow_approval_requests.id", ondelete="CASCADE"),
           nullable=False),
    Column("step", String(64)),
    Column("actor", String(64), nullable=False),
    #: submitted | started | skipped | approved | rejected | reassigned | recalled |
    #: completed | cancelled
    Column("action", String(16), nullable=False),
    Column("comment", Text),
    Column("details", JSON),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_flow_approval_history_request", "request_id"),
)

#: one approver's part in one step: what the inbox lists
work_items = Table(
    "flow_work_items", flow_metadata,
    _id(),
    Column("request_id", _ID, ForeignKey("flow_approval_requests.id", ondelete="CASCADE"),
           nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("step", String(64), nullable=False),
    Column("assignee", String(64), nullable=False),
    #: pending | approved | rejected | reassigned | cancelled
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("acted_at", UTCDateTime()),
    Column("comment", Text),
    Column("reassigned_from", String(64)),
    Index("ix_flow_work_items_assignee", "assignee", "status"),
    Index("ix_flow_work_items_request", "request_id"),
)

#: side effects that run after commit (notifications, e-mail, webhooks, time-based rules)
jobs = Table(
    "flow_jobs", flow_metadata,
    _id(),
    Column("kind", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    #: pending | running | done | failed | cancelled
    Column("status", String(16), nullable=False),
    Column("run_at", UTCDateTime(), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=5),
    Column("last_error", Text),
    #: at most one job per key: enqueueing the same key twice is a no-op
    Column("idempotency_key", String(255), unique=True),
    #: what a time-based job belongs to (`rule:object:id`), to reschedule or cancel it
    Column("ref", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("locked_by", String(64)),
    Column("locked_until", UTCDateTime()),
    Index("ix_flow_jobs_due", "status", "run_at"),
    Index("ix_flow_jobs_ref", "ref"),
)

#: every delivery attempt of a webhook job
webhook_attempts = Table(
    "flow_webhook_attempts", flow_metadata,
    _id(),
    Column("job_id", _ID, ForeignKey("flow_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("url", Text, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("response", Text),
    Column("duration_ms", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_flow_webhook_attempts_job", "job_id"),
)

#: in-app notifications (the bell / badge)
notifications = Table(
    "flow_notifications", flow_metadata,
    _id(),
    Column("user_name", String(64), nullable=False),
    Column("subject", Text),
    Column("message", Text, nullable=False),
    Column("object", String(64)),
    Column("record_id", BigInteger),
    Column("source", String(128)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime()),
    #: the job and recipient that made it, so a job run twice notifies once
    Column("dedupe_key", String(255), unique=True),
    Index("ix_flow_notifications_user", "user_name", "read_at"),
)

#: round-robin turn order: the last user given a record, per role
assignment_cursors = Table(
    "flow_assignment_cursors", flow_metadata,
    Column("key", String(200), primary_key=True),
    Column("last_user", String(64)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

