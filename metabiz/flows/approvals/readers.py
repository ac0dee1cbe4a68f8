"""Approvers read what they approve: while a request waits on a user, that user may read
the record (and, through it, its details) even outside their record access.

Registered with the kernel as a read grant; fields stay as the approver's role allows, and
the grant opens reading only, never editing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from metabiz.flows.store import approval_requests, work_items


def approver_grant(actor: Any, object_name: str,
                   id_column: Any) -> ColumnElement[bool] | None:
    """The records of `object_name` with a pending request waiting on `actor`."""
    if getattr(actor, "is_system", False):
        return None
    waiting = (select(approval_requests.c.record_id)
               .join(work_items, work_items.c.request_id == approval_requests.c.id)
               .where(approval_requests.c.object == object_name,
                      approval_requests.c.status == "pending",
                      work_items.c.assignee == actor.name,
                      work_items.c.status == "pending"))
    return id_column.in_(waiting)  # type: ignore[no-any-return]
