"""Applying metadata to databases that hold data, on SQLite and PostgreSQL: nothing is lost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect

from metabiz.errors import ConflictError, MetadataError, NotFound
from metabiz.objects import records
from metabiz.objects.evolution import apply_path, purge, restore
from metabiz.platform.metadata.store import current_version, list_losses, list_versions


def edit(folder, name, change):
    path = folder / "objects" / f"{name}.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def field(doc, name):
    return next(f for f in doc["fields"] if f["api_name"] == name)


def tables(engine):
    return {t for t in inspect(engine).get_table_names() if t.startswith("obj_")}


def test_dry_run_changes_nothing_and_reapplying_is_a_no_op(engine, sales_dir, extensions):
    plan = apply_path(engine, sales_dir, dry_run=True, extensions=extensions)
    assert "create object opportunity (table obj_opportunity)" in plan.steps
    assert "dry run" in plan.render()
    assert tables(engine) == set()
    with engine.connect() as conn:
        assert current_version(conn) == 0
    first = apply_path(engine, sales_dir, extensions=extensions)
    assert first.version == 1
    assert tables(engine) == {"obj_account", "obj_opportunity", "obj_line_item"}
    again = apply_path(engine, sales_dir, extensions=extensions)
    assert again.version is None and "metadata unchanged" in again.render()
    with engine.connect() as conn:
        assert [v.version for v in list_versions(conn)] == [1]


def test_invalid_metadata_lists_every_problem_and_applies_nothing(engine, sales_dir, extensions):
    edit(sales_dir, "opportunity", lambda d: (
        field(d, "weighted_amount").update(formula="amount * probablity"),
        d["validation_rules"][0].update(error_condition="amount + 1")))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, sales_dir, extensions=extensions)
    problems = caught.value.problems
    assert any(p.startswith("objects/opportunity.json: /fields/10/formula: 1:10: ")
               and "probablity" in p for p in problems)
    assert any("/validation_rules/0/error_condition" in p and "boolean" in p for p in problems)
    assert tables(engine) == set()


def test_formula_cycles_are_refused_with_the_cycle_spelled_out(engine, sales_dir, extensions):
    edit(sales_dir, "line_item", lambda d: d["fields"].extend([
        {"api_name": "a", "type": "formula", "return_type": "number", "formula": "b + 1"},
        {"api_name": "b", "type": "formula", "return_type": "number", "formula": "a + 1"}]))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, sales_dir, extensions=extensions)
    assert any("line_item.a → line_item.b → line_item.a" in p for p in caught.value.problems)


@pytest.fixture
def with_data(sales, work):
    with work() as ctx:
        acme = records.create(ctx, "account", {"name": "Acme"})
        for name, code in (("One", "12"), ("Two", "abc"), ("Three", None)):
            records.create(ctx, "opportunity", {"name": name, "code": code,
                                                "account": acme["id"]})
    return sales


def test_new_fields_give_existing_rows_their_default(with_data, sales_dir, work, extensions):
    edit(sales_dir, "opportunity", lambda d: d["fields"].extend([
        {"api_name": "region", "type": "text", "default": "\"EMEA\""},
        {"api_name": "ref", "type": "auto_number", "format": "R-{000}"}]))
    plan = apply_path(with_data, sales_dir, extensions=extensions)
    assert "add field opportunity.region (text)" in plan.steps
    with work() as ctx:
        rows = {r["name"]: r for r in records_of(ctx)}
        assert {r["region"] for r in rows.values()} == {"EMEA"}
        assert [rows[n]["ref"] for n in ("One", "Two", "Three")] == ["R-001", "R-002", "R-003"]
        assert records.create(ctx, "opportunity", {"name": "Four"})["ref"] == "R-004"


def records_of(ctx, name="opportunity"):
    from metabiz.objects.query import list_records

    return list_records(ctx, name, sort="id").records


def test_rename_keeps_data(with_data, sales_dir, work, extensions):
    edit(sales_dir, "opportunity", lambda d: field(d, "code").update(
        api_name="reference", renamed_from="code"))
    plan = apply_path(with_data, sales_dir, extensions=extensions)
    assert "rename field opportunity.code → reference (data kept)" in plan.steps
    with work() as ctx:
        assert [r["reference"] for r in records_of(ctx)] == ["12", "abc", None]


def test_a_conversion_that_would_lose_values_is_refused_unless_asked(with_data, sales_dir,
                                                                      work, extensions):
    edit(sales_dir, "opportunity", lambda d: (field(d, "code").update(type="number"),
                                              field(d, "code").pop("max_length")))
    with pytest.raises(MetadataError) as caught:
        apply_path(with_data, sales_dir, extensions=extensions)
    (problem,) = caught.value.problems
    assert problem.startswith("objects/opportunity.json: /fields/8/type: cannot convert 1 of 2 "
                              "values of opportunity.code from text to number")
    assert problem.splitlines()[1:] == ["    id 2: 'abc' (not a number)"]
    with work() as ctx:  # nothing changed
        assert [r["code"] for r in records_of(ctx)] == ["12", "abc", None]
    plan = apply_path(with_data, sales_dir, convert_failures="blank", extensions=extensions)
    assert any("convert opportunity.code from text to number" in s for s in plan.steps)
    with work() as ctx:
        assert [r["code"] for r in records_of(ctx)] == [12, None, None]
    with with_data.connect() as conn:
        (loss,) = list_losses(conn, "opportunity", "code")
    assert (loss.record_id, loss.old_type, loss.old_value) == (2, "text", "abc")


def test_removed_fields_and_objects_keep_their_data_until_purged(with_data, sales_dir, work, extensions):
    edit(sales_dir, "opportunity", lambda d: d["fields"].remove(field(d, "code")))
    plan = apply_path(with_data, sales_dir, extensions=extensions)
    assert any(s.startswith("remove field opportunity.code (data kept") for s in plan.steps)
    with work() as ctx:
        assert "code" not in records_of(ctx)[0]
    with pytest.raises(ConflictError):
        purge(with_data, "opportunity.name")
    restore(with_data, "opportunity.code", extensions=extensions)
    with work() as ctx:
        assert [r["code"] for r in records_of(ctx)] == ["12", "abc", None]
    with pytest.raises(ConflictError):
        restore(with_data, "opportunity.code", extensions=extensions)
    apply_path(with_data, sales_dir, extensions=extensions)  # the folder still leaves it out
    purge(with_data, "opportunity.code")
    with pytest.raises(NotFound):
        purge(with_data, "opportunity.code")
    assert "code" not in {c["name"] for c in inspect(with_data).get_columns("obj_opportunity")}


def test_unique_cannot_be_added_over_duplicates(with_data, sales_dir, work, extensions):
    with work() as ctx:
        records.create(ctx, "opportunity", {"name": "One"})
    edit(sales_dir, "opportunity", lambda d: field(d, "name").update(unique=True))
    with pytest.raises(MetadataError) as caught:
        apply_path(with_data, sales_dir, extensions=extensions)
    assert "'One' is used 2 times" in caught.value.problems[0]
