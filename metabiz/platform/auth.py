"""Users, passwords, browser sessions and API tokens: managing them and turning credentials
into an Actor.

Passwords are hashed with werkzeug's scrypt; session keys and tokens are random and only
their SHA-256 is stored. Repeated failed sign-ins are refused for a while; every attempt is
audited. A new password or deactivation ends the user's sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.security import check_password_hash, generate_password_hash

from metabiz.errors import ConflictError, NotFound, Unauthorized, ValidationError
from metabiz.platform import audit
from metabiz.platform.access import ADMIN_ROLE, Actor
from metabiz.platform.db import (
    SYSTEM_USER,
    audit_log,
    sessions,
    tokens,
    user_roles,
    users,
    utcnow,
)
from metabiz.platform.metadata.store import VERSION_COLUMN, hold_for_write_then, version_read
from metabiz.platform.request_input import whole_number

USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
TOKEN_PREFIX = "mbz_"
MIN_PASSWORD = 4

#: sign-in throttling: this many failures within the window refuse further attempts until
#: the oldest of them leaves it (per user name; per client address with the larger limit)
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
#: a token's use updates last_used_at (and adds an audit entry) at most this often
TOKEN_USE_INTERVAL = dt.timedelta(minutes=1)
#: a browser session ends this long after signing in, however busy (the cookie also expires
#: 12 hours after it was last written: create_app's PERMANENT_SESSION_LIFETIME)
SESSION_LIFETIME = dt.timedelta(days=7)

# Checked against when the user does not exist, so that a wrong name costs as much time
# as a wrong password and response times do not tell which names exist.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))

By = Actor | str | None  # who made a change, for the audit log ("cli" from the command line)


class LoginThrottled(Unauthorized):
    """Too many failed sign-ins: refused without checking the password (still 401)."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        self.retry_after = retry_after
        minutes = max(1, math.ceil(retry_after.total_seconds() / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"too many failed sign-ins; try again in {minutes} {unit}",
                         details={"retry_after": math.ceil(retry_after.total_seconds())})




# -- users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserInfo:
    """A user as `metabiz users list` shows it (never the password hash)."""

    name: str
    display_name: str | None
    email: str | None
    manager: str | None
    roles: tuple[str, ...]
    active: bool
    language: str
    created_at: dt.datetime
    timezone: str | None = None


def create_user(conn: Connection, name: str, password: str, *, roles: Iterable[str] = (),
                manager: str | None = None, email: str | None = None,
                display_name: str | None = None, language: str = "en",
                by: By = None) -> None:
    problems: dict[str, list[str]] = {}
    if not USER_NAME.match(name or ""):
        problems["name"] = ["user names are 1-64 letters, digits, or _ . @ -"]
    if not password or len(password) < MIN_PASSWORD:
        problems["password"] = [f"passwords have at least {MIN_PASSWORD} characters"]
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
    audit.record(conn, audit.USER_CREATED, by, {"user": name, "roles": sorted(set(roles))})


def _exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(users.c.id).where(users.c.name == name)).first() is not None


def user_names(conn: Connection) -> set[str]:
    return set(conn.execute(select(users.c.name)).scalars())


def display_names(conn: Connection, names: Iterable[Any]) -> dict[str, str]:
    """Users by the name people know them by: {user name: display name}, for those that
    have one (one statement)."""
    wanted = {n for n in names if isinstance(n, str) and n}
    if not wanted:
        return {}
    found = conn.execute(select(users.c.name, users.c.display_name)
                         .where(users.c.name.in_(sorted(wanted))))
    return {name: shown for name, shown in found if shown}


def list_users(conn: Connection, *, include_system: bool = False) -> list[UserInfo]:
    """Every user by name, with roles; the built-in system user only when asked."""
    roles: dict[str, list[str]] = {}
    for user, role in conn.execute(select(user_roles.c.user_name, user_roles.c.role)
                                   .order_by(user_roles.c.role)):
        roles.setdefault(user, []).append(role)
    query = select(users).order_by(users.c.name)
    if not include_system:
        query = query.where(users.c.name != SYSTEM_USER)
    return [UserInfo(name=r["name"], display_name=r["display_name"], email=r["email"],
                     manager=r["manager"], roles=tuple(roles.get(r["name"], ())),
                     active=bool(r["active"]), language=r["language"],
                     created_at=r["created_at"], timezone=r["timezone"])
            for r in conn.execute(query).mappings()]


def set_active(conn: Connection, name: str, active: bool, *, by: By = None) -> bool:
    """Activate or deactivate a user; False when it already was. A deactivated user can
    neither sign in nor use their tokens (which work again if the user is reactivated)."""
    if name == SYSTEM_USER:
        raise ValidationError("the system user never signs in",
                              fields={"name": ["the built-in system user cannot be changed"]})
    row = conn.execute(select(users.c.active).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named {name!r}")
    if bool(row.active) == active:
        return False
    conn.execute(update(users).where(users.c.name == name).values(active=active))
    if not active:
        end_sessions(conn, name)  # reactivating must not bring old sessions back
    audit.record(conn, audit.USER_ACTIVATED if active else audit.USER_DEACTIVATED, by,
                 {"user": name})
    return True


def set_password(conn: Connection, name: str, password: str, *, by: By = None) -> None:
    """Replace the password; this also clears the user's failed sign-ins (unlocks them)."""
    if not password or len(password) < MIN_PASSWORD:
        raise ValidationError("invalid password", fields={
            "password": [f"passwords have at least {MIN_PASSWORD} characters"]})
    if name == SYSTEM_USER:
        raise ValidationError("the system user never signs in",
                              fields={"name": ["the built-in system user has no password"]})
    done = conn.execute(update(users).where(users.c.name == name)
                        .values(password_hash=generate_password_hash(password)))
    if not done.rowcount:
        raise NotFound(f"no user named {name!r}")
    end_sessions(conn, name)  # whoever knew the old password is signed out everywhere
    # The entry is recorded under the user's name: throttling counts failures after it.
    audit.record(conn, audit.PASSWORD_SET, name, {"by": audit.name_of(by)})


# What an actor is made of, with the user's roles: one row per role. Built once (every
# request runs one of them); a token's query brings its user along.
_ACTOR_COLUMNS = [users.c[name].label(f"actor_{name}") for name in (
    "name", "display_name", "email", "manager", "language", "timezone", "active")]
_ROLE = user_roles.c.role.label("role_of_user")
_USER_AND_ROLES = select(*_ACTOR_COLUMNS, _ROLE).select_from(
    users.outerjoin(user_roles, user_roles.c.user_name == users.c.name)).where(
    users.c.name == bindparam("name"))
# The token's query reads the metadata version as well (the request's version check).
# (only the token's columns it uses: each timestamp is parsed per row on SQLite)
_TOKEN_COLUMNS = [tokens.c[name] for name in (
    "id", "user_name", "prefix", "expires_at", "last_used_at", "revoked")]
_TOKEN_AND_USER = select(*_TOKEN_COLUMNS, *_ACTOR_COLUMNS, _ROLE, VERSION_COLUMN).select_from(
    tokens.outerjoin(users, users.c.name == tokens.c.user_name)
    .outerjoin(user_roles, user_roles.c.user_name == users.c.name)).where(
    tokens.c.token_hash == bindparam("token_hash"))
# A browser session's query: the session, its user and roles and the metadata version.
_SESSION_AND_USER = select(sessions.c.user_name, sessions.c.created_at, *_ACTOR_COLUMNS,
                           _ROLE, VERSION_COLUMN).select_from(
    sessions.outerjoin(users, users.c.name == sessions.c.user_name)
    .outerjoin(user_roles, user_roles.c.user_name == users.c.name)).where(
    sessions.c.id == bindparam("session_id"))


def load_actor(conn: Connection, name: str) -> Actor:
    """The actor for an active user, with roles and the whole team below them."""
    return _actor_of(conn, name, conn.execute(_USER_AND_ROLES, {"name": name}).mappings().all())


def _actor_of(conn: Connection, name: str, found: Sequence[Mapping[Any, Any]]) -> Actor:
    """The actor from the rows of `_USER_AND_ROLES` (or a token's); NotFound unless active."""
    row = found[0] if found else None
    if row is None or row["actor_name"] is None or not row["actor_active"]:
        raise NotFound(f"no active user named {name!r}")
    roles = frozenset(r["role_of_user"] for r in found if r["role_of_user"] is not None)
    # Admins see every record: no need to walk the reporting chain for them.
    team = frozenset({name}) if ADMIN_ROLE in roles else team_of(conn, name)
    return Actor(name=row["actor_name"], roles=roles, display_name=row["actor_display_name"],
                 email=row["actor_email"], manager=row["actor_manager"],
                 language=row["actor_language"], timezone=row["actor_timezone"], team=team)


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


# -- signing in --------------------------------------------------------------------------


def authenticate_password(conn: Connection, name: str, password: str, *,
                          client: str | None = None, now: dt.datetime | None = None) -> Actor:
    """The actor for a user name and password, or Unauthorized; every attempt is audited.

    After MAX_FAILURES_PER_USER failures for the name (or MAX_FAILURES_PER_CLIENT from the
    client address) within THROTTLE_WINDOW, attempts are refused with LoginThrottled
    without looking at the password, until the oldest counted failure leaves the window.
    A success or a new password clears the user's count. `now` is for tests.
    """
    now = now or utcnow()
    name = name or ""
    with audit.apart(conn) as side:
        wait = throttle_wait(side, name, client, now)
        if wait is not None:
            audit.record(side, audit.LOGIN_THROTTLED, name, {"retry_after": int(
                wait.total_seconds())}, client=client, at=now)
    if wait is not None:
        raise LoginThrottled(wait)
    row = conn.execute(select(users.c.password_hash, users.c.active)
                       .where(users.c.name == name)).first()
    if row is None:
        check_password_hash(_DUMMY_HASH, password or "")
        reason = "unknown user"
    elif not check_password_hash(row.password_hash, password or ""):
        reason = "wrong password"
    elif not row.active:
        reason = "deactivated"
    else:
        reason = None
    if reason is not None:
        audit.record_apart(conn, audit.LOGIN_FAILED, name, {"reason": reason},
                           client=client, at=now)
        raise Unauthorized("wrong user name or password")
    actor = load_actor(conn, name)
    audit.record_apart(conn, audit.LOGIN_SUCCEEDED, name, client=client, at=now)
    return actor


# -- browser sessions -------------------------------------------------------------------


def start_session(conn: Connection, user_name: str, *, now: dt.datetime | None = None) -> str:
    """A new browser session for the user: the random key its cookie keeps (only the key's
    SHA-256 is stored). The user's sessions past SESSION_LIFETIME are removed."""
    now = now or utcnow()
    conn.execute(delete(sessions).where(sessions.c.user_name == user_name,
                                        sessions.c.created_at <= now - SESSION_LIFETIME))
    key = secrets.token_urlsafe(32)
    conn.execute(insert(sessions).values(id=token_hash(key), user_name=user_name,
                                         created_at=now))
    return key


def session_actor(conn: Connection, key: str, *, now: dt.datetime | None = None) -> Actor:
    """The actor of a browser session, or Unauthorized when it has ended (signed out, a new
    password, past SESSION_LIFETIME) or its user is deactivated.

    One statement finds the session, its user and roles, and reads the metadata version for
    the request's later checks (`store.version_read`), as a token's query does."""
    now = now or utcnow()
    found = conn.execute(_SESSION_AND_USER, {"session_id": token_hash(key)}).mappings().all()
    row = found[0] if found else None
    if row is None or row["created_at"] <= now - SESSION_LIFETIME:
        raise Unauthorized("the session has ended; sign in again")
    version_read(conn, row["metadata_version"])
    try:
        return _actor_of(conn, row["user_name"], found)
    except NotFound:
        raise Unauthorized("the session's user is deactivated") from None


def end_session(conn: Connection, key: str) -> None:
    """End one browser session for good (signing out): its cookie is worthless from now."""
    conn.execute(delete(sessions).where(sessions.c.id == token_hash(key)))


def end_sessions(conn: Connection, user_name: str) -> int:
    """End every browser session of a user; how many there were."""
    return conn.execute(delete(sessions).where(sessions.c.user_name == user_name)).rowcount


def throttle_wait(conn: Connection, name: str, client: str | None,
                  now: dt.datetime) -> dt.timedelta | None:
    """How long sign-ins for this name (or from this client) are refused; None if not."""
    start = now - THROTTLE_WINDOW
    key = audit.name_of(name)
    cleared = conn.execute(select(func.max(audit_log.c.at)).where(
        audit_log.c.user_name == key,
        audit_log.c.kind.in_([audit.LOGIN_SUCCEEDED, audit.PASSWORD_SET]))).scalar()
    since = max(start, cleared) if cleared is not None else start
    waits = [_wait(conn, audit_log.c.user_name == key, since, MAX_FAILURES_PER_USER, now)]
    if client:
        waits.append(_wait(conn, audit_log.c.client == client[:audit.NAME_LENGTH], start,
                           MAX_FAILURES_PER_CLIENT, now))
    found = [w for w in waits if w is not None]
    return max(found) if found else None


def _wait(conn: Connection, who: ColumnElement[bool], since: dt.datetime, limit: int,
          now: dt.datetime) -> dt.timedelta | None:
    failures = conn.execute(
        select(audit_log.c.at).where(who, audit_log.c.kind == audit.LOGIN_FAILED,
                                     audit_log.c.at > since)
        .order_by(audit_log.c.at.desc()).limit(limit)).scalars().all()
    if len(failures) < limit:
        return None
    # Refused until the oldest of the last `limit` failures drops out of the window.
    wait = failures[-1] + THROTTLE_WINDOW - now
    return wait if wait > dt.timedelta(0) else None


# -- tokens ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    """A token as `metabiz tokens list` shows it: never the token itself."""

    id: int
    prefix: str
    user_name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked: bool

    def status(self, now: dt.datetime | None = None) -> str:
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


def create_token(conn: Connection, user_name: str,
                 expires_at: dt.datetime | None = None, *, by: By = None) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    row = conn.execute(select(users.c.active).where(users.c.name == user_name)).first()
    if row is None:
        raise NotFound(f"no user named {user_name!r}")
    if not row.active:
        raise ValidationError(f"user {user_name!r} is deactivated",
                              fields={"name": ["the user is deactivated"]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(insert(tokens).values(
        user_name=user_name, token_hash=token_hash(token), prefix=token[:12],
        created_at=utcnow(), expires_at=expires_at, revoked=False)
        .returning(tokens.c.id)).scalar_one()
    audit.record(conn, audit.TOKEN_CREATED, by, {
        "token": token_id, "prefix": token[:12], "user": user_name,
        "expires_at": expires_at.isoformat() + "Z" if expires_at else None})
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def list_tokens(conn: Connection, user_name: str | None = None) -> list[TokenInfo]:
    """Every token (revoked and expired included), oldest first, optionally of one user."""
    query = select(tokens).order_by(tokens.c.id)
    if user_name is not None:
        if not _exists(conn, user_name):
            raise NotFound(f"no user named {user_name!r}")
        query = query.where(tokens.c.user_name == user_name)
    return [_token_info(r) for r in conn.execute(query).mappings()]


def _token_info(row: RowMapping) -> TokenInfo:
    return TokenInfo(id=row["id"], prefix=row["prefix"], user_name=row["user_name"],
                     created_at=row["created_at"], expires_at=row["expires_at"],
                     last_used_at=row["last_used_at"], revoked=bool(row["revoked"]))


def find_token(conn: Connection, ref: str) -> TokenInfo:
    """A token by its id, its prefix (as listed; a unique start of it will do) or itself."""
    ref = (ref or "").strip()
    if (number := whole_number(ref)) is not None:
        query = select(tokens).where(tokens.c.id == number)
    elif ref.startswith(TOKEN_PREFIX) and len(ref) > 12:
        query = select(tokens).where(tokens.c.token_hash == token_hash(ref))
    elif ref.startswith(TOKEN_PREFIX) and len(ref) > len(TOKEN_PREFIX):
        query = select(tokens).where(tokens.c.prefix.startswith(ref, autoescape=True))
    else:
        raise ValidationError(f"{ref!r} is not a token id or prefix",
                              fields={"token": [f"give an id or a prefix like {TOKEN_PREFIX}…"]})
    rows = conn.execute(query.order_by(tokens.c.id)).mappings().all()
    if not rows:
        raise NotFound(f"no token {ref!r}")
    if len(rows) > 1:
        ids = ", ".join(str(r["id"]) for r in rows)
        raise ValidationError(f"{ref!r} matches several tokens (ids {ids}); give the id",
                              fields={"token": ["ambiguous prefix"]})
    return _token_info(rows[0])


def revoke_token(conn: Connection, ref: str, *, by: By = None) -> TokenInfo:
    """Revoke a token for good (by id, prefix or the token); returns it as it was."""
    info = find_token(conn, ref)
    if not info.revoked:
        conn.execute(update(tokens).where(tokens.c.id == info.id).values(revoked=True))
        audit.record(conn, audit.TOKEN_REVOKED, by,
                     {"token": info.id, "prefix": info.prefix, "user": info.user_name})
    return info


def authenticate_token(conn: Connection, token: str, *, client: str | None = None,
                       now: dt.datetime | None = None) -> Actor:
    """The actor for an API token, or Unauthorized (unknown, revoked, expired, user gone).

    Use is recorded in `last_used_at` and the audit log at most once per
    TOKEN_USE_INTERVAL per token, so busy clients do not turn reads into writes.
    """
    now = now or utcnow()
    found = _token_rows(conn, token)
    row = found[0] if found else None
    if row is None:
        raise Unauthorized("invalid, expired or revoked token")
    version_read(conn, row["metadata_version"])
    actor: Actor | None = None
    if row["revoked"]:
        reason = "revoked"
    elif row["expires_at"] is not None and row["expires_at"] <= now:
        reason = "expired"
    else:
        try:
            actor = _actor_of(conn, row["user_name"], found)
        except NotFound:
            reason = "user deactivated"
    detail = {"token": row["id"], "prefix": row["prefix"]}
    if actor is None:
        audit.record_apart(conn, audit.TOKEN_REJECTED, row["user_name"],
                           {**detail, "reason": reason}, client=client, at=now)
        if reason == "user deactivated":
            raise Unauthorized("the token's user is deactivated")
        raise Unauthorized("invalid, expired or revoked token")
    due = now - TOKEN_USE_INTERVAL
    if row["last_used_at"] is None or row["last_used_at"] <= due:
        with audit.apart(conn) as side:
            done = side.execute(update(tokens).where(
                tokens.c.id == row["id"],
                or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at <= due))
                .values(last_used_at=now))
            if done.rowcount == 1:  # a concurrent request may have recorded it already
                audit.record(side, audit.TOKEN_USED, actor, detail, client=client, at=now)
    return actor


def _token_rows(conn: Connection, token: str) -> Sequence[RowMapping]:
    """The token's row with its user's, one per role, and the metadata version."""
    return conn.execute(_TOKEN_AND_USER, {"token_hash": token_hash(token)}).mappings().all()


def token_actor(conn: Connection, token: str, *, now: dt.datetime | None = None,
                for_write: bool = False) -> Actor | None:
    """`authenticate_token`'s actor when it would write nothing: the token is valid, its
    user active and its use recorded within TOKEN_USE_INTERVAL. None otherwise (unknown,
    revoked, expired, deactivated, or a use to record): `authenticate_token` decides then,
    and records the refusal or the use apart from the caller's transaction.

    For a caller that looks the token up inside its write transaction (a refusal recorded
    there would be rolled back with it): `platform.api.writing_actor`. `for_write`: the
    writers' lock is taken first, in the same round trip (`store.hold_for_write_then`)."""
    now = now or utcnow()
    found = hold_for_write_then(conn, _TOKEN_AND_USER, {"token_hash": token_hash(token)}) \
        if for_write else _token_rows(conn, token)
    row = found[0] if found else None
    if row is None or row["revoked"] or row["last_used_at"] is None or \
            row["last_used_at"] <= now - TOKEN_USE_INTERVAL or \
            (row["expires_at"] is not None and row["expires_at"] <= now):
        return None
    try:
        actor = _actor_of(conn, row["user_name"], found)
    except NotFound:
        return None
    version_read(conn, row["metadata_version"])
    return actor
