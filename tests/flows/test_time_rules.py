"""Time-based rules with an injected clock: scheduled on write, rescheduled when the date
moves, cancelled on delete, run by the worker only if the condition still holds."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from metabiz.errors import NotFound
from metabiz.flows import notifications
from metabiz.flows.store import jobs as job_table
from metabiz.objects import records


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def create(work, object_name, user="admin", **values):
    with work(user, now=at("2031-01-01T08:00:00")) as ctx:
        return records.create(ctx, object_name, values)


def change(work, object_name, record_id, **values):
    with work(now=at("2031-01-02T08:00:00")) as ctx:
        return records.update(ctx, object_name, record_id, values)


def get(work, object_name, record_id):
    with work() as ctx:
        return records.get(ctx, object_name, record_id)


def scheduled(flowapp, rule):
    with flowapp.connect() as conn:
        rows = conn.execute(select(job_table.c.status, job_table.c.run_at)
                            .where(job_table.c.kind == "time_rule",
                                   job_table.c.ref.like(f"{rule}:%"))
                            .order_by(job_table.c.id)).all()
    return [(r.status, r.run_at.isoformat()) for r in rows]


def messages(flowapp, user):
    with flowapp.connect() as conn:
        return [n["message"] for n in notifications.for_user(conn, user)]


def test_before_date_runs_when_due(work, jobs, flowapp):
    create(work, "opportunity", "alice", name="Acme", close_date="2031-03-20")
    assert scheduled(flowapp, "close_reminder") == [("pending", "2031-03-13T00:00:00")]
    assert jobs(now=at("2031-03-12T23:59:59")) == 0
    # the rule's job, then the notification it enqueued
    assert jobs(now=at("2031-03-13T00:00:00")) == 2
    assert messages(flowapp, "alice") == ["Acme closes on 2031-03-20"]
    assert scheduled(flowapp, "close_reminder") == [("done", "2031-03-13T00:00:00")]
    assert jobs(now=at("2031-04-01T00:00:00")) == 0


def test_rescheduled_when_the_date_moves_and_back(work, jobs, flowapp):
    opp = create(work, "opportunity", "alice", name="Acme", close_date="2031-03-20")
    change(work, "opportunity", opp["id"], close_date="2031-04-10")
    assert scheduled(flowapp, "close_reminder") == [
        ("cancelled", "2031-03-13T00:00:00"), ("pending", "2031-04-03T00:00:00")]
    assert jobs(now=at("2031-03-14T00:00:00")) == 0
    change(work, "opportunity", opp["id"], close_date="2031-03-20")
    assert scheduled(flowapp, "close_reminder") == [
        ("pending", "2031-03-13T00:00:00"), ("cancelled", "2031-04-03T00:00:00")]
    change(work, "opportunity", opp["id"], close_date=None)
    assert [s for s, _ in scheduled(flowapp, "close_reminder")] == ["cancelled", "cancelled"]


def test_condition_is_checked_again_when_due(work, jobs, flowapp):
    opp = create(work, "opportunity", "alice", name="Acme", close_date="2031-03-20")
    change(work, "opportunity", opp["id"], stage="closed_won")
    # won_followup's notification and the reminder, which finds the deal won
    assert jobs(now=at("2031-03-13T01:00:00")) == 2
    assert messages(flowapp, "alice") == ["Acme was won"]  # only won_followup's


def test_cancelled_on_delete(work, jobs, flowapp):
    opp = create(work, "opportunity", "alice", name="Acme", close_date="2031-03-20")
    with work() as ctx:
        records.delete(ctx, "opportunity", opp["id"])
    assert scheduled(flowapp, "close_reminder") == [("cancelled", "2031-03-13T00:00:00")]
    assert jobs(now=at("2031-03-14T00:00:00")) == 0


def test_no_follow_up_sends_the_lead_back_to_the_pool(work, jobs, flowapp):
    lead = create(work, "lead", "alice", name="Quiet", region="south",
                  last_follow_up="2031-01-01")
    assert lead["owner"] == "alice"
    # a follow-up on the 2nd moves the deadline to the 5th
    change(work, "lead", lead["id"], last_follow_up="2031-01-02")
    assert jobs(now=at("2031-01-04T12:00:00")) == 0
    assert jobs(now=at("2031-01-05T00:00:00")) == 2
    pooled = get(work, "lead", lead["id"])
    assert pooled["owner"] is None and pooled["in_pool"] is True
    assert pooled["previous_owner"] == "alice"
    assert messages(flowapp, "alice") == ["Lead Quiet went back to the pool"]
    with work() as ctx:
        history = records.history(ctx, "lead", lead["id"])
    assert {"field": "owner", "old": "alice", "new": None} in [
        {k: h[k] for k in ("field", "old", "new")} for h in history]
    # alice no longer sees it (record access "own"); a manager with "all" does
    with work("alice") as ctx, pytest.raises(NotFound):
        records.get(ctx, "lead", lead["id"])
    with work("bob") as ctx:
        assert records.get(ctx, "lead", lead["id"])["in_pool"] is True


def test_datetime_field_with_fractional_days(work, jobs, flowapp):
    ticket = create(work, "ticket", "sam", subject="SLA", sla_due="2031-02-01T12:00:00Z")
    assert scheduled(flowapp, "ticket_sla") == [("pending", "2031-02-01T00:00:00")]
    assert jobs(now=at("2031-01-31T23:59:00")) == 0
    assert jobs(now=at("2031-02-01T00:00:00")) == 1
    assert get(work, "ticket", ticket["id"])["priority"] == "urgent"


def test_a_late_worker_skips_a_reminder_whose_date_has_come(work, jobs, flowapp):
    create(work, "opportunity", "alice", name="Acme", close_date="2031-03-20")
    # the worker was down from before the reminder until after the close date itself
    jobs(now=at("2031-03-21T00:00:00"))
    assert messages(flowapp, "alice") == []
    assert scheduled(flowapp, "close_reminder") == [("done", "2031-03-13T00:00:00")]


def test_a_reminder_between_its_time_and_its_date_still_runs(work, jobs, flowapp):
    create(work, "opportunity", "alice", name="Acme", close_date="2031-03-20")
    jobs(now=at("2031-03-19T00:00:00"))  # late, but the date has not come yet
    assert messages(flowapp, "alice") == ["Acme closes on 2031-03-20"]
