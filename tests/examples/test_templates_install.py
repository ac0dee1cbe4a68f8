"""The bundled templates installed for real with their demo data, on SQLite and PostgreSQL.

Installing loads every demo record through the record service (so each passes its
validation rules, and automation runs on it); then every roll-up, formula and list view is
checked against the data, the metadata survives export → apply → export, and the flows the
templates are built around (discount approval, lead recycling, ticket SLA and feedback)
run end to end on the demo data.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, select, type_coerce
from sqlalchemy.engine import make_url

from metabiz.app import build_runtime, prepare_database
from metabiz.cli import main
from metabiz.errors import MetadataError, RecordLocked
from metabiz.flows import approvals, notifications
from metabiz.flows.worker import run_worker
from metabiz.objects import installer, pools, query, records, rollups
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import load_actor
from metabiz.platform.db import make_engine, writer
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.loader import load_path
from metabiz.platform.metadata.store import load_documents

Unit = Callable[..., AbstractContextManager[Context]]


def install(engine: Engine, extensions: Extensions, *names: str,
            demo_data: bool = True) -> tuple[Any, Unit]:
    """Install templates with the runtime `metabiz template install` uses (flows included);
    returns it and `unit(user)`: one committed unit of work acting as that user."""
    runtime = build_runtime(engine)
    for name in names:
        installer.install(runtime, name, demo_data=demo_data)

    @contextmanager
    def unit(user: str = "system") -> Iterator[Context]:
        with writer(engine).begin() as conn:
            actor = SYSTEM if user == "system" else load_actor(conn, user)
            yield runtime.context(conn, actor)

    return runtime, unit


def every(ctx: Context, object_name: str, filter: str | None = None) -> list[dict[str, Any]]:
    return query.list_records(ctx, object_name, filter=filter, limit=1000).records


def one(ctx: Context, object_name: str, filter: str) -> dict[str, Any]:
    found = every(ctx, object_name, filter)
    assert len(found) == 1, (object_name, filter, len(found))
    return found[0]


def number(value: Any) -> Decimal:
    return Decimal(str(value))


def same(stored: Any, fresh: Any) -> bool:
    if isinstance(stored, int | float | Decimal) or isinstance(fresh, int | float | Decimal):
        return abs(number(stored or 0) - number(fresh or 0)) < Decimal("0.0001")
    return bool(stored == fresh)


# ---- install and check ---------------------------------------------------------------------


def test_templates_install_with_their_demo_data(engine: Engine, extensions: Extensions,
                                                caplog: pytest.LogCaptureFixture) -> None:
    runtime = build_runtime(engine)
    for name in ("crm", "service"):
        bundle = load_path(installer.bundled_templates()[name],
                           known_objects={"account", "contact", "contract", "task"}
                           if name == "service" else (), kinds=runtime.kinds)
        result = installer.install(runtime, name, demo_data=True)
        # every demo record went through validation (a failing one stops the install)
        assert result.records == {obj: len(rows) for obj, rows in bundle.data.items()}
        assert set(result.users) == {u.name for u in bundle.users}

    with writer(engine).begin() as conn, caplog.at_level(logging.WARNING, "metabiz"):
        ctx = runtime.context(conn, SYSTEM)
        schema = ctx.schema
        # every roll-up holds what its definition computes now
        for obj in schema.objects.values():
            for cf in obj.fields.values():
                if cf.fdef.type != "rollup":
                    continue
                stored = obj.table.c[cf.name]
                fresh = type_coerce(rollups.summary_expression(schema, obj, cf, obj.table.c.id),
                                    stored.type)
                rows = conn.execute(select(obj.table.c.id, stored, fresh)).all()
                wrong = [tuple(row) for row in rows if not same(row[1], row[2])]
                assert rows and wrong == [], f"{obj.name}.{cf.name}"
        # every formula evaluates on every demo record (an error would be logged)
        for name in schema.objects:
            assert every(ctx, name), name
        assert [r.getMessage() for r in caplog.records if "formula" in r.getMessage()] == []
        # every list view runs as SQL on this database
        for obj in schema.objects.values():
            for view in obj.odef.list_views:
                query.list_records(ctx, obj.name, filter=view.filter, sort=view.sort, limit=5)
        # every formula field sorts and filters there too (a column header clicked, a report
        # grouped by it): its SQL, formulas inlined in formulas, fits SQLite's parser — the
        # commission's tiered amount did not (a 400 on sorting the commissions by amount)
        for obj in schema.objects.values():
            for cf in obj.fields.values():
                if cf.formula is not None:
                    query.list_records(ctx, obj.name, sort=f"-{cf.name}", limit=5)
                    query.list_records(ctx, obj.name, filter=f"NOT(ISBLANK({cf.name}))", limit=5)
        assert len(every(ctx, "lead", 'pool = "lead_pool"')) >= 4
        assert len(every(ctx, "account", 'pool = "customer_pool"')) >= 2
        assert len(every(ctx, "opportunity", "discount > 10")) >= 4

        # spot checks of the computed fields users look at
        for opp in every(ctx, "opportunity"):
            expected = {"prospecting": 10, "qualification": 20, "proposal": 50,
                        "negotiation": 75, "closed_won": 100, "closed_lost": 0}[opp["stage"]]
            assert opp["probability"] == expected, opp["name"]
            net = number(opp["amount"]) * (1 - number(opp["discount"] or 0) / 100)
            assert number(opp["net_amount"]) == net.quantize(Decimal("0.01"))
        for account in every(ctx, "account"):
            assert account["grade"] in ("A", "B", "C", "D")
            assert (account["grade"] == "D") == (account["won_amount"] == 0), account["name"]
            if account["grade"] == "A":
                assert account["won_amount"] >= 1000000
        contract = one(ctx, "contract", 'name = "精工机械 - CRM 全员上线 合同"')
        assert (contract["amount"], contract["paid_amount"], contract["outstanding"]) == \
            (1126400, 337920, 788480)
        for quote in every(ctx, "quote"):
            lines = every(ctx, "quote_line", f"quote = {quote['id']}")
            assert number(quote["total"]) == sum(number(x["line_total"]) for x in lines)
        commission = one(ctx, "commission", 'name = "提成：港湾物流 - 客户门户"')
        # 3 % of 100,000 + 5 % of 400,000 + 8 % of the 78,000 above 500,000
        assert (commission["base_amount"], commission["amount"]) == (578000, 29240)
        team = one(ctx, "quota", 'name = "East team · 2026-Q4"')
        members = every(ctx, "quota", f"parent_quota = {team['id']}")
        assert len(members) == 3
        assert team["achieved_amount"] == sum(m["won_amount"] for m in members) > 0
        ticket = one(ctx, "ticket", 'subject = "移动端签到定位不准"')  # urgent
        opened = dt.datetime.fromisoformat(ticket["created_at"].replace("Z", "+00:00"))
        due = dt.datetime.fromisoformat(ticket["sla_due"].replace("Z", "+00:00"))
        assert ticket["owner"] == "frank"  # ticket_assignment: urgent → the support manager
        # due in working hours: 09:00-18:00 in Beijing, at least the SLA's hours later
        beijing = due.astimezone(dt.timezone(dt.timedelta(hours=8)))
        assert dt.time(9) <= beijing.time() <= dt.time(18) and beijing.isoweekday() <= 6
        assert due - opened >= dt.timedelta(hours=ticket["sla_hours"])

    # installing again changes nothing and loads no record twice
    before = {name: len(every_as_system(runtime, engine, name)) for name in ("lead", "ticket")}
    for name in ("crm", "service"):
        again = installer.install(runtime, name, demo_data=True)
        assert (again.plan.changes, again.records, again.users) == ([], {}, [])
    assert {name: len(every_as_system(runtime, engine, name))
            for name in ("lead", "ticket")} == before


def every_as_system(runtime: Any, engine: Engine, name: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return every(runtime.context(conn, SYSTEM), name)


@contextmanager
def empty_database(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """Another empty database of the same kind as `db_url`."""
    if db_url.startswith("sqlite"):
        eng = make_engine(f"sqlite:///{tmp_path}/empty.db")
        try:
            yield eng
        finally:
            eng.dispose()
        return
    base = os.environ["METABIZ_TEST_POSTGRES_URL"]  # as for `db_url` (tests/conftest.py)
    schema = f"{make_url(db_url).query['options'].split('=')[-1]}_empty"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    eng = make_engine(make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
                      .render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_export_applies_to_an_empty_database(engine: Engine, db_url: str,
                                             tmp_path: Path, extensions: Extensions) -> None:
    install(engine, extensions, "crm", "service", demo_data=False)
    first = tmp_path / "first"
    installer.export(engine, first)
    assert sorted(p.name for p in first.iterdir()) == ["crm", "service"]
    with empty_database(db_url, tmp_path) as other:
        prepare_database(other)
        # the exported folder applies as it is: both apps, in one version
        plan = apply_path(other, first, extensions=extensions)
        assert plan.version is not None and plan.render().endswith(
            f"applied as version {plan.version}")
        assert apply_path(other, first, extensions=extensions).version is None  # unchanged
        second = tmp_path / "second"
        installer.export(other, second)
    files = sorted(p.relative_to(first) for p in first.rglob("*.json"))
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.json"))
    assert len(files) > 60
    for rel in files:
        assert (first / rel).read_text() == (second / rel).read_text(), rel


def test_a_folder_that_holds_no_app_is_refused(engine: Engine, tmp_path: Path,
                                               extensions: Extensions) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.json").write_text("{}")
    for folder in (tmp_path, tmp_path / "notes"):
        with pytest.raises(MetadataError, match="not a metadata folder: it has no app.json"):
            apply_path(engine, folder, extensions=extensions)
    with engine.connect() as conn:
        assert load_documents(conn) == {}  # nothing applied


def test_template_install_of_a_folder_that_is_no_template_exits_1(engine: Engine,
                                                                  db_url: str) -> None:
    result = CliRunner().invoke(main, ["template", "install", "/etc", "--database-url", db_url])
    assert result.exit_code == 1
    assert "/etc: /: not a metadata folder" in result.output and "Traceback" not in result.output


# ---- the flows, end to end -------------------------------------------------------------------


def test_discount_approval_on_the_demo_data(engine: Engine, extensions: Extensions) -> None:
    _, unit = install(engine, extensions, "crm")

    with unit("alice") as ctx:
        # a 25 % discount: the manager, then every finance user (会签)
        big = one(ctx, "opportunity", 'name = "云帆科技 - 全渠道 CRM 项目"')
        assert big["discount"] > 20 and big["owner"] == "alice"
        request = approvals.submit(ctx, "opportunity", big["id"])
        assert (request["status"], request["step"], request["pending_approvers"]) == \
            ("pending", "manager", ["bob"])
    with unit("alice") as ctx, pytest.raises(RecordLocked):
        records.update(ctx, "opportunity", big["id"], {"discount": 5})

    with unit("bob") as ctx:
        after = approvals.act(ctx, request["id"], "approve", comment="OK from sales")
        assert (after["status"], after["step"]) == ("pending", "finance")
        assert sorted(after["pending_approvers"]) == ["carol", "judy"]
    with unit("carol") as ctx:
        assert approvals.act(ctx, request["id"], "approve")["status"] == "pending"
    with unit("judy") as ctx:
        assert approvals.act(ctx, request["id"], "approve")["status"] == "approved"
    with unit("alice") as ctx:
        done = records.get(ctx, "opportunity", big["id"])
        assert (done["approval_status"], done["stage"], done["discount"]) == \
            ("approved", "negotiation", 25)

    with unit("dave") as ctx:
        # 18 %: the manager alone decides, and a rejection resets the discount
        small = one(ctx, "opportunity", 'name = "华信贸易 - 数据分析平台"')
        assert 10 < small["discount"] <= 20
        request = approvals.submit(ctx, "opportunity", small["id"])
    with unit("bob") as ctx:
        assert approvals.act(ctx, request["id"], "reject", comment="Too much")["status"] == \
            "rejected"
    with unit("dave") as ctx:
        rejected = records.get(ctx, "opportunity", small["id"])
        assert (rejected["approval_status"], rejected["discount"]) == ("rejected", 0)


def test_lead_recycling_on_the_demo_data(engine: Engine, extensions: Extensions) -> None:
    _, unit = install(engine, extensions, "crm")
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with unit() as ctx:
        leads = {lead["id"]: lead for lead in every(ctx, "lead")}
    # open leads nobody followed up for 3 days by tomorrow go back to the pool
    stale = {i for i, lead in leads.items()
             if lead["status"] in ("new", "working", "mql", "qualified")
             and lead["pool"] is None
             and dt.date.fromisoformat(lead["last_follow_up"])
             <= tomorrow.date() - dt.timedelta(days=3)}
    assert len(stale) >= 5 and len({leads[i]["owner"] for i in stale}) >= 3

    run_worker(engine, once=True, now=tomorrow, runtime=build_runtime(engine),
               secret="s")

    with unit() as ctx:
        after = {lead["id"]: lead for lead in every(ctx, "lead")}
        for i, lead in after.items():
            if i in stale:
                assert (lead["pool"], lead["owner"]) == ("lead_pool", None), i
                returned = [h for h in records.history(ctx, "lead", i)
                            if h.get("kind") == "return" and h["field"] == "owner"]
                assert [(h["old"], h["note"]) for h in returned] == \
                    [(leads[i]["owner"], "no_follow_up")], i
            else:  # followed up recently, closed, or in the pool already: untouched
                assert {k: lead[k] for k in ("owner", "pool", "version")} == \
                    {k: leads[i][k] for k in ("owner", "pool", "version")}, i
        # each previous owner and their manager hear of it
        for i in stale:
            previous = leads[i]["owner"]
            for user in (previous, "bob"):
                told = [n for n in notifications.for_user(ctx.conn, user, limit=500)
                        if n["object"] == "lead" and n["record_id"] == i]
                assert told and ("public pool" in told[0]["subject"]  # or in Chinese
                                 or "退回公海" in told[0]["subject"]), (user, i)

    # a manager (a pool admin) hands a pool lead to a rep: it leaves the pool, followed up today
    with unit("bob") as ctx:
        handed = min(stale)
        pools.assign(ctx, "lead", handed, "dave")
    with unit() as ctx:
        lead = records.get(ctx, "lead", handed)
        assert (lead["owner"], lead["pool"]) == ("dave", None)
        assert lead["last_follow_up"] == dt.datetime.now(dt.UTC).date().isoformat()


def test_service_flows_on_the_demo_data(engine: Engine, extensions: Extensions) -> None:
    _, unit = install(engine, extensions, "crm", "service")
    with unit("grace") as ctx:
        ticket = every(ctx, "ticket", 'ISPICKVAL(status, "waiting") && owner = "grace"')[0]
        assert ticket["feedback_count"] == 0
        records.update(ctx, "ticket", ticket["id"],
                       {"status": "closed", "resolution": "Fixed the sync job."})
        closed = records.get(ctx, "ticket", ticket["id"])
        # closing a ticket sends a satisfaction survey
        assert closed["feedback_count"] == 1
        survey = one(ctx, "feedback", f"ticket = {ticket['id']}")
        assert (survey["status"], survey["owner"]) == ("requested", "grace")
    with unit() as ctx:
        open_due = {t["id"]: dt.datetime.fromisoformat(t["sla_due"].replace("Z", "+00:00"))
                    for t in every(ctx, "ticket", 'NOT(ISPICKVAL(status, "resolved")) && '
                                                  'NOT(ISPICKVAL(status, "closed"))')}
        # SLAs count working hours: a day on, or just past the first due time when the
        # demo is installed on a weekend or before a holiday
        tomorrow = max(dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                       min(open_due.values()) + dt.timedelta(minutes=1))
        due = {i for i, at in open_due.items() if at <= tomorrow}
        # urgent and high tickets are due within working hours, low ones in 3 working days
        assert due and not every(ctx, "ticket", "escalated")
        assert every(ctx, "ticket", 'ISPICKVAL(priority, "low") && NOT(ISPICKVAL(status, '
                                    '"closed"))')

    # a day later the open tickets past their SLA are escalated, and nothing else
    run_worker(engine, once=True, now=tomorrow, runtime=build_runtime(engine),
               secret="s")
    with unit() as ctx:
        escalated = every(ctx, "ticket", "escalated")
        assert {t["id"] for t in escalated} == due
        assert all(t["escalated_at"] for t in escalated)


def test_service_sla_counts_china_working_hours(engine: Engine, extensions: Extensions) -> None:
    """The service template's calendar: National Day week off, Saturday 10 October worked,
    SLA hours counted 09:00-18:00 in Beijing (UTC+8) — in the field and in a list filter
    alike."""
    runtime, _ = install(engine, extensions, "crm", "service", demo_data=False)

    def opened(at: str, priority: str) -> dict[str, Any]:
        with writer(engine).begin() as conn:
            now = dt.datetime.fromisoformat(at)
            ctx = runtime.context(conn, SYSTEM, now=now)
            return records.create(ctx, "ticket", {"subject": f"{priority} at {at}",
                                                  "priority": priority})

    # Wednesday 30 September, 10:00 in Beijing: the holidays start the next day
    low = opened("2026-09-30T02:00:00+00:00", "low")  # 72 working hours
    medium = opened("2026-09-30T02:00:00+00:00", "medium")  # 24 working hours
    urgent = opened("2026-09-30T02:00:00+00:00", "urgent")  # 4 hours, the same day
    # Saturday 10 October, 07:00 in Beijing (a worked day), still Friday in UTC
    saturday = opened("2026-10-09T23:00:00+00:00", "medium")
    # 8 h on 30 Sep, 9 h each on 8, 9, 10 (Saturday), 12, 13, 14 and 15 Oct, 1 h on 16 Oct
    assert low["sla_due"] == "2026-10-16T02:00:00Z"
    assert medium["sla_due"] == "2026-10-09T08:00:00Z"  # 8 h, 9 h on 8 Oct, 16:00 on 9 Oct
    assert urgent["sla_due"] == "2026-09-30T06:00:00Z"  # 14:00 in Beijing
    # from 09:00 on the worked Saturday: 9 h, 9 h on Monday 12, 15:00 on Tuesday 13
    assert saturday["sla_due"] == "2026-10-13T07:00:00Z"
    with engine.connect() as conn:
        ctx = runtime.context(conn, SYSTEM)
        due_16th = every(ctx, "ticket", "DATEVALUE(sla_due) = DATE(2026, 10, 16)")
        assert [t["id"] for t in due_16th] == [low["id"]]
        ordered = query.list_records(ctx, "ticket", sort="sla_due").records
        assert [t["id"] for t in ordered] == [urgent["id"], medium["id"], saturday["id"],
                                               low["id"]]
