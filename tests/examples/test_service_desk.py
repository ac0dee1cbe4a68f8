"""The service template as a service desk, run with a fixed clock (`metabiz worker --once
--now`): SLA escalation that follows its contract, a late worker, system-only escalation
fields, resolution stamps, first-response SLA, work orders from tickets, technicians by
role, localized notifications and the feedback request — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from metabiz.app import build_runtime, prepare_database
from metabiz.cli import main
from metabiz.errors import PermissionDenied, ValidationError
from metabiz.flows import notifications
from metabiz.objects import installer, query, records
from metabiz.objects.context import Context
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.db import make_engine, writer

#: a Monday, 09:00 in China
T0 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def desk(db_url: str, extensions) -> Iterator[tuple[Engine, str]]:
    engine = make_engine(db_url)
    prepare_database(engine)
    runtime = build_runtime(engine)
    installer.install(runtime, "crm")
    installer.install(runtime, "service")
    with writer(engine).begin() as conn:
        create_user(conn, "frank", "frank-pw-1", roles=["support_manager"])
        create_user(conn, "erin", "erin-pw-12", roles=["support_agent"], manager="frank",
                    email="erin@example.com")
        create_user(conn, "ken", "ken-pw-123", roles=["field_technician"], language="zh")
    yield engine, db_url
    engine.dispose()


@pytest.fixture
def unit(desk):
    engine, _ = desk
    runtime = build_runtime(engine)

    @contextmanager
    def work(user: str = "system", now: dt.datetime = T0) -> Iterator[Context]:
        with writer(engine).begin() as conn:
            actor = SYSTEM if user == "system" else load_actor(conn, user)
            yield runtime.context(conn, actor, now=now)

    return work


def worker(desk, now: dt.datetime) -> str:
    _, url = desk
    result = CliRunner().invoke(main, ["worker", "--once", "--now", now.isoformat(),
                                       "--database-url", url])
    assert result.exit_code == 0, result.output
    return result.output


def inbox(desk, user: str) -> list[str]:
    engine, _ = desk
    with engine.connect() as conn:
        return [n["subject"] for n in reversed(notifications.for_user(conn, user))]


@pytest.fixture
def customer(unit):
    with unit() as ctx:
        acme = records.create(ctx, "account", {"name": "Acme"})["id"]
        other = records.create(ctx, "account", {"name": "Globex"})["id"]
        ann = records.create(ctx, "contact", {"last_name": "Li", "first_name": "Ann",
                                              "account": acme, "email": "ann@acme.example"})
        bo = records.create(ctx, "contact", {"last_name": "Wang", "first_name": "Bo",
                                             "account": acme})
        gus = records.create(ctx, "contact", {"last_name": "Gus", "account": other})
        contract = records.create(ctx, "service_contract", {
            "name": "Acme premium", "account": acme, "level": "premium",
            "start_date": "2026-01-01", "end_date": "2027-12-31"})
        expired = records.create(ctx, "service_contract", {
            "name": "Acme 2025", "account": acme, "level": "platinum",
            "start_date": "2025-01-01", "end_date": "2025-12-31"})
    return {"acme": acme, "other": other, "ann": ann["id"], "bo": bo["id"], "gus": gus["id"],
            "contract": contract["id"], "expired": expired["id"]}


def open_ticket(unit, customer, **values):
    with unit("erin") as ctx:
        ticket = records.create(ctx, "ticket", {
            "subject": "Printer jams", "account": customer["acme"], "priority": "high",
            "contact": customer["ann"], **values})
    return ticket


def test_a_contract_level_change_moves_the_escalation(desk, unit, customer):
    ticket = open_ticket(unit, customer, service_contract=customer["contract"])
    assert ticket["sla_due"] == "2026-12-07T07:00:00Z"  # high 8 h x premium 0.75
    with unit("frank", now=at(1)) as ctx:  # upgraded to platinum: 4 hours
        records.update(ctx, "service_contract", customer["contract"], {"level": "platinum"})
    worker(desk, at(4.1))
    with unit() as ctx:
        now = records.get(ctx, "ticket", ticket["id"])
    assert now["sla_due"] == "2026-12-07T05:00:00Z"
    assert now["escalated"] is True and now["escalated_at"] == "2026-12-07T05:06:00Z"
    assert f"SLA breached: {ticket['ticket_number']}" in inbox(desk, "frank")


def test_a_contract_chosen_later_moves_the_escalation(desk, unit, customer):
    ticket = open_ticket(unit, customer)
    assert ticket["sla_due"] == "2026-12-07T09:00:00Z"
    with unit("erin", now=at(1)) as ctx:
        records.update(ctx, "ticket", ticket["id"], {"service_contract": customer["contract"]})
    worker(desk, at(6.5))
    with unit() as ctx:
        assert records.get(ctx, "ticket", ticket["id"])["escalated"] is True


def test_a_late_worker_escalates_without_a_due_soon_warning(desk, unit, customer):
    ticket = open_ticket(unit, customer)
    owner = ticket["owner"]
    worker(desk, at(0))  # the new-ticket notice
    worker(desk, at(10))  # the worker was down through the warning and the due time
    subjects = inbox(desk, owner)
    assert f"SLA breached: {ticket['ticket_number']}" in subjects
    assert not any(s.startswith("SLA due soon") for s in subjects)


def test_the_warning_and_the_breach_at_their_times(desk, unit, customer):
    ticket = open_ticket(unit, customer)
    worker(desk, at(7.1))
    assert f"SLA due soon: {ticket['ticket_number']}" in inbox(desk, ticket["owner"])
    with unit() as ctx:
        assert records.get(ctx, "ticket", ticket["id"])["escalated"] is False
    worker(desk, at(8.1))
    with unit() as ctx:
        assert records.get(ctx, "ticket", ticket["id"])["escalated"] is True


def test_agents_cannot_set_escalation_or_resolution_stamps(unit, customer):
    ticket = open_ticket(unit, customer)
    for field, value in (("escalated", True), ("escalated_at", "2026-12-07T02:00:00Z"),
                         ("resolved_at", "2026-12-07T02:00:00Z")):
        with pytest.raises(PermissionDenied), unit("erin") as ctx:
            records.update(ctx, "ticket", ticket["id"], {field: value})


def test_closing_stamps_the_resolution(unit, customer):
    ticket = open_ticket(unit, customer)
    with unit("erin", now=at(2)) as ctx:
        closed = records.update(ctx, "ticket", ticket["id"],
                                {"status": "closed", "resolution": "Cleaned the rollers"})
    assert closed["resolved_at"] == "2026-12-07T03:00:00Z"
    assert closed["first_response_at"] == "2026-12-07T03:00:00Z"


def test_contact_and_contract_must_belong_to_the_customer(unit, customer):
    for values, field in (({"contact": customer["gus"]}, "contact"),
                          ({"service_contract": customer["expired"]}, "service_contract")):
        with pytest.raises(ValidationError) as caught:
            open_ticket(unit, customer, **values)
        assert list(caught.value.fields) == [field]


def test_first_response_sla_from_the_contract(desk, unit, customer):
    ticket = open_ticket(unit, customer, service_contract=customer["contract"])
    assert ticket["first_response_due"] == "2026-12-07T03:00:00Z"  # premium: 2 hours
    worker(desk, at(1.9))
    assert f"Respond now: {ticket['ticket_number']}" in inbox(desk, ticket["owner"])
    worker(desk, at(2.1))
    with unit() as ctx:
        assert records.get(ctx, "ticket", ticket["id"])["response_breached"] is True
    assert f"First response late: {ticket['ticket_number']}" in inbox(desk, "frank")
    answered = open_ticket(unit, customer, service_contract=customer["contract"])
    with unit("erin", now=at(1)) as ctx:
        records.update(ctx, "ticket", answered["id"], {"status": "in_progress"})
    worker(desk, at(3))
    with unit() as ctx:
        again = records.get(ctx, "ticket", answered["id"])
    assert again["first_response_at"] == "2026-12-07T02:00:00Z"
    assert again["response_breached"] is False


def test_the_first_response_is_due_in_working_hours_like_the_sla(unit, customer):
    saturday_night = dt.datetime(2026, 12, 5, 14, 0, tzinfo=dt.UTC)  # 22:00 in China
    with unit("erin", now=saturday_night) as ctx:
        ticket = records.create(ctx, "ticket", {
            "subject": "Printer jams", "account": customer["acme"], "priority": "high",
            "contact": customer["ann"], "service_contract": customer["contract"]})
    # premium: 2 working hours, from Monday 09:00 — not 2 hours into Sunday's night
    assert ticket["first_response_due"] == "2026-12-07T03:00:00Z"
    assert ticket["sla_due"] == "2026-12-07T07:00:00Z"


def test_notices_give_due_times_in_china_time(desk, unit, customer):
    """Agents in Shanghai read 11:00, not 2026-12-07 03:00:00Z followed by "(UTC)"."""
    ticket = open_ticket(unit, customer, service_contract=customer["contract"])
    worker(desk, at(0))
    engine, _ = desk
    with engine.connect() as conn:
        bodies = [n["message"] for n in notifications.for_user(conn, ticket["owner"])]
    assert any("First response due 2026-12-07 11:00 China time, SLA due 2026-12-07 15:00 "
               "China time." in body for body in bodies), bodies
    assert not any("UTC" in body for body in bodies)


def test_a_work_order_from_a_ticket_carries_its_customer(unit, customer):
    ticket = open_ticket(unit, customer, service_contract=customer["contract"])
    with unit("erin") as ctx:
        order = records.create(ctx, "work_order", {"ticket": ticket["id"]})
    assert (order["account"], order["contact"], order["service_contract"]) == (
        customer["acme"], customer["ann"], customer["contract"])
    assert order["subject"] == "Printer jams" and order["covered"] is True
    with pytest.raises(ValidationError) as caught, unit("erin") as ctx:
        records.update(ctx, "work_order", order["id"], {"technician": "erin"})
    assert list(caught.value.fields) == ["technician"]
    with unit("erin") as ctx:
        records.update(ctx, "work_order", order["id"], {"technician": "ken",
                                                        "status": "scheduled"})


def test_notifications_in_the_readers_language_with_labels(desk, unit, customer):
    ticket = open_ticket(unit, customer)
    with unit("erin") as ctx:
        order = records.create(ctx, "work_order", {"ticket": ticket["id"]})
        records.update(ctx, "work_order", order["id"], {
            "technician": "ken", "status": "scheduled",
            "scheduled_start": "2026-12-08T02:00:00Z"})
    worker(desk, at(0))
    engine, _ = desk
    with engine.connect() as conn:
        note = notifications.for_user(conn, "ken")[0]
    assert note["subject"] == "派工单：Printer jams"
    assert note["message"].startswith("维修：Printer jams，地点 Acme")  # the label, in Chinese


def test_the_feedback_request_reaches_the_contact(desk, unit, customer):
    mailed = open_ticket(unit, customer)
    called = open_ticket(unit, customer, contact=customer["bo"])
    for ticket in (mailed, called):
        with unit("erin", now=at(1)) as ctx:
            records.update(ctx, "ticket", ticket["id"], {"status": "closed",
                                                         "resolution": "Fixed"})
    worker(desk, at(1))
    # no mail server here: the owner is asked to pass the survey on to the contact
    engine, _ = desk
    with engine.connect() as conn:
        messages = [n["message"] for n in notifications.for_user(conn, mailed["owner"])]
    assert any(m.startswith("No mail server is set up: please pass this on to "
                            "ann@acme.example: Dear Ann") for m in messages)
    with unit() as ctx:
        tasks = query.list_records(ctx, "task", filter=f"contact = {customer['bo']}").records
    assert [t["subject"] for t in tasks] == [f"Satisfaction call: {called['ticket_number']} "
                                             "Printer jams"]
    assert tasks[0]["owner"] == called["owner"]


def test_no_renewal_reminder_for_a_contract_that_ended(desk, unit, customer):
    worker(desk, at(1))
    with unit() as ctx:
        owner = records.get(ctx, "service_contract", customer["expired"])["owner"]
    assert not any(s.startswith("Renewal due: Acme 2025") for s in inbox(desk, owner))
