"""The audit log (`sys_audit`): sign-ins, token use, user and token changes, applies, denials.

Listed by `metabiz audit list`. An entry about a failed attempt (a wrong password, a refused
request) must outlive the caller's rolled-back transaction, so it gets a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from metabiz.platform.access import Actor
from metabiz.platform.db import audit_log, utcnow, writer

# The kinds of entry, stable strings that `metabiz audit list --kind` filters on.
LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
LOGIN_THROTTLED = "login.throttled"
TOKEN_USED = "token.used"
TOKEN_REJECTED = "token.rejected"
TOKEN_CREATED = "token.created"
TOKEN_REVOKED = "token.revoked"
USER_CREATED = "user.created"
USER_ACTIVATED = "user.activated"
USER_DEACTIVATED = "user.deactivated"
USER_UPDATED = "user.updated"
PASSWORD_SET = "user.password_set"
METADATA_APPLIED = "metadata.applied"
PERMISSION_DENIED = "permission.denied"

NAME_LENGTH = 64  # the width of sys_audit.user_name and .client


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    kind: str
    user_name: str | None
    client: str | None
    detail: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat() + "Z", "kind": self.kind,
                "user": self.user_name, "client": self.client, "detail": dict(self.detail)}




def name_of(actor: Actor | str | None) -> str | None:
    """The user name recorded for an actor (a name given as text is cut to the column)."""
    if actor is None:
        return None
    name = actor.name if isinstance(actor, Actor) else str(actor)
    return name[:NAME_LENGTH]


def record(conn: Connection, kind: str, actor: Actor | str | None,
           detail: Mapping[str, Any] | None = None, *, client: str | None = None,
           at: dt.datetime | None = None) -> None:
    """Add an entry in the caller's transaction (kept only if the caller commits).

    `actor` is who acted (an Actor or a user name; for a sign-in, the name tried);
    `detail` is any JSON object, e.g. `{"version": 7, "summary": "…"}` for an apply.
    """
    conn.execute(insert(audit_log).values(
        at=at or utcnow(), kind=kind[:40], user_name=name_of(actor),
        client=client[:NAME_LENGTH] if client else None, detail=dict(detail or {})))


@contextmanager
def apart(conn: Connection) -> Iterator[Connection]:
    """A transaction of its own beside the caller's, committed when the block ends.

    When the caller holds the write lock already (a `writer` connection: on SQLite a second
    writer would wait for it forever) the block runs in a savepoint of the caller's
    transaction instead, and is kept only if the caller commits.
    """
    if conn.get_execution_options().get("metabiz_write"):
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            yield conn
        return
    with writer(conn.engine).begin() as side:
        yield side


def record_apart(conn: Connection, kind: str, actor: Actor | str | None,
                 detail: Mapping[str, Any] | None = None, *, client: str | None = None,
                 at: dt.datetime | None = None) -> None:
    """Add an entry that stays even if the caller's transaction is rolled back."""
    with apart(conn) as side:
        record(side, kind, actor, detail, client=client, at=at)


def record_denial(engine: Engine, actor: Actor | str | None, action: str, message: str, *,
                  client: str | None = None) -> None:
    """A refused request (403), from the web error handler after its transaction ended.

    `action` says what was tried, e.g. `"PATCH /api/v1/records/deal/7"`.
    """
    with writer(engine).begin() as conn:
        record(conn, PERMISSION_DENIED, actor, {"action": action[:500], "message": message},
               client=client)


def entries(conn: Connection, *, limit: int = 50, kind: str | None = None,
            user_name: str | None = None, since: dt.datetime | None = None) -> list[AuditEntry]:
    """The newest entries first; `kind` may end in `.` or `*` to match a family (`login.`)."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    if kind:
        family = kind.rstrip("*")
        if family.endswith("."):
            query = query.where(audit_log.c.kind.startswith(family, autoescape=True))
        else:
            query = query.where(audit_log.c.kind == kind)
    if user_name:
        query = query.where(audit_log.c.user_name == user_name)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    rows = conn.execute(query.limit(max(1, limit))).mappings()
    return [AuditEntry(id=r["id"], at=r["at"], kind=r["kind"], user_name=r["user_name"],
                       client=r["client"], detail=r["detail"] or {}) for r in rows]


#: entries younger than this are never pruned: sign-in throttling counts recent failures
MIN_RETENTION = dt.timedelta(days=1)


def prune(conn: Connection, older_than: dt.timedelta, *, now: dt.datetime | None = None) -> int:
    """Delete entries older than `older_than` (at least MIN_RETENTION); how many went."""
    cutoff = (now or utcnow()) - max(older_than, MIN_RETENTION)
    return conn.execute(delete(audit_log).where(audit_log.c.at < cutoff)).rowcount or 0
