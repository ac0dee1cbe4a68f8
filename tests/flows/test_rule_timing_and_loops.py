"""Before-save rules (they set the record's own fields inside the write, before its
validation rules) and repeated `create` actions (`count` and `loop_index`)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from metabiz.errors import MetadataError, ValidationError
from metabiz.objects import records
from metabiz.objects.evolution import apply_path

LEASE = {"api_name": "lease", "label": "Lease", "name_field": "name", "fields": [
    {"api_name": "name", "type": "text", "required": True},
    {"api_name": "start", "type": "date"},
    {"api_name": "months", "type": "number"},
    {"api_name": "rent", "type": "currency"},
    {"api_name": "yearly", "type": "formula", "return_type": "currency",
     "formula": "rent * 12"},
    {"api_name": "band", "type": "text"}]}
PAYMENT = {"api_name": "payment", "label": "Payment", "name_field": "label", "fields": [
    {"api_name": "label", "type": "text"},
    {"api_name": "lease", "type": "master_detail", "target": "lease"},
    {"api_name": "due", "type": "date"},
    {"api_name": "amount", "type": "currency"},
    {"api_name": "paid", "type": "boolean"},
    {"api_name": "paid_on", "type": "date"}],
    "validation_rules": [{"api_name": "paid_needs_date",
                          "error_condition": "paid && ISBLANK(paid_on)",
                          "message": "A paid payment needs its date", "field": "paid_on"}]}
FLOWS = {
    "stamp_paid": {"api_name": "stamp_paid", "kind": "automation", "object": "payment",
                   "timing": "before_save", "trigger": {"field_changed": ["paid"]},
                   "condition": "paid && ISBLANK(paid_on)",
                   "actions": [{"update": {"paid_on": "TODAY()"}}]},
    "band_lease": {"api_name": "band_lease", "kind": "automation", "object": "lease",
                   "timing": "before_save", "trigger": "updated",
                   "actions": [{"update": {"band": "IF(yearly > 10000, \"high\", \"low\")"}}]},
    "band_new_lease": {"api_name": "band_new_lease", "kind": "automation", "object": "lease",
                       "timing": "before_save", "trigger": "created",
                       "actions": [{"update": {"band": "IF(yearly > 10000, \"high\", \"low\")"}}]},
    "payment_plan": {"api_name": "payment_plan", "kind": "automation", "object": "lease",
                     "trigger": "created",
                     "actions": [{"create": {
                         "object": "payment", "count": "months",
                         "values": {"lease": "id", "amount": "rent",
                                    "label": "name & \" #\" & TEXT(loop_index)",
                                    "due": "ADDMONTHS(start, loop_index - 1)"}}}]},
}


@pytest.fixture
def app_dir(app_dir):
    for name, doc in (("lease", LEASE), ("payment", PAYMENT)):
        (app_dir / "objects" / f"{name}.json").write_text(json.dumps(doc))
    for name, doc in FLOWS.items():
        (app_dir / "flows" / f"{name}.json").write_text(json.dumps(doc))
    role_file = app_dir / "roles" / "sales_rep.json"
    role = json.loads(role_file.read_text())
    role["objects"].update(lease=["read", "create", "edit"],
                           payment=["read", "create", "edit"])
    role_file.write_text(json.dumps(role))
    return app_dir


def payments(work, lease_id):
    with work() as ctx:
        table = ctx.schema.object("payment").table
        rows = ctx.conn.execute(select(table).where(table.c.lease == lease_id)
                                .order_by(table.c.due)).mappings().all()
        return [dict(r) for r in rows]


def test_a_before_save_rule_meets_a_validation_rule_automation_could_not(work):
    with work("alice") as ctx:
        lease = records.create(ctx, "lease", {"name": "Flat 1", "months": 0, "rent": 100})
        payment = records.create(ctx, "payment", {"lease": lease["id"], "amount": 100})
    now = dt.datetime(2031, 3, 4, 10, tzinfo=dt.UTC)
    with work("alice", now=now) as ctx:
        paid = records.update(ctx, "payment", payment["id"], {"paid": True})
    assert paid["paid_on"] == "2031-03-04"
    assert paid["version"] == 2  # one write: the stamp is part of it
    with work("alice") as ctx:
        changes = records.history(ctx, "payment", payment["id"])
    assert {c["field"] for c in changes} == {"paid", "paid_on"}
    assert {c["by"] for c in changes} == {"alice"}


def test_before_save_rules_see_formula_fields_and_run_on_create_and_update(work):
    with work("alice") as ctx:
        lease = records.create(ctx, "lease", {"name": "Villa", "months": 0, "rent": 2000})
        assert lease["band"] == "high"
        cheaper = records.update(ctx, "lease", lease["id"], {"rent": 500})
    assert cheaper["band"] == "low" and cheaper["yearly"] == 6000


def test_a_before_save_error_and_the_input_errors_come_in_one_422(work):
    with work("alice") as ctx:
        lease = records.create(ctx, "lease", {"name": "Flat 2", "months": 0})
    with work("alice") as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "payment", {"lease": lease["id"], "paid": True,
                                        "paid_on": "not a date", "amount": "x"})
    assert set(caught.value.fields) == {"paid_on", "amount"}


def test_a_repeated_create_makes_one_record_per_month(work):
    with work("alice") as ctx:
        short = records.create(ctx, "lease", {"name": "Short", "months": 6, "rent": 900,
                                              "start": "2031-01-31"})
        long = records.create(ctx, "lease", {"name": "Long", "months": 24, "rent": 800,
                                             "start": "2031-02-01"})
    six = payments(work, short["id"])
    assert len(six) == 6 and len(payments(work, long["id"])) == 24
    assert [p["due"].isoformat() if hasattr(p["due"], "isoformat") else p["due"]
            for p in six[:3]] == ["2031-01-31", "2031-02-28", "2031-03-31"]
    assert [p["label"] for p in six] == [f"Short #{i}" for i in range(1, 7)]
    assert {p["owner"] for p in six} == {"alice"}


@pytest.mark.parametrize("months", [1001, -1])
def test_a_count_out_of_range_refuses_the_whole_write(work, months):
    with pytest.raises(ValidationError) as caught, work("alice") as ctx:
        records.create(ctx, "lease", {"name": "Huge", "months": months, "rent": 1})
    assert "0 to 1,000" in caught.value.message
    with work() as ctx:
        table = ctx.schema.object("lease").table
        assert ctx.conn.execute(select(table)).first() is None


def test_a_blank_count_creates_nothing(work):
    with work("alice") as ctx:
        lease = records.create(ctx, "lease", {"name": "Open-ended", "rent": 1})
    assert payments(work, lease["id"]) == []


def test_apply_refuses_a_before_save_rule_with_other_actions(flowapp, app_dir, extensions):
    rule = {"api_name": "bad_before", "kind": "automation", "object": "lease",
            "timing": "before_save", "trigger": {"after_date": {"field": "start", "days": 1}},
            "actions": [{"update": {"band": "\"x\""}},
                        {"create": {"object": "payment", "values": {"lease": "id"}}}]}
    (app_dir / "flows" / "bad_before.json").write_text(json.dumps(rule))
    with pytest.raises(MetadataError) as caught:
        apply_path(flowapp, app_dir, extensions=extensions)
    problems = "\n".join(caught.value.problems)
    assert "flows/bad_before.json: /trigger: a before-save rule runs on" in problems
    assert "flows/bad_before.json: /actions/1/create: a before-save rule may only update" \
        in problems


def test_loop_index_is_unknown_outside_a_repeated_create(flowapp, app_dir, extensions):
    rule = {"api_name": "no_loop", "kind": "automation", "object": "lease",
            "trigger": "created",
            "actions": [{"create": {"object": "payment",
                                    "values": {"lease": "id", "label": "TEXT(loop_index)"}}}]}
    (app_dir / "flows" / "no_loop.json").write_text(json.dumps(rule))
    with pytest.raises(MetadataError) as caught:
        apply_path(flowapp, app_dir, extensions=extensions)
    assert any("/actions/0/create/values/label" in p and "loop_index" in p
               for p in caught.value.problems)
