"""The record service's batch path gives what creating records one by one gives.

`create_many` reads plain input through per-object write plans and inserts a batch with one
executemany (SQLite: ids derived under the write lock; PostgreSQL: ids drawn from the
sequence); here its records, ids, roll-ups, history, listeners and errors are compared with
`create` called row by row and with the general input path, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metabiz.errors import ValidationError
from metabiz.objects import records
from metabiz.objects.context import Context, WriteEvent
from metabiz.objects.fields.email import _EVERYDAY, _FORMAT

#: system values that differ between two creations of the same input
VARYING = {"id", "number", "created_at", "updated_at"}


def _rows(account: int, tag: str) -> list[dict[str, Any]]:
    """Input as an import or the API gives it: every type the object has, some left out
    (defaults), numbers as text, int, float and Decimal."""
    return [
        {"name": f"{tag} plain", "account": account, "amount": "1250.50", "code": f"{tag}1",
         "stage": "negotiation", "close_date": "2026-03-31", "contact_email": "a@example.com"},
        {"name": f"{tag} defaults", "amount": 99},  # stage and probability by default
        {"name": f"{tag} float", "amount": 12.345, "discount": 7.5, "account": account},
        {"name": f"{tag} decimal", "amount": Decimal("0.005"), "probability": Decimal("55")},
        {"name": f"{tag} blanks", "amount": None, "code": None, "stage": None,
         "contact_email": None, "close_date": None},
        {"name": f"{tag} won", "stage": "closed_won", "close_date": "2026-01-02",
         "amount": "0", "account": account},
    ]


def _without_varying(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k not in VARYING}
    out["account"] = out["account"] is not None  # each side has its own account
    out["name"] = out["name"].split(" ", 1)[1]  # the tag differs
    if out.get("code"):
        out["code"] = out["code"][-1]
    return out


def _account(work: Any, name: str) -> dict[str, Any]:
    with work() as ctx:
        return records.create(ctx, "account", {"name": name, "industry": "tech"})


def test_a_batch_gives_the_records_and_roll_ups_one_by_one_creation_gives(work):
    one, many = _account(work, "One by one"), _account(work, "Batched")
    with work() as ctx:
        singles = [records.create(ctx, "opportunity", row) for row in _rows(one["id"], "s")]
    with work() as ctx:
        made = records.create_many(ctx, "opportunity", _rows(many["id"], "b"))
    assert [_without_varying(r) for r in made] == [_without_varying(r) for r in singles]
    # the ids: new, ascending in input order, each the record read back by that id
    assert [r["id"] for r in made] == sorted(r["id"] for r in made)
    assert made[0]["id"] > singles[-1]["id"]
    with work() as ctx:
        for record in made:
            assert records.get(ctx, "opportunity", record["id"]) == record
        assert str(made[3]["amount"]) == str(singles[3]["amount"]) == "0.01"  # half up
        assert str(made[2]["amount"]) == "12.35" and made[1]["stage"] == "prospecting"
        rolled = [records.get(ctx, "account", a["id"]) for a in (one, many)]
    assert [(a["deal_count"], a["open_amount"]) for a in rolled] == [
        (3, rolled[0]["open_amount"]), (3, rolled[0]["open_amount"])]


def test_plain_and_general_input_give_the_same_record_in_one_batch(work):
    """A row with an owner (or anything unusual) takes the general reading: mixed with plain
    rows, every record still gets its own values and its id in input order."""
    acme = _account(work, "Acme")
    with work() as ctx:
        made = records.create_many(ctx, "opportunity", [
            {"name": "plain", "account": acme["id"], "amount": "10"},
            {"name": "owned", "account": acme["id"], "amount": "10", "owner": "admin"},
            {"name": "grouped", "account": acme["id"], "amount": "10.0"},
        ])
    assert [r["name"] for r in made] == ["plain", "owned", "grouped"]
    assert [r["id"] for r in made] == list(range(made[0]["id"], made[0]["id"] + 3))
    same = [{k: v for k, v in r.items() if k not in VARYING | {"name"}} for r in made]
    assert same[0] == same[1] == same[2] and made[0]["owner"] == "admin"


def test_history_starts_with_the_first_change_whichever_path_created_the_record(work):
    with work() as ctx:
        single = records.create(ctx, "opportunity", {"name": "single", "amount": "5"})
        batch = records.create_many(ctx, "opportunity", [{"name": "batch", "amount": "5"},
                                                         {"name": "other", "amount": "6"}])
    with work() as ctx:
        assert records.history(ctx, "opportunity", single["id"]) == []
        assert records.history(ctx, "opportunity", batch[0]["id"]) == []
        for record in (single, batch[0]):
            records.update(ctx, "opportunity", record["id"], {"amount": "7"})
        changes = [[(h["field"], h["old"], h["new"]) for h in
                    records.history(ctx, "opportunity", r["id"])] for r in (single, batch[0])]
    assert changes[0] == changes[1] == [("amount", 5, 7)]


def test_listeners_see_each_created_record_with_its_id(work, sales):
    seen: list[WriteEvent] = []
    with work() as base:
        ctx = Context(base.conn, base.schema, base.actor,
                      listeners=(lambda _, event: seen.append(event),))
        made = records.create_many(ctx, "opportunity", [{"name": f"n{i}", "amount": i}
                                                        for i in range(4)], returning=False)
    assert [e.kind for e in seen] == ["created"] * 4
    assert [e.record_id for e in seen] == [r["id"] for r in made]
    assert [e.after["name"] for e in seen if e.after] == ["n0", "n1", "n2", "n3"]


def test_ids_are_never_reused_after_the_newest_records_are_deleted(work):
    with work() as ctx:
        first = records.create_many(ctx, "opportunity", [{"name": f"a{i}"} for i in range(3)])
        for record in first[1:]:
            records.delete(ctx, "opportunity", record["id"])
    with work() as ctx:
        again = records.create_many(ctx, "opportunity", [{"name": f"b{i}"} for i in range(3)])
    assert again[0]["id"] > first[-1]["id"]
    assert [r["id"] for r in again] == list(range(again[0]["id"], again[0]["id"] + 3))


def test_bad_rows_are_named_the_same_on_the_quick_and_the_general_path(work):
    with work() as ctx, pytest.raises(ValidationError) as caught:
        records.create_many(ctx, "opportunity", [
            {"name": "fine", "amount": "1"},
            {"name": "negative", "amount": "-5"},  # the validation rule
            {"name": "mail", "contact_email": "not-an-address"},  # marshmallow's message
            {"name": "won", "stage": "closed_won", "owner": "admin"},  # general path, rule
            {"name": "x" * 121},  # too long: marshmallow's message
        ])
    assert caught.value.fields == {
        "[1].amount": ["Amount cannot be negative"],
        "[2].contact_email": ["Not a valid email address."],
        "[3]._record": ["A won deal needs a close date"],
        "[4].name": ["Longer than maximum length 120."],
    }
    with work() as ctx:  # nothing was written
        assert records.create_many(ctx, "opportunity", [{"name": "after"}])[0]["number"] \
            == "OPP-0001"


@given(st.emails() | st.from_regex(r"[a-z.+_-]{1,8}@[a-z0-9.-]{1,12}\.[a-z]{1,8}",
                                   fullmatch=True))
@settings(max_examples=300, deadline=None)
def test_every_address_the_quick_path_accepts_marshmallow_accepts(address: str) -> None:
    """The e-mail field's quick check is a subset of marshmallow's: an address it lets
    through is one marshmallow takes, so plain input never skips a refusal."""
    if _EVERYDAY.fullmatch(address):
        assert _FORMAT(address) == address
