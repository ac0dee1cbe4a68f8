"""Automation rules through the record service: every trigger kind, conditions with prior
values, each action, the re-trigger depth limit and the jobs that run after commit."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select

from metabiz.errors import ValidationError
from metabiz.flows import notifications
from metabiz.flows.store import jobs as job_table
from metabiz.objects import records


def new(work, object_name, user="admin", **values):
    with work(user) as ctx:
        return records.create(ctx, object_name, values)


def change(work, object_name, record_id, user="admin", **values):
    with work(user) as ctx:
        return records.update(ctx, object_name, record_id, values)


def get(work, object_name, record_id):
    with work() as ctx:
        return records.get(ctx, object_name, record_id)


def inbox(flowapp, user):
    with flowapp.connect() as conn:
        return notifications.for_user(conn, user)


def tasks(work):
    with work() as ctx:
        rows = ctx.conn.execute(select(ctx.schema.object("task").table)).mappings().all()
        return [dict(r) for r in rows]


def test_created_trigger_with_condition_notifies_after_commit(work, jobs, flowapp):
    new(work, "ticket", "sam", subject="Printer down", priority="urgent")
    new(work, "ticket", "sam", subject="Mouse", priority="low")
    # nothing is written before the worker runs the job
    assert inbox(flowapp, "tina") == []
    assert jobs() == 1
    for user in ("sam", "tina", "uma"):
        [note] = inbox(flowapp, user)
        assert note["subject"] == "Urgent: Printer down"
        assert note["message"] == "Urgent ticket Printer down from sam"
        assert note["source"] == "automation ticket_urgent" and note["object"] == "ticket"
    assert jobs() == 0


def test_updated_trigger_sees_prior_values(work):
    ticket = new(work, "ticket", subject="Slow", priority="low")
    change(work, "ticket", ticket["id"], priority="high")
    assert get(work, "ticket", ticket["id"])["note"] == "escalated from low"
    other = new(work, "ticket", subject="Other", priority="urgent")
    change(work, "ticket", other["id"], priority="high")
    assert get(work, "ticket", other["id"])["note"] is None  # PRIORVALUE was urgent


def test_field_changed_trigger(work):
    today = dt.datetime(2031, 5, 6, 9, tzinfo=dt.UTC)
    ticket = new(work, "ticket", subject="Noise")
    change(work, "ticket", ticket["id"], note="looking")  # other field: no trigger
    assert get(work, "ticket", ticket["id"])["closed_on"] is None
    with work(now=today) as ctx:
        records.update(ctx, "ticket", ticket["id"], {"status": "closed"})
    assert get(work, "ticket", ticket["id"])["closed_on"] == "2031-05-06"


def test_field_changed_creates_a_related_record_with_formulas(work, jobs, flowapp):
    opp = new(work, "opportunity", "alice", name="Acme", close_date="2031-01-10")
    assert tasks(work) == []
    updated = change(work, "opportunity", opp["id"], "alice", stage="closed_won")
    assert updated["stage"] == "closed_won"
    [task] = tasks(work)
    assert task["subject"] == "Kick-off with Acme" and task["opportunity"] == opp["id"]
    assert task["due_date"] == dt.date(2031, 1, 17)
    assert task["owner"] == "alice" and task["created_by"] == "system"
    jobs()
    assert [n["message"] for n in inbox(flowapp, "alice")] == ["Acme was won"]
    assert [n["subject"] for n in inbox(flowapp, "bob")] == ["Won: Acme"]


def test_deleted_trigger_sees_the_record_as_it_was(work):
    ticket = new(work, "ticket", subject="Gone soon")
    with work() as ctx:
        records.delete(ctx, "ticket", ticket["id"])
    assert [t["subject"] for t in tasks(work)] == ["Deleted ticket: Gone soon"]


def test_assign_action_round_robin_over_a_role(work):
    ids = [new(work, "ticket", "admin", subject=f"T{i}", priority="high")["id"]
           for i in range(6)]
    owners = [get(work, "ticket", i)["owner"] for i in ids]
    assert owners == ["sam", "tina", "uma", "sam", "tina", "uma"]
    low = new(work, "ticket", "admin", subject="low one")
    assert get(work, "ticket", low["id"])["owner"] == "admin"


def test_self_retriggering_rule_stops_at_depth_five(work, caplog):
    ticket = new(work, "ticket", subject="Loop")
    with caplog.at_level(logging.ERROR, logger="metabiz.flows"):
        change(work, "ticket", ticket["id"], counter=1)
    # the user's write, then five levels of the rule re-triggering itself
    assert get(work, "ticket", ticket["id"])["counter"] == 6
    assert any("stopped at depth 5" in r.getMessage() and "ticket_loop" in r.getMessage()
               for r in caplog.records)


def test_failing_action_rolls_back_the_write(work):
    ticket = new(work, "ticket", subject="Broken")
    with pytest.raises(ValidationError) as raised:
        change(work, "ticket", ticket["id"], note="make a task")
    assert raised.value.fields == {"subject": ["required"]}
    after = get(work, "ticket", ticket["id"])
    assert after["note"] is None and after["closed_on"] is None and after["version"] == 1
    assert tasks(work) == []


def test_jobs_are_enqueued_in_the_same_transaction(work, flowapp):
    class Boom(Exception):
        pass

    try:
        with work("sam") as ctx:
            records.create(ctx, "ticket", {"subject": "Fire", "priority": "urgent"})
            raise Boom
    except Boom:
        pass
    with flowapp.connect() as conn:
        assert conn.execute(select(func.count()).select_from(job_table)).scalar() == 0


def test_notifications_are_mailed_when_smtp_is_configured(work, jobs, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            self.address = (host, port)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, mail):
            sent.append((self.address, mail["To"], mail["Subject"], mail.get_content().strip()))

    monkeypatch.setenv("METABIZ_SMTP_HOST", "mail.example.com")
    monkeypatch.setattr(notifications.smtplib, "SMTP", FakeSMTP)
    new(work, "ticket", "sam", subject="Flood", priority="urgent")
    assert jobs() == 4  # the notification job, then one e-mail per support user
    assert sorted(sent) == [
        (("mail.example.com", 25), f"{user}@example.com", "Urgent: Flood",
         "Urgent ticket Flood from sam") for user in ("sam", "tina", "uma")]
