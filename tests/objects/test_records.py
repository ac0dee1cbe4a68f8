"""The record service on SQLite and PostgreSQL: what a user saving records notices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from metabiz.errors import ConflictError, NotFound, PermissionDenied, RecordLocked, ValidationError
from metabiz.objects import query, records
from metabiz.platform.db import field_history


def make_account(work, name="Acme", user="admin", **extra):
    with work(user) as ctx:
        return records.create(ctx, "account", {"name": name, **extra})


def test_create_fills_defaults_formulas_auto_numbers_and_system_fields(work):
    acme = make_account(work, industry="tech", owner="alice")
    with work("alice") as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Big deal", "account": acme["id"],
                                                  "amount": "1000.005", "probability": 25})
    assert opp["stage"] == "prospecting"  # default formula
    assert opp["amount"] == 1000.01  # currency scale 2, half away from zero
    assert opp["weighted_amount"] == 250  # formula field computed on write
    assert opp["account_industry"] == "tech"  # dotted reference through the lookup
    assert opp["number"] == "OPP-0001"
    assert opp["owner"] == "alice" and opp["created_by"] == "alice"
    assert opp["version"] == 1 and opp["approval_status"] == "none"
    assert opp["created_at"].endswith("Z")
    with work("alice") as ctx:
        second = records.create(ctx, "opportunity", {"name": "Second"})
    assert second["number"] == "OPP-0002"
    assert second["probability"] == 10  # default when not given


def test_every_field_error_is_reported_at_once(work):
    with work() as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "opportunity", {
            "amount": "lots", "stage": "lost", "contact_email": "not-an-email",
            "account": 999, "unknown": 1, "weighted_amount": 3})
    fields = caught.value.fields
    assert caught.value.status == 422
    assert {"amount", "stage", "contact_email", "unknown", "weighted_amount"} <= set(fields)
    assert "read-only" in fields["weighted_amount"][0]
    with work() as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "opportunity", {"account": 999})
    assert caught.value.fields == {"name": ["required"],
                                   "account": ["no account record with id 999"]}


def test_validation_rules_report_on_their_field_or_the_record(work):
    with work() as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "opportunity", {"name": "X", "amount": -5, "stage": "closed_won"})
    assert caught.value.fields == {"amount": ["Amount cannot be negative"],
                                   "_record": ["A won deal needs a close date"]}
    with work() as ctx:  # nothing was written
        assert query.list_records(ctx, "opportunity").total == 0


def test_unique_values_and_stale_versions_conflict(work):
    with work() as ctx:
        first = records.create(ctx, "opportunity", {"name": "A", "code": "X1"})
    with work() as ctx, pytest.raises(ConflictError) as caught:
        records.create(ctx, "opportunity", {"name": "B", "code": "X1"})
    assert caught.value.status == 409 and "code" in caught.value.fields
    with work() as ctx:
        updated = records.update(ctx, "opportunity", first["id"], {"name": "A2", "version": 1})
    assert updated["version"] == 2 and updated["name"] == "A2"
    with work() as ctx, pytest.raises(ConflictError):
        records.update(ctx, "opportunity", first["id"], {"name": "A3", "version": 1})
    with work() as ctx:
        assert records.get(ctx, "opportunity", first["id"])["name"] == "A2"


def test_history_records_who_changed_what(work):
    with work("alice") as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Deal", "amount": 10})
    with work("alice") as ctx:
        records.update(ctx, "opportunity", opp["id"], {"amount": 20, "stage": "negotiation"})
        records.update(ctx, "opportunity", opp["id"], {"amount": 20})  # no change, no entry
    with work("alice") as ctx:
        changes = records.history(ctx, "opportunity", opp["id"])
    assert [(c["field"], c["old"], c["new"], c["by"]) for c in changes] == [
        ("amount", 10, 20, "alice"),
        ("stage", "prospecting", "negotiation", "alice")]


def test_rollups_follow_creates_updates_reparenting_and_deletes(work):
    acme = make_account(work, "Acme")
    other = make_account(work, "Other")
    with work() as ctx:
        a = records.create(ctx, "opportunity", {"name": "A", "account": acme["id"],
                                                "amount": "100.10"})
        records.create(ctx, "opportunity", {"name": "B", "account": acme["id"], "amount": 50,
                                            "stage": "closed_won", "close_date": "2026-01-01"})
    with work() as ctx:
        got = records.get(ctx, "account", acme["id"])
    assert (got["open_amount"], got["deal_count"]) == (100.1, 2)
    with work() as ctx:
        records.update(ctx, "opportunity", a["id"], {"account": other["id"]})
    with work() as ctx:
        assert records.get(ctx, "account", acme["id"])["open_amount"] == 0
        assert records.get(ctx, "account", other["id"])["open_amount"] == 100.1
    with work() as ctx:
        records.delete(ctx, "opportunity", a["id"])
    with work() as ctx:
        assert records.get(ctx, "account", other["id"])["deal_count"] == 0


def test_delete_rules_restrict_and_master_detail_cascade(work):
    acme = make_account(work)
    with work() as ctx:
        opp = records.create(ctx, "opportunity", {"name": "A", "account": acme["id"]})
        line = records.create(ctx, "line_item", {"product": "Widget", "opportunity": opp["id"],
                                                 "quantity": 2, "unit_price": "9.99"})
    with work() as ctx:
        assert records.get(ctx, "opportunity", opp["id"])["line_total"] == 19.98
    with work() as ctx, pytest.raises(ConflictError) as caught:
        records.delete(ctx, "account", acme["id"])
    assert "opportunity" in caught.value.message
    with work() as ctx:
        records.delete(ctx, "opportunity", opp["id"])
    with work() as ctx:
        with pytest.raises(NotFound):
            records.get(ctx, "line_item", line["id"])
        records.delete(ctx, "account", acme["id"])


def test_roles_limit_rights_records_and_fields(work):
    acme = make_account(work, credit_limit=5000, owner="alice")
    with work("alice") as ctx:
        mine = records.create(ctx, "opportunity", {"name": "Alice's"})
        with pytest.raises(PermissionDenied):
            records.create(ctx, "account", {"name": "Nope"})
        with pytest.raises(PermissionDenied) as caught:
            records.update(ctx, "opportunity", mine["id"], {"discount": 5})
        assert caught.value.fields == {"discount": ["read-only for your role"]}
        assert "credit_limit" not in records.get(ctx, "account", acme["id"])
        with pytest.raises(PermissionDenied):
            records.delete(ctx, "opportunity", mine["id"])
    with work("eve") as ctx:  # not alice's manager: cannot see her records
        with pytest.raises(NotFound):
            records.get(ctx, "opportunity", mine["id"])
        assert query.list_records(ctx, "opportunity").total == 0
    with work("bob") as ctx:  # alice reports to bob
        assert records.get(ctx, "opportunity", mine["id"])["name"] == "Alice's"


def test_locked_records_refuse_edits_except_for_admins(work):
    with work("alice") as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Locked"})
    with work() as ctx:
        records.set_system(ctx, "opportunity", opp["id"], locked=True,
                           approval_status="pending")
    with work("alice") as ctx, pytest.raises(RecordLocked) as caught:
        records.update(ctx, "opportunity", opp["id"], {"name": "Changed"})
    assert caught.value.code == "record_locked" and caught.value.status == 409
    with work() as ctx:
        assert records.update(ctx, "opportunity", opp["id"], {"name": "Admin"})["name"] == "Admin"


def test_batch_create_is_all_or_nothing_and_names_the_rows(work):
    acme = make_account(work)
    with work() as ctx, pytest.raises(ValidationError) as caught:
        records.create_many(ctx, "opportunity", [
            {"name": "ok", "account": acme["id"]}, {"amount": "x"}, {"name": "bad ref",
                                                                     "account": 999}])
    # every bad row at once: the type error, the missing name and the unknown reference
    assert caught.value.fields == {"[1].amount": ["Not a valid number."], "[1].name": ["required"],
                                   "[2].account": ["no account record with id 999"]}
    with work() as ctx, pytest.raises(ConflictError) as caught:
        records.create_many(ctx, "opportunity", [{"name": "a", "code": "K"},
                                                 {"name": "b", "code": "K"}])
    assert list(caught.value.fields) == ["[1].code"]
    with work() as ctx:
        made = records.create_many(ctx, "opportunity", [
            {"name": f"n{i}", "account": acme["id"], "amount": i} for i in range(5)])
    assert [r["number"] for r in made] == [f"OPP-000{i}" for i in range(1, 6)]
    with work() as ctx:
        account = records.get(ctx, "account", acme["id"])
    assert (account["deal_count"], account["open_amount"]) == (5, 10)


def test_a_deleted_records_id_is_never_reused_and_its_history_goes_with_it(work):
    with work() as ctx:
        first = records.create(ctx, "account", {"name": "First"})
        last = records.create(ctx, "account", {"name": "Last"})
        records.update(ctx, "account", last["id"], {"name": "Last (renamed)"})
        assert records.history(ctx, "account", last["id"])
        records.delete(ctx, "account", last["id"])
    with work() as ctx:
        fresh = records.create(ctx, "account", {"name": "Fresh"})
        assert fresh["id"] > last["id"] > first["id"]  # SQLite would hand out last's id again
        assert records.history(ctx, "account", fresh["id"]) == []
        left = ctx.conn.execute(select(field_history).where(
            field_history.c.object == "account", field_history.c.record_id == last["id"]))
        assert left.first() is None
    with work() as ctx, pytest.raises(NotFound):
        records.get(ctx, "account", last["id"])
