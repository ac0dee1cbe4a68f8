"""Who is who for flows: active users, the members of a role, a user's manager.

Read straight from the system tables inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from metabiz.platform.db import user_roles, users


def active_users(conn: Connection, names: Iterable[str | None]) -> set[str]:
    """Which of `names` are active users."""
    wanted = sorted({n for n in names if isinstance(n, str) and n})
    if not wanted:
        return set()
    return set(conn.execute(select(users.c.name).where(
        users.c.name.in_(wanted), users.c.active.is_(True))).scalars())


def is_active(conn: Connection, name: str | None) -> bool:
    return bool(name) and name in active_users(conn, [name])


def role_members(conn: Connection, role: str) -> list[str]:
    """Every active user holding `role`, by name."""
    query = (select(users.c.name)
             .join(user_roles, user_roles.c.user_name == users.c.name)
             .where(user_roles.c.role == role, users.c.active.is_(True))
             .order_by(users.c.name))
    return list(conn.execute(query).scalars())


def manager_of(conn: Connection, name: str | None) -> str | None:
    """The active manager of an active or inactive user (None when there is none)."""
    if not name:
        return None
    manager = conn.execute(select(users.c.manager).where(users.c.name == name)).scalar()
    return manager if is_active(conn, manager) else None


def email_of(conn: Connection, name: str) -> str | None:
    return conn.execute(select(users.c.email).where(users.c.name == name)).scalar()  # type: ignore[no-any-return]


def language_of(conn: Connection, name: str) -> str:
    """The language the user reads (en when unknown)."""
    return conn.execute(select(users.c.language).where(users.c.name == name)).scalar() or "en"
