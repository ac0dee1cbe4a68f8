"""The flows' commands: `metabiz worker` runs due jobs (`--supervise`: and keeps a worker
running); `metabiz jobs list|retry` shows the job table, failed jobs with their last error,
and runs one again at the next worker pass.

Exit 1 with a message on stderr for an unknown or non-failed job.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from metabiz.flows import jobs as job_table
from metabiz.flows import supervisor
from metabiz.flows.worker import run_worker
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.db import writer
from metabiz.platform.long_lived import settle_long_lived


@command(name="worker")
@click.option("--once", is_flag=True, help="run the due jobs, then exit")
@click.option("--now", "now_text", default=None, metavar="DATETIME",
              help="run the jobs as of this time (ISO 8601, UTC unless it says otherwise)")
@click.option("--supervise", is_flag=True,
              help="run the worker as a child process and start it again whenever it dies")
def worker(env: CliEnv, once: bool, now_text: str | None, supervise: bool) -> None:
    """Run due jobs (automation, scheduled rules, webhooks)."""
    if supervise:
        if once or now_text:
            raise click.UsageError("--supervise keeps a worker running: not with --once or --now")
        sys.exit(supervisor.supervise(
            [sys.executable, "-m", "metabiz.cli", "worker", "--database-url",
             env.config.database_url], say=lambda line: click.echo(line, err=True)))
    engine = env.serving_engine()
    runtime = env.runtime()
    settle_long_lived()  # the loaded code stays out of full collections (imports run here)
    done = run_worker(engine, runtime=runtime, secret=env.config.secret_key,
                      smtp=env.config.smtp, once=once, now=_moment(now_text))
    click.echo(f"ran {done} jobs")


def _moment(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date and time like 2026-11-23T08:00:00Z",
                                 param_hint="--now") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@click.group("jobs")
def jobs() -> None:
    """Background jobs: notifications, webhooks, time-based rules."""


@command(jobs, "list")
@click.option("--status", type=click.Choice(job_table.STATUSES), default=None,
              help="only jobs with this status")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
def list_jobs(env: CliEnv, status: str | None, limit: int, as_json: bool) -> None:
    """List jobs, newest first."""
    with env.serving_engine().connect() as conn:
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


@command(jobs, "retry")
@click.argument("job_id", type=int)
def retry(env: CliEnv, job_id: int) -> None:
    """Run a failed job again at the next worker pass."""
    with writer(env.serving_engine()).begin() as conn:
        job_table.retry(conn, job_id, dt.datetime.now(dt.UTC))
    click.echo(f"job {job_id} will run again")


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")
