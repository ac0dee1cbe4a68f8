"""What flows show on every page's shell: the user's pending approvals (the navigation's
badge) and unread notifications (the header bell), counted in one statement per request.

The counts are read fresh on each page (a new approval or notification shows on the next
page load); the statement is built once, so each request only binds the user's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g
from sqlalchemy import BindParameter, Connection, bindparam, func, select

from metabiz.flows.notifications import unread_of
from metabiz.flows.store import approval_requests, notifications, work_items
from metabiz.platform.access import Actor
from metabiz.platform.api import read_transaction

_USER: BindParameter[str] = bindparam("user_name")
#: pending work items as the inbox lists them (joined to their request), and unread notices
_COUNTS = select(
    select(func.count()).select_from(work_items.join(
        approval_requests, approval_requests.c.id == work_items.c.request_id))
    .where(work_items.c.assignee == _USER, work_items.c.status == "pending")
    .scalar_subquery().label("pending"),
    select(func.count()).select_from(notifications).where(unread_of(_USER))
    .scalar_subquery().label("unread"))


@dataclass(frozen=True)
class ShellCounts:
    pending_approvals: int
    unread_notifications: int


def read(conn: Connection, user: str) -> ShellCounts:
    """The user's counts as they stand in the database now."""
    row = conn.execute(_COUNTS, {"user_name": user}).one()
    return ShellCounts(int(row.pending), int(row.unread))


def for_request(actor: Actor) -> ShellCounts:
    """The signed-in user's counts, read once per request (the navigation and the bell
    both show them)."""
    counts = g.get("flows_shell_counts")
    if counts is None:
        with read_transaction() as conn:  # a statement of its own: no schema needed
            counts = g.flows_shell_counts = read(conn, actor.name)
    return counts  # type: ignore[no-any-return]
