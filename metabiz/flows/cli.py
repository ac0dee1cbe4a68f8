"""`metabiz jobs list|retry`: the job table from the command line.

Failed jobs are listed with their last error; `retry` runs one again at the next worker
pass. Exit 1 with a message on stderr for an unknown or non-failed job.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from metabiz.errors import MetabizError
from metabiz.flows import jobs as job_table
from metabiz.platform.app import prepare_database
from metabiz.platform.config import DEFAULT_DATABASE_URL
from metabiz.platform.db import make_engine, writer

database_option = click.option(
    "--database-url", envvar="METABIZ_DATABASE_URL", default=DEFAULT_DATABASE_URL,
    show_default=True, help="SQLAlchemy URL")


@click.group("jobs")
def jobs() -> None:
    """Background jobs: notifications, webhooks, time-based rules."""


def _engine(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    prepare_database(engine)
    return engine


@jobs.command("list")
@database_option
@click.option("--status", type=click.Choice(job_table.STATUSES), default=None,
              help="only jobs with this status")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def list_jobs(database_url: str, status: str | None, limit: int, as_json: bool) -> None:
    """List jobs, newest first."""
    engine = _engine(database_url)
    with engine.connect() as conn:
        rows = job_table.list_jobs(conn, status=status, limit=limit)
    for row in rows:
        payload = {k: v for k, v in (row["payload"] or {}).items() if k != "secret"}
        if as_json:
            click.echo(json.dumps({
                "id": row["id"], "kind": row["kind"], "status": row["status"],
                "attempts": row["attempts"], "max_attempts": row["max_attempts"],
                "run_at": _when(row["run_at"]), "last_error": row["last_error"],
                "payload": payload}, default=str))
            continue
        error = (row["last_error"] or "").splitlines()[0][:80] if row["last_error"] else ""
        click.echo(f"{row['id']}\t{row['kind']}\t{row['status']}\t"
                   f"{row['attempts']}/{row['max_attempts']}\t{_when(row['run_at'])}\t{error}")
    engine.dispose()


@jobs.command("retry")
@database_option
@click.argument("job_id", type=int)
def retry(database_url: str, job_id: int) -> None:
    """Run a failed job again at the next worker pass."""
    engine = _engine(database_url)
    try:
        with writer(engine).begin() as conn:
            job_table.retry(conn, job_id, dt.datetime.now(dt.UTC))
    except MetabizError as err:
        click.echo(f"error: {err.message}", err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    click.echo(f"job {job_id} will run again")


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")
