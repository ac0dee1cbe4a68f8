"""The `metabiz` command line: init, apply, users, tokens, formulas, templates, serve, worker.

Exit 0 on success, 1 on a user error (message on stderr, never a traceback), 2 on bad
usage (click's own). Every command takes --database-url.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from metabiz.errors import FormulaError, MetabizError, MetadataError, NotFound
from metabiz.platform import migrations
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

database_option = click.option(
    "--database-url", envvar="METABIZ_DATABASE_URL", default=None,
    help="SQLAlchemy URL (default sqlite:///instance/metabiz.db)")


def command(group: click.Group, name: str | None = None, **kwargs: Any) -> Callable[..., Any]:
    """A subcommand that takes --database-url and turns user errors into exit code 1."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(func)
        def run(*args: Any, database_url: str | None, **kw: Any) -> Any:
            config = Config.from_env(database_url)
            try:
                return func(config, *args, **kw)
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

        return group.command(name, **kwargs)(database_option(run))

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """metabiz: a metadata-driven business-object platform."""


def _engine(config: Config) -> Any:
    """The database's engine, its system tables brought up to date first."""
    from metabiz.platform.app import migration_folders

    engine = make_engine(config.database_url)
    migrations.upgrade(engine, migration_folders())
    return engine


def _serving_engine(config: Config) -> Any:
    """The engine of a database a server may run on: a blank one is initialised, one at an
    older schema refused (OutOfDateDatabase: exit 1 with the message)."""
    from metabiz.platform.app import prepare_database

    engine = make_engine(config.database_url)
    prepare_database(engine)
    return engine


@command(main, "init")
def init(config: Config) -> None:
    """Create the system tables, or bring an existing database's up to date (idempotent)."""
    from metabiz.platform.app import migration_folders

    moved = migrations.upgrade(make_engine(config.database_url), migration_folders())
    click.echo(f"initialised {config.database_url}"
               + (f" ({', '.join(moved)})" if moved else ""))


@command(main, "upgrade")
def upgrade(config: Config) -> None:
    """Bring a database made by an earlier release up to date, keeping every row."""
    from metabiz.platform.app import migration_folders

    folders = migration_folders()
    moved = migrations.upgrade(make_engine(config.database_url), folders)
    notes = migrations.summaries(folders) if moved else {}
    for revision in moved:
        click.echo(f"  {revision}  {notes[revision]}")
    click.echo(f"upgraded {config.database_url}" if moved
               else f"{config.database_url} is up to date")


def _flow_checks() -> list[Any]:
    """The flows package's metadata checks (flow formulas), passed into every apply."""
    try:
        from metabiz.flows import check_flows
    except ImportError:
        return []
    return [check_flows]


@command(main, "apply")
@click.argument("path", type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.option("--convert-failures", type=click.Choice(["blank"]), default=None,
              help="blank the values that cannot be converted instead of refusing")
def apply(config: Config, path: str, dry_run: bool, convert_failures: str | None) -> None:
    """Validate and apply a metadata folder or one JSON file."""
    from metabiz.objects.sync import apply_path

    plan = apply_path(_engine(config), path, dry_run=dry_run, convert_failures=convert_failures,
                      applied_by="cli", checks=_flow_checks())
    click.echo(plan.render())


@command(main, "versions")
@click.argument("action", required=False, type=click.Choice(["show"]))
@click.argument("number", required=False, type=int)
def versions(config: Config, action: str | None, number: int | None) -> None:
    """List the applied metadata versions; `versions show N` prints one as JSON."""
    from metabiz.platform.metadata.store import list_versions, version_record

    with _engine(config).connect() as conn:
        if action == "show":
            if number is None:
                raise click.UsageError("versions show N: which version?")
            record = version_record(conn, number)
            if record is None:
                raise NotFound(f"no metadata version {number}")
            click.echo(json.dumps(record, ensure_ascii=False, indent=2, default=str))
            return
        for info in list_versions(conn):
            click.echo(f"{info.version:>4}  {info.applied_at:%Y-%m-%d %H:%M:%S}Z  "
                       f"{info.applied_by:<10}  {info.summary}")


@command(main, "restore")
@click.argument("target")
def restore(config: Config, target: str) -> None:
    """Bring back a removed OBJECT or OBJECT.FIELD with its data."""
    from metabiz.objects.sync import restore as do_restore

    click.echo(do_restore(_engine(config), target, applied_by="cli",
                          checks=_flow_checks()).render())


@command(main, "losses")
@click.argument("target")
def losses(config: Config, target: str) -> None:
    """List the values `apply --convert-failures=blank` blanked, of OBJECT or OBJECT.FIELD."""
    from metabiz.platform.metadata.store import list_losses

    object_name, _, field_name = target.partition(".")
    with _engine(config).connect() as conn:
        found = list_losses(conn, object_name, field_name or None)
    for loss in found:
        click.echo(f"v{loss.version}  {loss.object}.{loss.field}  id {loss.record_id}  "
                   f"{loss.old_type} {json.dumps(loss.old_value, ensure_ascii=False)}  "
                   f"({loss.reason})")
    if not found:
        click.echo(f"no blanked values of {target}")


@command(main, "purge")
@click.argument("target")
@click.confirmation_option(prompt="This deletes the data for good. Continue?")
def purge(config: Config, target: str) -> None:
    """Delete a removed OBJECT or OBJECT.FIELD and its data for good."""
    from metabiz.objects.sync import purge as do_purge

    click.echo(do_purge(_engine(config), target, applied_by="cli").render())


# -- users and tokens -------------------------------------------------------------------

@main.group()
def users() -> None:
    """Manage users."""


@command(users, "create")
@click.argument("name")
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, help="repeat for several roles")
@click.option("--manager", default=None)
@click.option("--email", default=None)
@click.option("--display-name", default=None)
@click.option("--language", type=click.Choice(["en", "zh"]), default="en")
def users_create(config: Config, name: str, password: str, roles: tuple[str, ...],
                 manager: str | None, email: str | None, display_name: str | None,
                 language: str) -> None:
    """Create a user."""
    from metabiz.platform.auth import create_user

    with writer(_engine(config)).begin() as conn:
        create_user(conn, name, password, roles=roles, manager=manager, email=email, by="cli",
                    display_name=display_name, language=language)
    click.echo(f"created user {name}")


@main.group()
def tokens() -> None:
    """Manage API tokens."""


# `tokens create` (with --expires-in-days), list and revoke live in cli_access.py.


# -- formulas ---------------------------------------------------------------------------

@main.group()
def formula() -> None:
    """Check and evaluate formulas."""


def _schema(config: Config) -> Any:
    from metabiz.objects.runtime import Runtime

    return Runtime(_engine(config)).schema()


@command(main, "recompute")
@click.argument("target", metavar="OBJECT.FIELD")
def recompute(config: Config, target: str) -> None:
    """Rebuild a roll-up field's stored values for every record."""
    from metabiz.objects import rollups
    from metabiz.objects.runtime import Runtime

    object_name, _, field_name = target.partition(".")
    engine = _engine(config)
    with writer(engine).begin() as conn:
        schema = Runtime(engine).schema(conn)
        obj = schema.object(object_name)
        cf = obj.fields.get(field_name)
        if cf is None or cf.fdef.type != "rollup":
            raise click.UsageError(f"{target} is not a roll-up field")
        rollups.refresh_all(conn, schema, obj, cf)
    click.echo(f"recomputed {target}")


@command(formula, "check")
@click.argument("expr")
@click.option("--object", "object_name", required=True)
@click.option("--context", type=click.Choice(["field", "default", "validation", "condition",
                                              "filter"]), default="field")
def formula_check(config: Config, expr: str, object_name: str, context: str) -> None:
    """Print the formula's result type, or its errors with a caret."""
    from metabiz.formulas import check

    schema = _schema(config)
    schema.object(object_name)
    checked = check(expr, schema.catalog, object_name, context=context)
    click.echo(checked.type.value)


@command(formula, "eval")
@click.argument("expr")
@click.option("--object", "object_name", default=None)
@click.option("--record", "record_json", default=None, help="field values as a JSON object")
def formula_eval(config: Config, expr: str, object_name: str | None,
                 record_json: str | None) -> None:
    """Print the formula's value as one JSON value."""
    from metabiz.formulas import (
        DictCatalog,
        EvalContext,
        check,
        compile_python,
        from_json_value,
        to_json_value,
    )

    try:
        record = json.loads(record_json) if record_json else {}
    except ValueError as err:
        raise click.UsageError(f"--record is not valid JSON: {err}") from None
    if not isinstance(record, dict):
        raise click.UsageError("--record must be a JSON object")
    if object_name:
        catalog = _schema(config).catalog
        _schema(config).object(object_name)
    else:
        catalog, object_name = DictCatalog({}), ""
    checked = check(expr, catalog, object_name, context="condition")
    values = {}
    for key, raw in record.items():
        spec = catalog.field(object_name, key)
        if spec is None:
            raise MetadataError([f"--record: unknown field {key!r}"])
        values[key] = from_json_value(raw, spec.type)
    value = compile_python(checked)(EvalContext(record=values))
    click.echo(json.dumps(to_json_value(value, checked.type), ensure_ascii=False))


# -- templates --------------------------------------------------------------------------

@main.group()
def template() -> None:
    """Install and export templates."""


@command(template, "install")
@click.argument("name_or_path")
@click.option("--demo-data", is_flag=True, help="also load the template's users and records")
def template_install(config: Config, name_or_path: str, demo_data: bool) -> None:
    """Install a bundled template by name, or a template folder."""
    from metabiz.objects.installer import install
    from metabiz.platform.app import build_runtime

    engine = _engine(config)
    result = install(engine, name_or_path, demo_data=demo_data, applied_by="cli",
                     runtime=build_runtime(engine), checks=_flow_checks())
    click.echo(result.plan.render())
    if result.users:
        click.echo(f"demo users: {', '.join(result.users)}")
    for name, count in result.records.items():
        click.echo(f"loaded {count} {name} records")
    if result.skipped_data:
        click.echo("demo data not loaded: the template's objects already hold records")


@command(template, "export")
@click.argument("path", type=click.Path(file_okay=False))
def template_export(config: Config, path: str) -> None:
    """Write the applied metadata as a template folder."""
    from metabiz.objects.installer import export

    written = export(_engine(config), path)
    click.echo(f"wrote {len(written)} files to {path}")


@template.command("list")
def template_list() -> None:
    """List the bundled templates."""
    from metabiz.objects.installer import bundled_templates

    for name, path in bundled_templates().items():
        click.echo(f"{name}\t{path}")


# -- serving ----------------------------------------------------------------------------

@command(main, "serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int, help="gunicorn worker processes")
@click.option("--no-worker", is_flag=True, help="do not run due jobs in this process")
def serve(config: Config, host: str, port: int, workers: int, no_worker: bool) -> None:
    """Serve the UI and the API with gunicorn, and run due jobs in a worker process."""
    import subprocess

    from gunicorn.app.base import BaseApplication

    from metabiz.platform.app import create_app

    _serving_engine(config).dispose()
    # The job worker runs as its own process: a thread in gunicorn's master would be
    # copied mid-lock into every forked web worker and hang it.
    jobs = None if no_worker else subprocess.Popen(
        [sys.executable, "-c", "from metabiz.platform.cli import main; main()", "worker",
         "--database-url", config.database_url])

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return create_app(config)

    try:
        Server().run()
    finally:
        if jobs is not None:
            jobs.terminate()
            jobs.wait(timeout=30)


@command(main, "worker")
@click.option("--once", is_flag=True, help="run the due jobs, then exit")
def worker(config: Config, once: bool) -> None:
    """Run due jobs (automation, scheduled rules, webhooks)."""
    try:
        from metabiz.flows.worker import run_worker
    except ModuleNotFoundError:
        click.echo("no flows installed: nothing to run")
        return
    done = run_worker(_serving_engine(config), once=once)
    click.echo(f"ran {done} jobs")


def _optional_commands() -> None:
    """Commands defined beside their features: access (users, tokens, audit), flows (jobs)."""
    import importlib

    try:
        importlib.import_module("metabiz.platform.cli_access")  # registers on import
    except ModuleNotFoundError as err:
        if err.name != "metabiz.platform.cli_access":
            raise
    try:
        from metabiz.flows.cli import jobs
    except ModuleNotFoundError:
        return
    main.add_command(jobs)


_optional_commands()
