"""An apply is all or nothing, and a change that breaks something elsewhere is refused.

A failure injected midway through a many-step plan leaves tables, data and metadata exactly
as before, on SQLite and PostgreSQL; renaming or removing a field a formula, roll-up, flow
or role elsewhere uses is refused with the place that uses it named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from metabiz.errors import MetadataError
from metabiz.flows import FLOW_KIND, check_flows
from metabiz.objects import records, sync
from metabiz.objects.runtime import Runtime
from metabiz.objects.sync import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer


def edit(folder: Path, name: str, change) -> None:
    path = folder / "objects" / f"{name}.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False))


def field(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in doc["fields"] if f["api_name"] == name)


def snapshot(engine) -> dict[str, Any]:
    """Every table's columns, indexes, foreign keys and rows."""
    inspector = inspect(engine)
    found = {}
    with engine.connect() as conn:
        for table in sorted(inspector.get_table_names()):
            found[table] = (
                [(c["name"], str(c["type"]), c.get("default")) for c in inspector.get_columns(table)],
                sorted((ix["name"], tuple(ix["column_names"]), bool(ix["unique"]))
                       for ix in inspector.get_indexes(table)),
                sorted(str(fk) for fk in inspector.get_foreign_keys(table)),
                [tuple(row) for row in conn.exec_driver_sql(
                    f'SELECT * FROM "{table}" ORDER BY 1')])
    return found


@pytest.fixture
def sales(engine, sales_dir):
    """The sales app applied (no users: the tests here write records as the system)."""
    apply_path(engine, sales_dir)
    return engine


@pytest.fixture
def filled(sales):
    with writer(sales).begin() as conn:
        ctx = Runtime(sales).context(conn, SYSTEM)
        acme = records.create(ctx, "account", {"name": "Acme 公司", "industry": "tech"})
        for i, code in enumerate(("A-1", "B-2", None)):
            opp = records.create(ctx, "opportunity", {
                "name": f"Deal {i}", "code": code, "account": acme["id"], "discount": "12.5",
                "amount": "1000", "contact_email": f"buyer{i}@example.com"})
            records.create(ctx, "line_item", {"product": "Widget", "opportunity": opp["id"],
                                              "quantity": 2, "unit_price": "9.99"})
        records.update(ctx, "opportunity", 1, {"name": "Deal zero"})  # some field history
    return sales


def many_steps(folder: Path) -> None:
    """One apply that creates, renames, adds, converts, narrows and removes."""
    edit(folder, "line_item", lambda d: d.update(api_name="order_line", renamed_from="line_item"))
    (folder / "objects" / "line_item.json").rename(folder / "objects" / "order_line.json")
    edit(folder, "opportunity", lambda d: (
        field(d, "line_total").update(child_object="order_line"),
        field(d, "code").update(api_name="reference", renamed_from="code"),
        field(d, "discount").update(type="text"),
        field(d, "name").update(max_length=40),
        field(d, "stage").update(required=True),
        d["fields"].remove(field(d, "contact_email")),
        d["fields"].extend([
            {"api_name": "region", "type": "text", "default": "\"EMEA 欧洲\""},
            {"api_name": "title", "type": "text", "default": "name & \" (\" & stage & \")\""},
            {"api_name": "ref", "type": "auto_number", "format": "R-{000}"}])))
    role = json.loads((folder / "roles" / "sales_rep.json").read_text())
    role["objects"]["order_line"] = role["objects"].pop("line_item")
    (folder / "roles" / "sales_rep.json").write_text(json.dumps(role))
    edit(folder, "territory", lambda d: d.update(
        api_name="territory", label="Territory", name_field="name",
        fields=[{"api_name": "name", "type": "text"}]))


@pytest.mark.parametrize("failing", ["_indexes", "save_version"])
def test_a_failure_midway_leaves_data_and_metadata_exactly_as_before(
        filled, sales_dir, monkeypatch, failing):
    before = snapshot(filled)
    many_steps(sales_dir)

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("injected failure")

    if failing == "save_version":  # the very last step
        monkeypatch.setattr(sync, "save_version", boom)
    else:  # after every table, column and value has changed
        monkeypatch.setattr(sync._Migration, failing, boom)
    with pytest.raises(RuntimeError, match="injected"):
        apply_path(filled, sales_dir, convert_failures="blank")
    assert snapshot(filled) == before
    monkeypatch.undo()
    plan = apply_path(filled, sales_dir)  # and the same plan then applies whole
    assert "rename object line_item → order_line (data kept)" in plan.steps
    assert "rename field opportunity.code → reference (data kept)" in plan.steps
    assert "create object territory (table obj_territory)" in plan.steps
    assert snapshot(filled) != before


def test_a_refused_plan_changes_nothing(filled, sales_dir):
    before = snapshot(filled)
    many_steps(sales_dir)
    edit(sales_dir, "opportunity", lambda d: field(d, "name").update(max_length=5))
    with pytest.raises(MetadataError) as caught:
        apply_path(filled, sales_dir)
    (problem,) = caught.value.problems
    assert problem.startswith("objects/opportunity.json: /fields/0/max_length: 3 opportunity "
                              "records with values longer than 5 characters in "
                              "opportunity.name")
    assert problem.splitlines()[1:] == ["    id 1: 'Deal zero'", "    id 2: 'Deal 1'",
                                        "    id 3: 'Deal 2'"]
    assert snapshot(filled) == before


def test_renaming_a_field_another_objects_formula_uses_is_refused_naming_it(sales, sales_dir):
    edit(sales_dir, "line_item", lambda d: d["fields"].append(
        {"api_name": "due", "type": "formula", "return_type": "date",
         "formula": "opportunity.close_date"}))
    apply_path(sales, sales_dir)
    edit(sales_dir, "opportunity", lambda d: field(d, "close_date").update(
        api_name="expected_close", renamed_from="close_date"))
    with pytest.raises(MetadataError) as caught:
        apply_path(sales, sales_dir)
    note = ("(this change renames opportunity.close_date to expected_close: rename it here too)")
    assert sorted(caught.value.problems) == [
        f"objects/line_item.json: /fields/5/formula: 1:1: unknown field 'close_date' on "
        f"opportunity {note}",
        f"objects/opportunity.json: /validation_rules/1/error_condition: 1:43: unknown field "
        f"'close_date' on opportunity {note}"]


def test_removing_a_field_a_roll_up_or_a_role_uses_is_refused_naming_it(sales, sales_dir):
    edit(sales_dir, "opportunity", lambda d: d["fields"].remove(field(d, "discount")))
    with pytest.raises(MetadataError) as caught:
        apply_path(sales, sales_dir)
    assert caught.value.problems == [
        "roles/sales_rep.json: /fields/opportunity.discount: unknown field 'discount' on "
        "opportunity (this change removes opportunity.discount: remove this use too, or keep "
        "the field)"]
    edit(sales_dir, "opportunity", lambda d: (field(d, "amount").update(type="text"),
                                              field(d, "amount").pop("scale")))
    with pytest.raises(MetadataError) as caught:
        apply_path(sales, sales_dir)
    assert any(p.startswith("objects/account.json: /fields/3/field: sum needs a number")
               for p in caught.value.problems)


def test_a_flow_that_uses_a_removed_field_is_refused(sales, sales_dir):
    (sales_dir / "flows").mkdir()
    (sales_dir / "flows" / "big_deal.json").write_text(json.dumps({
        "api_name": "big_deal", "kind": "automation", "object": "opportunity",
        "label": "Big deal", "trigger": "updated", "condition": "amount > probability * 1000",
        "actions": [{"notify": {"to": [{"field": "owner"}], "subject": "\"Big deal\"",
                                "message": "name"}}]}))
    apply_path(sales, sales_dir, checks=[check_flows], kinds=[FLOW_KIND])
    edit(sales_dir, "opportunity", lambda d: field(d, "probability").update(
        api_name="chance", renamed_from="probability"))
    edit(sales_dir, "opportunity", lambda d: field(d, "weighted_amount").update(
        formula="amount * chance / 100"))
    with pytest.raises(MetadataError) as caught:
        apply_path(sales, sales_dir, checks=[check_flows], kinds=[FLOW_KIND])
    (problem,) = caught.value.problems
    assert problem.startswith("flows/big_deal.json: /condition: ")
    assert problem.endswith("unknown field 'probability' on opportunity (this change renames "
                            "opportunity.probability to chance: rename it here too)")


def test_a_role_of_another_app_is_checked_too(engine, tmp_path):
    """Apps load on their own; a field one app drops may still be used by another."""
    crm, service = tmp_path / "crm", tmp_path / "service"
    for folder, name in ((crm, "crm"), (service, "service")):
        (folder / "objects").mkdir(parents=True)
        (folder / "app.json").write_text(json.dumps({"name": name, "version": "1.0.0",
                                                     "label": name}))
    edit(crm, "customer", lambda d: d.update(api_name="customer", label="Customer", fields=[
        {"api_name": "name", "type": "text"}, {"api_name": "tier", "type": "text"}]))
    (service / "roles").mkdir()
    (service / "roles" / "agent.json").write_text(json.dumps({
        "api_name": "agent", "label": "Agent", "objects": {"customer": ["read"]},
        "fields": {"customer.tier": "read_only"}}))
    edit(service, "ticket", lambda d: d.update(api_name="ticket", label="Ticket", fields=[
        {"api_name": "customer", "type": "lookup", "target": "customer"}]))
    apply_path(engine, crm)
    apply_path(engine, service)
    edit(crm, "customer", lambda d: d["fields"].remove(field(d, "tier")))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, crm)
    assert caught.value.problems == [
        "service/roles/agent.json: /fields/customer.tier: unknown field 'tier' on customer "
        "(this change removes customer.tier: remove this use too, or keep the field)"]


def test_a_lookup_cannot_change_its_target(sales, sales_dir):
    edit(sales_dir, "opportunity", lambda d: d["fields"].append(
        {"api_name": "partner", "type": "lookup", "target": "account"}))
    apply_path(sales, sales_dir)
    edit(sales_dir, "opportunity", lambda d: field(d, "partner").update(target="line_item"))
    with pytest.raises(MetadataError) as caught:
        apply_path(sales, sales_dir)
    assert caught.value.problems == [
        "objects/opportunity.json: /fields/13/target: opportunity.partner points to account "
        "records; a lookup's target cannot change to line_item (add a new field instead)"]


def test_a_list_view_filter_that_uses_a_removed_field_is_refused(sales, sales_dir):
    edit(sales_dir, "opportunity", lambda d: d.update(list_views=[
        {"api_name": "reachable", "label": "Reachable",
         "filter": "NOT(ISBLANK(contact_email))"}]))
    apply_path(sales, sales_dir)
    edit(sales_dir, "opportunity", lambda d: d["fields"].remove(field(d, "contact_email")))
    with pytest.raises(MetadataError) as caught:
        apply_path(sales, sales_dir)
    assert caught.value.problems == [
        "objects/opportunity.json: /list_views/0/filter: 1:13: unknown field 'contact_email' "
        "on opportunity (this change removes opportunity.contact_email: remove this use too, "
        "or keep the field)"]
