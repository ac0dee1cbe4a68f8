"""Creating one record gives what the general path gives, on SQLite and PostgreSQL.

`records.create` inserts its one row without a savepoint and answers with the record it
prepared, reading it back only when a write listener changed records (automation, roll-ups
of records it created). Here its answer is compared with the record read back and with a
batch's, and the cases that must read back (a listener updating the record, setting its
owner, adding a detail record that rolls up into it), refusals (validation, uniqueness
found by the check or only by the database) and the API's POST are checked, each leaving
nothing written when refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from metabiz.errors import ConflictError, ValidationError
from metabiz.objects import records
from metabiz.objects.context import Context, Listener, WriteEvent

INPUTS = [
    {"name": "Full", "amount": "1250.50", "probability": 40, "discount": 2.5,
     "stage": "negotiation", "close_date": "2026-03-31", "code": "F-1",
     "contact_email": "a@example.com"},
    {"name": "Defaults only"},  # stage, probability by default; formulas on defaults
    {"name": "Blanks", "amount": None, "code": None, "contact_email": None, "stage": None},
    {"name": "Owned", "owner": "alice", "amount": 3},  # the general reading
    {"name": "Won", "stage": "closed_won", "close_date": "2026-01-02", "amount": "0.005"},
]


@pytest.fixture
def listening(work) -> Callable[..., Any]:
    """`with listening(listener) as ctx:` — a committed unit of work whose writes call it."""

    @contextmanager
    def unit(*listeners: Listener) -> Iterator[Context]:
        with work() as base:
            yield Context(base.conn, base.schema, base.actor, listeners=listeners)

    return unit


def call(client: Any, method: str, path: str, body: Any = None) -> Any:
    if body is None:
        return client.open(f"/api/v1{path}", method=method)
    return client.open(f"/api/v1{path}", method=method, data=json.dumps(body),
                       content_type="application/json")


def _count(work: Any, object_name: str = "opportunity") -> int:
    with work() as ctx:
        table = ctx.schema.object(object_name).table
        return int(ctx.conn.execute(select(func.count()).select_from(table)).scalar_one())


def _account(work: Any) -> dict[str, Any]:
    with work() as ctx:
        return records.create(ctx, "account", {"name": "Acme", "industry": "tech"})


def test_the_answer_is_the_stored_record_with_a_listener_that_writes_nothing(work, listening):
    account = _account(work)
    seen: list[WriteEvent] = []
    made = []
    for data in INPUTS:
        with listening(lambda _ctx, event: seen.append(event)) as ctx:
            made.append(records.create(ctx, "opportunity", {**data, "account": account["id"]}))
    with work() as ctx:
        for record in made:
            assert records.get(ctx, "opportunity", record["id"]) == record
        batch = records.create_many(ctx, "opportunity", [
            {**data, "account": account["id"], "code": data.get("code") and "B-1"}
            for data in INPUTS])
    varying = {"id", "number", "code", "created_at", "updated_at"}
    assert [{k: v for k, v in r.items() if k not in varying} for r in made] == \
        [{k: v for k, v in r.items() if k not in varying} for r in batch]
    assert [e.record_id for e in seen] == [r["id"] for r in made]
    assert [r["number"] for r in made] == [f"OPP-{i:04d}" for i in range(1, 6)]
    assert made[0]["weighted_amount"] == 500.2 and made[0]["account_industry"] == "tech"
    assert made[1]["stage"] == "prospecting" and made[1]["probability"] == 10
    assert made[3]["owner"] == "alice" and made[4]["amount"] == 0.01
    with work() as ctx:  # the parent's roll-ups count the new records
        rolled = records.get(ctx, "account", account["id"])
    assert rolled["deal_count"] == 10


def test_a_listener_that_changes_the_new_record_is_in_the_answer(work, listening):
    def raise_stage(ctx: Context, event: WriteEvent) -> None:
        if event.kind == "created" and event.object == "opportunity":
            records.update(ctx, "opportunity", event.record_id, {"stage": "negotiation"})

    with listening(raise_stage) as ctx:
        made = records.create(ctx, "opportunity", {"name": "Raised", "amount": 5})
    assert (made["stage"], made["version"]) == ("negotiation", 2)
    with work() as ctx:
        assert records.get(ctx, "opportunity", made["id"]) == made
        assert [(h["field"], h["new"]) for h in
                records.history(ctx, "opportunity", made["id"])] == [("stage", "negotiation")]


def test_a_listener_setting_the_owner_is_in_the_answer(work, listening):
    def assign(ctx: Context, event: WriteEvent) -> None:
        if event.kind == "created":
            records.set_system(ctx, event.object, event.record_id, owner="bob")

    with listening(assign) as ctx:
        made = records.create(ctx, "opportunity", {"name": "Assigned"})
    assert made["owner"] == "bob" and made["version"] == 2


def test_a_detail_record_added_by_a_listener_rolls_up_into_the_answer(work, listening):
    def add_line(ctx: Context, event: WriteEvent) -> None:
        if event.kind == "created" and event.object == "opportunity":
            records.create(ctx, "line_item", {"product": "Setup", "quantity": 2,
                                              "unit_price": "12.50",
                                              "opportunity": event.record_id})

    with listening(add_line) as ctx:
        made = records.create(ctx, "opportunity", {"name": "With a line"})
    assert made["line_total"] == 25
    with work() as ctx:
        assert records.get(ctx, "opportunity", made["id"]) == made


def test_a_refused_record_leaves_nothing_written(work, listening):
    seen: list[WriteEvent] = []
    with listening(lambda _ctx, event: seen.append(event)) as ctx, \
            pytest.raises(ValidationError) as caught:
        records.create(ctx, "opportunity", {"name": "Negative", "amount": "-1",
                                            "contact_email": "nope"})
    assert caught.value.fields == {"amount": ["Amount cannot be negative"],
                                   "contact_email": ["Not a valid email address."]}
    with work() as ctx, pytest.raises(ValidationError) as batch:
        records.create_many(ctx, "opportunity", [{"name": "Negative", "amount": "-1",
                                                  "contact_email": "nope"}])
    assert batch.value.fields == caught.value.fields and batch.value.message == \
        caught.value.message
    assert seen == [] and _count(work) == 0
    with work() as ctx:  # no number was used up
        assert records.create(ctx, "opportunity", {"name": "After"})["number"] == "OPP-0001"


def test_a_taken_unique_value_is_refused_before_and_by_the_database(work, monkeypatch):
    with work() as ctx:
        records.create(ctx, "opportunity", {"name": "First", "code": "SAME"})
    with work() as ctx, pytest.raises(ConflictError) as checked:
        records.create(ctx, "opportunity", {"name": "Second", "code": "SAME"})
    assert checked.value.fields == {
        "code": ["'SAME' is already used by another opportunity record"]}
    # a concurrent writer winning the race: only the unique index sees it
    monkeypatch.setattr(records, "_unique_conflicts", lambda *_args: {})
    with pytest.raises(ConflictError) as raced, work() as ctx:
        records.create(ctx, "opportunity", {"name": "Racing", "code": "SAME"})
    assert "conflicts with another one" in raced.value.message
    assert _count(work) == 1


def test_the_api_creates_one_record_as_it_reads_it_back(api_client, monkeypatch):
    created = call(api_client, "POST", "/records/opportunity", body={
        "name": "Posted", "amount": "10.5", "probability": 50, "code": "P-1"})
    assert created.status_code == 201
    record = created.get_json()
    assert call(api_client, "GET", f"/records/opportunity/{record['id']}").get_json() == record
    assert record["weighted_amount"] == 5.25 and record["owner"] == "admin"
    refused = call(api_client, "POST", "/records/opportunity", body={"name": "Bad", "amount": -1})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"amount": ["Amount cannot be negative"]}
    taken = call(api_client, "POST", "/records/opportunity", body={"name": "Again", "code": "P-1"})
    assert taken.status_code == 409
    monkeypatch.setattr(records, "_unique_conflicts", lambda *_args: {})
    raced = call(api_client, "POST", "/records/opportunity", body={"name": "Race", "code": "P-1"})
    assert raced.status_code == 409 and raced.get_json()["error"]["code"] == "conflict"
    # the request after a refusal works on the same connections, and only one was written
    listed = call(api_client, "GET", "/records/opportunity").get_json()
    assert [r["name"] for r in listed["records"]] == ["Posted"]
    follow = call(api_client, "POST", "/records/opportunity", body={"name": "Next"})
    assert follow.status_code == 201 and follow.get_json()["number"] == "OPP-0002"
