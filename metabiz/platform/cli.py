"""The kernel's command-line support and its own commands: init, upgrade, users, tokens, audit.

`command` turns a function into a subcommand that takes --database-url, receives a `CliEnv`
and exits 1 with a readable message (never a traceback) on a user error; the composition
root `metabiz/cli.py` adds every package's commands to the `metabiz` group.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import click
from sqlalchemy import Engine

from metabiz.errors import FormulaError, MetabizError, MetadataError
from metabiz.platform import migrations
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer
from metabiz.platform.extensions import Extensions, Wiring

database_option = click.option(
    "--database-url", envvar="METABIZ_DATABASE_URL", default=None,
    help="SQLAlchemy URL (default sqlite:///instance/metabiz.db)")


@dataclass
class CliEnv:
    """One command's view of the process: its configuration, extensions and database."""

    config: Config
    wiring: Wiring
    _engine: Engine | None = field(default=None, repr=False)
    upgraded: list[str] = field(default_factory=list)  # revisions the first engine() applied

    @property
    def extensions(self) -> Extensions:
        return self.wiring.extensions

    def engine(self) -> Engine:
        """The database, its system tables brought up to date first (admin commands)."""
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
            self.upgraded = self.wiring.upgrade_database(self._engine)
        return self._engine

    def serving_engine(self) -> Engine:
        """The database a server or worker may run on: a blank one is initialised, one at an
        older schema refused (OutOfDateDatabase: exit 1, "run `metabiz upgrade`")."""
        if self._engine is None:
            self._engine = make_engine(self.config.database_url)
            self.wiring.prepare_database(self._engine)
            self.upgraded = []
        return self._engine

    def runtime(self) -> Any:
        """The runtime (compiled schema, write listeners) on this database."""
        return self.wiring.make_runtime(self._engine or self.engine())


def command(group: click.Group | None = None, name: str | None = None,
            **kwargs: Any) -> Callable[..., Any]:
    """A subcommand that takes --database-url, gets a CliEnv and turns user errors into
    exit code 1. Without `group` it is a standalone command for `Extensions.add_command`."""
    def decorate(func: Callable[..., Any]) -> Any:
        @wraps(func)
        def run(*args: Any, database_url: str | None, **kw: Any) -> Any:
            env = CliEnv(Config.from_env(database_url), _wiring())
            try:
                return func(env, *args, **kw)
            except MetadataError as err:
                for problem in err.problems:
                    click.echo(problem, err=True)
                sys.exit(1)
            except FormulaError as err:
                click.echo(err.render(), err=True)
                sys.exit(1)
            except MetabizError as err:
                click.echo(f"error: {err.message}", err=True)
                for key, messages in err.fields.items():
                    click.echo(f"  {key}: {'; '.join(messages)}", err=True)
                sys.exit(1)
            except OSError as err:
                click.echo(f"error: {err}", err=True)
                sys.exit(1)
            except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
                raise  # bad usage (exit 2) and the like: click words those itself
            except Exception as err:  # a bug: say so in one line; METABIZ_DEBUG=1 shows where
                if os.environ.get("METABIZ_DEBUG") == "1":
                    raise
                click.echo(f"internal error ({type(err).__name__}: {err}). Run again with "
                           "METABIZ_DEBUG=1 to see where, and please report it.", err=True)
                sys.exit(1)

        wrapped = database_option(run)
        if group is None:
            return click.command(name, **kwargs)(wrapped)
        return group.command(name, **kwargs)(wrapped)

    return decorate


def _wiring() -> Wiring:
    """The Wiring the `metabiz` group put on the click context (see metabiz/cli.py)."""
    ctx = click.get_current_context()
    wiring = ctx.find_object(Wiring)
    if wiring is None:
        raise click.UsageError("this command runs under the `metabiz` command group")
    return wiring


# -- the kernel's own commands ----------------------------------------------------------


@command(name="init")
def init(env: CliEnv) -> None:
    """Create the system tables, or bring an existing database's up to date (idempotent)."""
    env.engine()
    click.echo(f"initialised {env.config.database_url}"
               + (f" ({', '.join(env.upgraded)})" if env.upgraded else ""))


@command(name="upgrade")
def upgrade(env: CliEnv) -> None:
    """Bring a database made by an earlier release up to date, keeping every row."""
    env.engine()
    notes = migrations.summaries(env.extensions.migrations) if env.upgraded else {}
    for revision in env.upgraded:
        click.echo(f"  {revision}  {notes[revision]}")
    click.echo(f"upgraded {env.config.database_url}" if env.upgraded
               else f"{env.config.database_url} is up to date")


@click.group()
def users() -> None:
    """Manage users."""


@click.group()
def tokens() -> None:
    """Manage API tokens."""


@click.group()
def audit() -> None:
    """Read and prune the audit log."""


@command(users, "create")
@click.argument("name")
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, help="repeat for several roles")
@click.option("--manager", default=None)
@click.option("--email", default=None)
@click.option("--display-name", default=None)
@click.option("--language", type=click.Choice(["en", "zh"]), default="en")
def users_create(env: CliEnv, name: str, password: str, roles: tuple[str, ...],
                 manager: str | None, email: str | None, display_name: str | None,
                 language: str) -> None:
    """Create a user."""
    with writer(env.engine()).begin() as conn:
        create_user(conn, name, password, roles=roles, manager=manager, email=email, by="cli",
                    display_name=display_name, language=language)
    click.echo(f"created user {name}")
