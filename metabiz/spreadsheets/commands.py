"""`metabiz import OBJECT FILE` and `metabiz export OBJECT FILE`: spreadsheets from the shell.

Import shows a progress bar on a terminal (rich) and plain lines otherwise, prints every bad
row as `row N, column C: message` on stderr and exits 1 when nothing was written.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from metabiz.platform.access import SYSTEM, Actor
from metabiz.platform.auth import load_actor
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.long_lived import settle_long_lived
from metabiz.spreadsheets.exporter import ExportRequest, export
from metabiz.spreadsheets.importer import ImportOptions, ImportResult, import_file
from metabiz.spreadsheets.sheets import SheetRejected, format_of


def _actor(env: CliEnv, name: str | None) -> Actor:
    if name is None:
        return SYSTEM
    with env.engine().connect() as conn:
        return load_actor(conn, name)


@command(name="import")
@click.argument("object_name", metavar="OBJECT")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", default=None, metavar="FIELD",
              help="update the records whose FIELD matches a row's (id or a unique field)")
@click.option("--dry-run", is_flag=True, help="check every row, write nothing")
@click.option("--skip-bad-rows", is_flag=True, help="write the good rows, report the bad ones")
@click.option("--as", "as_user", default=None, metavar="USER",
              help="act as this user, with their rights (default: the system, as an admin)")
def import_command(env: CliEnv, object_name: str, path: Path, key: str | None, dry_run: bool,
                   skip_bad_rows: bool, as_user: str | None) -> None:
    """Load a .csv or .xlsx file into OBJECT: all rows or none, unless --skip-bad-rows."""
    data = path.read_bytes()
    try:
        _import(env, object_name, path, data, key, dry_run, skip_bad_rows, as_user)
    except SheetRejected as err:  # the file itself: each problem on its own line
        for problem in err.problems:
            click.echo(problem, err=True)
        click.echo("nothing written", err=True)
        sys.exit(1)


def _import(env: CliEnv, object_name: str, path: Path, data: bytes, key: str | None,
            dry_run: bool, skip_bad_rows: bool, as_user: str | None) -> None:
    actor = _actor(env, as_user)
    options = ImportOptions(key=key, dry_run=dry_run, skip_bad_rows=skip_bad_rows)
    engine, runtime = env.engine(), env.runtime()
    runtime.schema()
    settle_long_lived()  # full collections during the import skip what is loaded by now
    if sys.stderr.isatty():
        console = Console(stderr=True)
        with Progress(TextColumn("[bold]importing[/] {task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                      transient=True) as bar:
            task = bar.add_task(path.name, total=None)

            def show(result: ImportResult) -> None:
                bar.update(task, total=result.total, completed=result.processed)

            result = import_file(engine, runtime, actor, object_name, path.name, data,
                                 options, show)
    else:
        shown = [0]

        def show(result: ImportResult) -> None:
            tenth = max(result.total // 10, 1)
            if result.processed // tenth > shown[0] or result.processed == result.total:
                shown[0] = result.processed // tenth
                click.echo(f"{result.processed}/{result.total} rows", err=True)

        result = import_file(engine, runtime, actor, object_name, path.name, data, options,
                             show)
    _report(object_name, result, options)


def _report(object_name: str, result: ImportResult, options: ImportOptions) -> None:
    for note in result.notes:
        click.echo(note, err=True)
    for error in result.errors:
        click.echo(error.line(), err=True)
    counts = f"{result.created} created, {result.updated} updated"
    bad = result.bad_rows
    if options.dry_run:
        verdict = "would import" if not bad or options.skip_bad_rows else "would not import"
        click.echo(f"dry run: {result.total} rows checked, {bad} bad; {verdict} "
                   f"({counts}); nothing written")
        if bad and not options.skip_bad_rows:
            sys.exit(1)
        return
    if not result.written:
        click.echo(f"nothing written: {bad} of {result.total} rows are bad (fix them, or use "
                   "--skip-bad-rows to import the others)", err=True)
        sys.exit(1)
    tail = f"; {bad} bad rows skipped" if bad else ""
    click.echo(f"imported {result.total - bad} {object_name} rows: {counts}{tail}")


@command(name="export")
@click.argument("object_name", metavar="OBJECT")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--filter", "filter_", default=None, metavar="FORMULA",
              help='only the records for which it is true, e.g. \'amount > 1000\'')
@click.option("--fields", default=None, metavar="a,b", help="these columns, in this order")
@click.option("--view", default=None, help="a list view: its filter, columns and sort")
@click.option("--sort", default=None, help="e.g. -amount,name")
@click.option("--headers", type=click.Choice(["api", "labels"]), default="api",
              show_default=True, help="api_names, or labels in --language")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option("--as", "as_user", default=None, metavar="USER",
              help="only what this user may read (default: everything)")
@click.option("--base-url", envvar="METABIZ_BASE_URL", default="", metavar="URL",
              help="the site's address, e.g. https://crm.example.com: links to files start "
                   "with it [env METABIZ_BASE_URL]")
def export_command(env: CliEnv, object_name: str, path: Path, filter_: str | None,
                   fields: str | None, view: str | None, sort: str | None, headers: str,
                   language: str, as_user: str | None, base_url: str) -> None:
    """Write OBJECT's records as .csv or .xlsx (by FILE's extension)."""
    fmt = format_of(path.name, b"")
    actor = replace(_actor(env, as_user), language=language)
    request = ExportRequest(format=fmt, filter=filter_, fields=fields, view=view, sort=sort,
                            headers=headers, base_url=base_url)
    engine, runtime = env.engine(), env.runtime()
    partial = path.with_name(path.name + ".part")
    try:
        with engine.connect() as conn, conn.begin(), partial.open("wb") as out:
            count = export(runtime.context(conn, actor), object_name, request, out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"exported {count} {object_name} records to {path}")

