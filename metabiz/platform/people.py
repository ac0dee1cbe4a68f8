"""Changing people from the pages: a user's own settings (language, time zone, password) and
what administrators change (profile, roles, manager) beside auth's create, (de)activate
and password reset.

Every change is audited like the `metabiz users …` commands audit theirs; the checks are
the same whether a page or a command makes the change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from werkzeug.security import check_password_hash

from metabiz.errors import NotFound, ValidationError
from metabiz.platform import audit, zones
from metabiz.platform.auth import By, UserInfo, list_users, set_password
from metabiz.platform.db import SYSTEM_USER, user_roles, users

LANGUAGES = ("en", "zh")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def get_user(conn: Connection, name: str) -> UserInfo:
    """One user as `users list` shows it; 404 for an unknown name or the system user."""
    for user in list_users(conn):
        if user.name == name:
            return user
    raise NotFound(f"no user named {name!r}")


def set_preferences(conn: Connection, name: str, *, language: str, timezone: str | None,
                    by: By = None) -> None:
    """A user's language and time zone (None: the app's time zone)."""
    problems: dict[str, list[str]] = {}
    if language not in LANGUAGES:
        problems["language"] = ["language is en or zh"]
    if timezone is not None and not zones.is_zone(timezone):
        problems["timezone"] = [f"unknown time zone {timezone!r}"]
    if problems:
        raise ValidationError("invalid settings", fields=problems)
    before = get_user(conn, name)
    conn.execute(update(users).where(users.c.name == name)
                 .values(language=language, timezone=timezone))
    changed = {k: v for k, v in (("language", language), ("timezone", timezone))
               if getattr(before, k) != v}
    if changed:
        audit.record(conn, audit.USER_UPDATED, by, {"user": name, **changed})


def change_own_password(conn: Connection, name: str, current: str, new: str,
                        confirm: str) -> None:
    """A user's new password, given their current one; every session of theirs ends
    (auth.set_password), so the caller starts a new one for the browser that asked."""
    row = conn.execute(select(users.c.password_hash).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named {name!r}")
    if not check_password_hash(row.password_hash, current or ""):
        raise ValidationError("wrong password",
                              fields={"current_password": ["wrong password"]})
    if new != confirm:
        raise ValidationError("the passwords differ",
                              fields={"confirm_password": ["the passwords differ"]})
    set_password(conn, name, new, by=name)


def update_user(conn: Connection, name: str, *, display_name: str | None, email: str | None,
                manager: str | None, roles: Iterable[str], language: str | None = None,
                by: By = None) -> None:
    """What an administrator changes on a user: profile, manager (no cycles), roles."""
    if name == SYSTEM_USER:
        raise ValidationError("the system user cannot be changed",
                              fields={"name": ["the built-in system user cannot be changed"]})
    before = get_user(conn, name)
    problems: dict[str, list[str]] = {}
    if email and not EMAIL.match(email):
        problems["email"] = ["not a valid e-mail address"]
    if language is not None and language not in LANGUAGES:
        problems["language"] = ["language is en or zh"]
    if manager:
        problem = manager_problem(conn, name, manager)
        if problem:
            problems["manager"] = [problem]
    if problems:
        raise ValidationError("invalid user", fields=problems)
    values = {"display_name": display_name or name, "email": email or None,
              "manager": manager or None}
    if language is not None:
        values["language"] = language
    conn.execute(update(users).where(users.c.name == name).values(**values))
    wanted = sorted(set(roles))
    if wanted != sorted(before.roles):
        conn.execute(delete(user_roles).where(user_roles.c.user_name == name))
        if wanted:
            conn.execute(insert(user_roles), [{"user_name": name, "role": r} for r in wanted])
    changed: dict[str, Any] = {k: v for k, v in values.items() if getattr(before, k) != v}
    if wanted != sorted(before.roles):
        changed["roles"] = wanted
    if changed:
        audit.record(conn, audit.USER_UPDATED, by, {"user": name, **changed})


def manager_problem(conn: Connection, name: str, manager: str) -> str | None:
    """Why `manager` cannot be `name`'s manager (unknown, themself, or one reporting to
    them), or None."""
    if manager == name:
        return "a user cannot be their own manager"
    managers = dict(conn.execute(select(users.c.name, users.c.manager)).tuples().all())
    if manager not in managers or manager == SYSTEM_USER:
        return f"no user named {manager!r}"
    seen: set[str] = set()
    current = managers.get(manager)
    while current and current not in seen:
        if current == name:
            return f"{manager} reports to {name}: that would make a loop"
        seen.add(current)
        current = managers.get(current)
    return None
