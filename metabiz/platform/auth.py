"""Users, passwords and API tokens: creating them and turning credentials into an Actor.

Passwords are hashed with werkzeug's scrypt; tokens are random and only their
SHA-256 is stored, so a leaked database does not leak usable tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable

from sqlalchemy import Connection, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from metabiz.errors import ConflictError, NotFound, Unauthorized, ValidationError
from metabiz.platform.access import ADMIN_ROLE, Actor
from metabiz.platform.db import tokens, user_roles, users

USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
TOKEN_PREFIX = "mbz_"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def create_user(conn: Connection, name: str, password: str, *, roles: Iterable[str] = (),
                manager: str | None = None, email: str | None = None,
                display_name: str | None = None, language: str = "en") -> None:
    problems: dict[str, list[str]] = {}
    if not USER_NAME.match(name or ""):
        problems["name"] = ["user names are 1-64 letters, digits, or _ . @ -"]
    if not password or len(password) < 4:
        problems["password"] = ["passwords have at least 4 characters"]
    if language not in ("en", "zh"):
        problems["language"] = ["language is en or zh"]
    if manager is not None and manager != name and not _exists(conn, manager):
        problems["manager"] = [f"no user named {manager!r}"]
    if problems:
        raise ValidationError("invalid user", fields=problems)
    if _exists(conn, name):
        raise ConflictError(f"user {name!r} already exists", fields={"name": ["already taken"]})
    conn.execute(insert(users).values(
        name=name, password_hash=generate_password_hash(password), manager=manager,
        email=email, display_name=display_name or name, language=language, active=True,
        created_at=utcnow()))
    for role in sorted(set(roles)):
        conn.execute(insert(user_roles).values(user_name=name, role=role))


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None


def user_names(conn: Connection) -> set[str]:
    return set(conn.execute(select(users.c.name)).scalars())


def load_actor(conn: Connection, name: str) -> Actor:
    """The actor for an active user, with roles and the whole team below them."""
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    if row is None or not row["active"]:
        raise NotFound(f"no active user named {name!r}")
    roles = frozenset(conn.execute(
        select(user_roles.c.role).where(user_roles.c.user_name == name)).scalars())
    # Admins see every record: no need to walk the reporting chain for them.
    team = frozenset({name}) if ADMIN_ROLE in roles else team_of(conn, name)
    return Actor(name=row["name"], roles=roles, display_name=row["display_name"],
                 email=row["email"], manager=row["manager"], language=row["language"],
                 team=team)


def team_of(conn: Connection, name: str) -> frozenset[str]:
    """The user and everyone reporting to them directly or indirectly (cycle-safe)."""
    reports: dict[str, list[str]] = {}
    for user, manager in conn.execute(select(users.c.name, users.c.manager)):
        if manager:
            reports.setdefault(manager, []).append(user)
    team, todo = {name}, [name]
    while todo:
        for sub in reports.get(todo.pop(), ()):
            if sub not in team:
                team.add(sub)
                todo.append(sub)
    return frozenset(team)


def authenticate_password(conn: Connection, name: str, password: str) -> Actor:
    row = conn.execute(select(users.c.password_hash, users.c.active)
                       .where(users.c.name == name)).first()
    if row is None or not row.active or not check_password_hash(row.password_hash, password):
        raise Unauthorized("wrong user name or password")
    return load_actor(conn, name)


def set_password(conn: Connection, name: str, password: str) -> None:
    if not password or len(password) < 4:
        raise ValidationError("invalid password",
                              fields={"password": ["passwords have at least 4 characters"]})
    done = conn.execute(update(users).where(users.c.name == name)
                        .values(password_hash=generate_password_hash(password)))
    if not done.rowcount:
        raise NotFound(f"no user named {name!r}")


def create_token(conn: Connection, user_name: str,
                 expires_at: dt.datetime | None = None) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    if not _exists(conn, user_name):
        raise NotFound(f"no user named {user_name!r}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(tokens).values(
        user_name=user_name, token_hash=token_hash(token), prefix=token[:12],
        created_at=utcnow(), expires_at=expires_at, revoked=False))
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate_token(conn: Connection, token: str) -> Actor:
    row = conn.execute(select(tokens.c.user_name, tokens.c.expires_at, tokens.c.revoked)
                       .where(tokens.c.token_hash == token_hash(token))).first()
    if row is None or row.revoked or (row.expires_at is not None and row.expires_at < utcnow()):
        raise Unauthorized("invalid, expired or revoked token")
    try:
        return load_actor(conn, row.user_name)
    except NotFound:
        raise Unauthorized("the token's user is deactivated") from None
