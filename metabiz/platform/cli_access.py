"""The `metabiz users …`, `metabiz tokens …` and `metabiz audit list` commands.

They hang off the groups of metabiz.platform.cli and call metabiz.platform.auth and .audit,
which do the work and the auditing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import click

from metabiz.platform import audit as audit_log
from metabiz.platform import auth
from metabiz.platform.cli import CliEnv, audit, command, tokens, users
from metabiz.platform.db import writer

BY = "cli"  # who the audit log names for changes made from the command line


def _when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}Z" if value is not None else "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    for line in (headers, *rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
                   .rstrip())


# -- users -------------------------------------------------------------------------------


@command(users, "list")
@click.option("--all", "include_system", is_flag=True, help="include the built-in system user")
def users_list(env: CliEnv, include_system: bool) -> None:
    """List users: name, roles, manager, email, active, language."""
    with env.engine().connect() as conn:
        found = auth.list_users(conn, include_system=include_system)
    _table(("NAME", "DISPLAY NAME", "ROLES", "MANAGER", "EMAIL", "ACTIVE", "LANG"),
           [(u.name, u.display_name or "", ",".join(u.roles) or "-", u.manager or "-",
             u.email or "-", "yes" if u.active else "no", u.language) for u in found])


@command(users, "set-password")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="the new password (asked for when left out)")
def users_set_password(env: CliEnv, name: str, password: str) -> None:
    """Set a user's password (this also lifts a sign-in lockout)."""
    with writer(env.engine()).begin() as conn:
        auth.set_password(conn, name, password, by=BY)
    click.echo(f"password of {name} set")


@command(users, "deactivate")
@click.argument("name")
def users_deactivate(env: CliEnv, name: str) -> None:
    """Stop a user from signing in or using their tokens (their records stay)."""
    with writer(env.engine()).begin() as conn:
        changed = auth.set_active(conn, name, False, by=BY)
    click.echo(f"deactivated {name}" if changed else f"{name} was already deactivated")


@command(users, "activate")
@click.argument("name")
def users_activate(env: CliEnv, name: str) -> None:
    """Let a deactivated user sign in (and use their unrevoked tokens) again."""
    with writer(env.engine()).begin() as conn:
        changed = auth.set_active(conn, name, True, by=BY)
    click.echo(f"activated {name}" if changed else f"{name} was already active")


# -- tokens ------------------------------------------------------------------------------


# Supersedes the `tokens create` of metabiz.platform.cli (same behaviour, plus expiry).
@command(tokens, "create")
@click.argument("name")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None,
              help="the token stops working after this many days (default: never)")
def tokens_create(env: CliEnv, name: str, expires_in_days: int | None) -> None:
    """Print a new API token for the user (shown once)."""
    expires_at = None
    if expires_in_days is not None:
        expires_at = auth.utcnow().replace(microsecond=0) + dt.timedelta(days=expires_in_days)
    with writer(env.engine()).begin() as conn:
        click.echo(auth.create_token(conn, name, expires_at, by=BY))


@command(tokens, "list")
@click.argument("name", required=False)
def tokens_list(env: CliEnv, name: str | None) -> None:
    """List API tokens (of one user if NAME is given); the tokens themselves are never kept."""
    with env.engine().connect() as conn:
        found = auth.list_tokens(conn, name)
    now = auth.utcnow()
    _table(("ID", "PREFIX", "USER", "CREATED", "EXPIRES", "LAST USED", "STATUS"),
           [(str(t.id), t.prefix + "…", t.user_name, _when(t.created_at),
             _when(t.expires_at), _when(t.last_used_at), t.status(now)) for t in found])


@command(tokens, "revoke")
@click.argument("ref", metavar="PREFIX-OR-ID")
def tokens_revoke(env: CliEnv, ref: str) -> None:
    """Revoke a token by its id or prefix (as `tokens list` shows them)."""
    with writer(env.engine()).begin() as conn:
        info = auth.revoke_token(conn, ref.rstrip("…"), by=BY)
    state = "was already revoked" if info.revoked else "revoked"
    click.echo(f"token {info.id} ({info.prefix}…) of {info.user_name} {state}")


# -- audit -------------------------------------------------------------------------------


@command(audit, "list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--kind", default=None, help="e.g. login.failed, or a family: login.")
@click.option("--user", "user_name", default=None, help="only entries by or for this user")
@click.option("--json", "as_json", is_flag=True, help="one JSON object a line")
def audit_list(env: CliEnv, limit: int, kind: str | None, user_name: str | None,
               as_json: bool) -> None:
    """List audit entries, newest first."""
    with env.engine().connect() as conn:
        found = audit_log.entries(conn, limit=limit, kind=kind, user_name=user_name)
    if as_json:
        for entry in found:
            click.echo(json.dumps(entry.to_json(), ensure_ascii=False, default=str))
        return
    _table(("WHEN", "KIND", "USER", "CLIENT", "DETAIL"),
           [(f"{e.at:%Y-%m-%d %H:%M:%S}Z", e.kind, e.user_name or "-", e.client or "-",
             json.dumps(dict(e.detail), ensure_ascii=False, default=str, sort_keys=True))
            for e in found])


@command(audit, "prune")
@click.option("--older-than-days", type=click.IntRange(min=1), required=True,
              help="delete the entries older than this")
def audit_prune(env: CliEnv, older_than_days: int) -> None:
    """Delete old audit entries (a retention policy)."""
    with writer(env.engine()).begin() as conn:
        removed = audit_log.prune(conn, dt.timedelta(days=older_than_days))
    click.echo(f"deleted {removed} audit entries older than {older_than_days} days")
