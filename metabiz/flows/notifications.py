"""In-app notifications: enqueued by flows, written by the `notify` job, read by users.

E-mail copies go out through an `email` job when SMTP is configured (Config.smtp: the
METABIZ_SMTP_* settings in docs/flows.md).
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from metabiz.errors import NotFound
from metabiz.flows import directory, jobs
from metabiz.flows.store import notifications
from metabiz.objects.fields import json_value
from metabiz.platform.db import writer
from metabiz.platform.request_input import whole_number


def send(conn: Connection, users: Sequence[str], *, now: dt.datetime, message: str,
         subject: str | None = None, object_name: str | None = None,
         record_id: int | None = None, source: str | None = None) -> int:
    """Enqueue notifications for `users` (written after commit by the worker)."""
    payload = {"users": list(users), "subject": subject, "message": message,
               "object": object_name, "record_id": record_id, "source": source}
    return jobs.enqueue(conn, "notify", payload, run_at=now, now=now)


def email(conn: Connection, address: str, *, now: dt.datetime, message: str,
          subject: str | None, fallback: str | None, object_name: str | None = None,
          record_id: int | None = None, source: str | None = None) -> int:
    """Enqueue an e-mail to an address (someone who is not a user); `fallback` is the user
    told to pass it on when no mail server is configured."""
    return jobs.enqueue(conn, "email", {
        "to": address, "subject": subject, "message": message, "fallback": fallback,
        "object": object_name, "record_id": record_id, "source": source},
        run_at=now, now=now)


@jobs.register
class NotifyJob(jobs.JobKind):
    """Writes one notification row per recipient; a second run writes nothing new."""

    name = "notify"

    def run(self, job: jobs.Job, env: jobs.JobEnv) -> None:
        assert env.conn is not None
        conn, payload = env.conn, job.payload
        mail = env.smtp is not None
        for user in payload.get("users", ()):
            key = f"job{job.id}:{user}"
            if conn.execute(select(notifications.c.id)
                            .where(notifications.c.dedupe_key == key)).first():
                continue
            conn.execute(insert(notifications).values(
                user_name=user, subject=payload.get("subject"), message=payload["message"],
                object=payload.get("object"), record_id=payload.get("record_id"),
                source=payload.get("source"), created_at=env.now, dedupe_key=key))
            address = directory.email_of(conn, user) if mail else None
            if address:
                jobs.enqueue(conn, "email", {"to": address, "subject": payload.get("subject"),
                                             "message": payload["message"]},
                             run_at=env.now, now=env.now, key=f"email:{key}")


@jobs.register
class EmailJob(jobs.JobKind):
    """Sends one e-mail through the configured SMTP server."""

    name = "email"
    transactional = False

    def run(self, job: jobs.Job, env: jobs.JobEnv) -> None:
        smtp = env.smtp
        if smtp is None:
            self._pass_on(job, env)
            return
        mail = EmailMessage()
        mail["From"] = smtp.sender
        mail["To"] = job.payload["to"]
        mail["Subject"] = job.payload.get("subject") or "metabiz notification"
        mail.set_content(job.payload["message"])
        with smtplib.SMTP(smtp.host, smtp.port, timeout=20) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.user:
                server.login(smtp.user, smtp.password)
            server.send_message(mail)


    def _pass_on(self, job: jobs.Job, env: jobs.JobEnv) -> None:
        """No mail server: the user the e-mail was for someone else on behalf of reads it
        in the app, with whom to pass it on to (notifications' own e-mail copies just stop)."""
        payload = job.payload
        user = payload.get("fallback")
        if not user:
            return
        with writer(env.engine).begin() as conn:
            key = f"job{job.id}:{user}"
            if conn.execute(select(notifications.c.id)
                            .where(notifications.c.dedupe_key == key)).first():
                return
            lang = directory.language_of(conn, user)
            note = (f"未配置邮件服务器，请将以下内容转达给 {payload['to']}：" if lang == "zh" else
                    f"No mail server is set up: please pass this on to {payload['to']}: ")
            conn.execute(insert(notifications).values(
                user_name=user, subject=payload.get("subject"),
                message=note + payload["message"], object=payload.get("object"),
                record_id=payload.get("record_id"), source=payload.get("source"),
                created_at=env.now, dedupe_key=key))


# -- reading -------------------------------------------------------------------------------


def _as_json(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "subject": row["subject"], "message": row["message"],
            "object": row["object"], "record_id": row["record_id"], "source": row["source"],
            "created_at": json_value(_aware(row["created_at"])),
            "read": row["read_at"] is not None, "read_at": json_value(_aware(row["read_at"]))}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(tzinfo=dt.UTC)


def unread_of(user: str | ColumnElement[str]) -> ColumnElement[bool]:
    """The condition "a notification of `user` not read yet" (a name, or a bound parameter
    for a statement built once): what the bell counts and "mark all read" clears."""
    return (notifications.c.user_name == user) & notifications.c.read_at.is_(None)


def for_user(conn: Connection, user: str, *, unread_only: bool = False, limit: int = 50,
             offset: int = 0) -> list[dict[str, Any]]:
    """The user's notifications, newest first."""
    mine = unread_of(user) if unread_only else notifications.c.user_name == user
    query = (select(notifications).where(mine)
             .order_by(notifications.c.id.desc()).limit(limit).offset(offset))
    return [_as_json(r) for r in conn.execute(query).mappings()]


def unread_count(conn: Connection, user: str) -> int:
    """What the page badge shows."""
    return int(conn.execute(select(func.count()).select_from(notifications)
                            .where(unread_of(user))).scalar_one())


def mark_read(conn: Connection, user: str, notification_id: Any,
              now: dt.datetime) -> dict[str, Any]:
    """Mark one of the user's notifications read (404 for anyone else's)."""
    wanted = whole_number(str(notification_id))
    if wanted is None:
        raise NotFound(f"no notification {notification_id!r}")
    mine = (notifications.c.id == wanted) & (notifications.c.user_name == user)
    conn.execute(update(notifications).where(mine, notifications.c.read_at.is_(None))
                 .values(read_at=now))
    row = conn.execute(select(notifications).where(mine)).mappings().first()
    if row is None:
        raise NotFound(f"no notification {wanted}")
    return _as_json(row)


def mark_all_read(conn: Connection, user: str, now: dt.datetime) -> int:
    return conn.execute(update(notifications).where(unread_of(user))
                        .values(read_at=now)).rowcount
