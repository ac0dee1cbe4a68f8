"""The CRM and service templates' reports and dashboards on their demo data, on SQLite and
PostgreSQL: every one runs for the roles it is for, and its numbers agree with the records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest

from metabiz.app import build_runtime
from metabiz.objects import installer, query
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer
from metabiz.reports import library

#: a user of each role the templates' dashboards are for, and the dashboard they get at home
HOMES = {"alice": "sales_rep_home", "bob": "sales_manager_home", "carol": "sales_manager_home",
         "erin": "support_home", "frank": "support_home", "ken": "field_home"}


@pytest.fixture
def templates(engine):
    runtime = build_runtime(engine)
    for name in ("crm", "service"):
        installer.install(runtime, name, demo_data=True)

    @contextmanager
    def unit(user: str) -> Iterator[object]:
        with writer(engine).begin() as conn:
            yield runtime.context(conn, load_actor(conn, user))

    return unit


def test_template_reports_and_dashboards_on_the_demo_data(templates):
    """One install per database (installing the demo data is the slow part)."""
    every_dashboard_runs_for_its_roles(templates)
    every_report_runs(templates)
    pipeline_agrees_with_the_records_a_rep_may_read(templates)
    tasks_due_are_the_open_tasks_a_rep_owns(templates)
    the_leaderboard_is_sorted_by_won_amount(templates)
    the_technicians_home_starts_with_the_work_orders_to_do(templates)


def every_dashboard_runs_for_its_roles(templates):
    for user, board in HOMES.items():
        with templates(user) as ctx:
            home = library.home_dashboard(ctx)
            assert home is not None and home.api_name == board, user
            for part in library.components(ctx, home):
                assert part.error is None, (user, part.component.report, part.error)
                assert part.result is not None


def every_report_runs(templates):
    with templates("bob") as ctx:
        names = {r.name for r in library.reports_for(ctx)}
    assert {"pipeline_by_stage", "weighted_forecast", "won_by_rep_this_quarter",
            "quota_attainment_by_rep", "lead_conversion_by_source",
            "visits_per_rep_per_week"} <= names
    with templates("bob") as ctx:
        for name in sorted(names):
            assert library.result(ctx, name).columns


def pipeline_agrees_with_the_records_a_rep_may_read(templates):
    with templates("alice") as ctx:
        result = library.result(ctx, "pipeline_by_stage").to_json()
        deals = query.list_records(ctx, "opportunity", limit=1000,
                                   filter='NOT(ISPICKVAL(stage, "closed_lost"))').records
    assert deals and {d["owner"] for d in deals} == {"alice"}
    assert result["totals"]["deals"] == len(deals)
    expected = sum((Decimal(str(d["amount"])) for d in deals if d["amount"] is not None),
                   Decimal(0))
    assert Decimal(str(result["totals"]["amount"])) == expected
    stages = [row[0] for row in result["rows"]]
    order = ["prospecting", "qualification", "proposal", "negotiation", "closed_won"]
    assert stages == [s for s in order if s in stages]


def the_leaderboard_is_sorted_by_won_amount(templates):
    with templates("bob") as ctx:
        rows = library.result(ctx, "won_by_rep_this_quarter").rows
    won = [row[1] for row in rows]
    assert won == sorted(won, reverse=True)


def tasks_due_are_the_open_tasks_a_rep_owns(templates):
    """The rep's "My tasks due" beside her pipeline: her open tasks due today or before."""
    due = ('NOT(ISPICKVAL(status, "completed")) && NOT(ISPICKVAL(status, "deferred")) '
           "&& due_date <= TODAY()")
    with templates("alice") as ctx:
        result = library.result(ctx, "tasks_due").to_json()
        tasks = query.list_records(ctx, "task", limit=1000, filter=due).records
        overdue = query.list_records(ctx, "task", limit=1000, filter=due + " && overdue")
    assert tasks and {t["owner"] for t in tasks} == {"alice"}
    assert result["rows"] == [["alice", len(tasks), overdue.total]]
    assert result["labels"]["owner"]["alice"]



def the_technicians_home_starts_with_the_work_orders_to_do(templates):
    """A field technician's work is work orders, not the desk's ticket charts."""
    with templates("ken") as ctx:
        first = library.components(ctx, library.home_dashboard(ctx))[0]
        orders = query.list_records(ctx, "work_order", limit=1000).records
    assert first.component.report == "open_work_orders_by_technician"
    to_do = [o for o in orders if o["status"] in ("new", "scheduled", "in_progress")]
    assert to_do and first.result.to_json()["totals"]["work_orders"] == len(to_do)
