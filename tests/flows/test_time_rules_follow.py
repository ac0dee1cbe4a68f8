"""A time-based rule whose date is a formula reading another record through a lookup: a
change of that record moves the job; a job whose date moved without any write of its own
record follows the date when it runs; localized notify texts with picklist labels."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from metabiz.app import build_runtime
from metabiz.flows import notifications
from metabiz.flows.store import jobs as job_table
from metabiz.objects import records
from metabiz.platform.db import users, writer


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def follow_app(app_dir):
    path = app_dir / "objects" / "task.json"
    task = json.loads(path.read_text())
    task["fields"].append({"api_name": "deadline", "type": "formula", "return_type": "date",
                           "formula": "opportunity.close_date - 2"})
    path.write_text(json.dumps(task))
    (app_dir / "flows" / "task_deadline.json").write_text(json.dumps({
        "api_name": "task_deadline", "kind": "automation", "object": "task",
        "trigger": {"before_date": {"field": "deadline", "days": 1}},
        "condition": "ISPICKVAL(status, \"open\")",
        "actions": [{"notify": {
            "to": [{"field": "owner"}],
            "subject": {"en": "\"Due soon: \" & subject", "zh": "\"即将到期：\" & subject"},
            "message": {"en": "subject & \" is \" & TEXT(status) & \", due \" & TEXT(deadline)",
                        "zh": "subject & \"（\" & TEXT(status) & \"）截止 \" & TEXT(deadline)"}}}]}))
    task_values = next(f for f in task["fields"] if f["api_name"] == "status")["values"]
    task_values[0]["label"] = {"en": "Open", "zh": "未完成"}
    path.write_text(json.dumps(task))
    return app_dir


def pending(flowapp):
    with flowapp.connect() as conn:
        return [r.run_at.isoformat() for r in conn.execute(
            select(job_table.c.run_at).where(job_table.c.kind == "time_rule",
                                             job_table.c.ref.like("task_deadline:%"),
                                             job_table.c.status == "pending"))]


def inbox(flowapp, user):
    with flowapp.connect() as conn:
        return [(n["subject"], n["message"]) for n in notifications.for_user(conn, user)
                if n["source"] == "automation task_deadline"]


def test_the_job_follows_a_date_read_through_a_lookup(follow_app, work, jobs, flowapp):
    with work("alice", now=at("2031-01-01T08:00:00")) as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Acme", "close_date": "2031-03-20"})
        records.create(ctx, "task", {"subject": "Send the quote", "opportunity": opp["id"]})
    assert pending(flowapp) == ["2031-03-17T00:00:00"]
    with work("alice", now=at("2031-01-02T08:00:00")) as ctx:  # the deal closes later
        records.update(ctx, "opportunity", opp["id"], {"close_date": "2031-04-10"})
    assert pending(flowapp) == ["2031-04-07T00:00:00"]
    assert jobs(now=at("2031-03-18T00:00:00")) == 0
    jobs(now=at("2031-04-07T00:00:00"))
    assert inbox(flowapp, "alice") == [("Due soon: Send the quote",
                                        "Send the quote is Open, due 2031-04-08")]


def test_a_job_whose_date_moved_behind_its_back_follows_it(follow_app, work, jobs, flowapp):
    with work("alice", now=at("2031-01-01T08:00:00")) as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Acme", "close_date": "2031-03-20"})
        records.create(ctx, "task", {"subject": "Send the quote", "opportunity": opp["id"]})
    with writer(flowapp).begin() as conn:  # a change no write listener saw (an import tool)
        table = build_runtime(flowapp).schema(conn).object("opportunity").table
        conn.execute(update(table).values(close_date=dt.date(2031, 5, 1)))
    jobs(now=at("2031-03-17T00:00:00"))  # the old time: nothing is sent, the job moves
    assert inbox(flowapp, "alice") == []
    assert pending(flowapp) == ["2031-04-28T00:00:00"]
    jobs(now=at("2031-04-28T00:00:00"))
    assert [s for s, _ in inbox(flowapp, "alice")] == ["Due soon: Send the quote"]


def test_each_reader_gets_their_language_and_labels(follow_app, work, jobs, flowapp):
    with writer(flowapp).begin() as conn:
        conn.execute(update(users).where(users.c.name == "alice").values(language="zh"))
    with work("alice", now=at("2031-01-01T08:00:00")) as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Acme", "close_date": "2031-03-20"})
        records.create(ctx, "task", {"subject": "发送报价", "opportunity": opp["id"]})
    jobs(now=at("2031-03-17T00:00:00"))
    assert inbox(flowapp, "alice") == [("即将到期：发送报价", "发送报价（未完成）截止 2031-03-18")]
