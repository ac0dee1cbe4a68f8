"""`metabiz report NAME`: runs a report from the command line, as a user (their record access
and field security apply) or as the system, printed as a table, CSV or JSON.

Exit 1 with the message for an unknown report or user, a hidden field or a bad filter.
"""

from __future__ import annotations

import csv
import io
import json

import click

from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import load_actor
from metabiz.platform.cli import CliEnv, command
from metabiz.reports import library
from metabiz.reports.downloads import table


@command(name="report")
@click.argument("name")
@click.option("--as", "user", default=None, metavar="USER",
              help="run as this user (default: the system, which sees every record)")
@click.option("--filter", "run_filter", default=None, metavar="FORMULA",
              help="narrow the run, like ?filter= in the API")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="the language of column and picklist labels (table and csv)")
def report(env: CliEnv, name: str, user: str | None, run_filter: str | None, fmt: str,
           lang: str) -> None:
    """Run a report and print its rows and totals."""
    runtime = env.runtime()
    with env.serving_engine().connect() as conn:
        actor = load_actor(conn, user) if user else SYSTEM
        ctx = runtime.context(conn, actor)
        result = library.result(ctx, name, filter=run_filter)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    header, rows = table(result, lang)
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows([header, *rows])
        click.echo(out.getvalue(), nl=False)
        return
    cells = [[str(c) for c in header]] + [["" if v is None else str(v) for v in row]
                                          for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for at, row in enumerate(cells):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if at == 0:
            click.echo("  ".join("-" * w for w in widths))
