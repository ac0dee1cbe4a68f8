"""Option changes, renames and new fields on objects that hold data, on both databases.

Narrowing changes are checked against the stored values first: refused with the records
listed, or (with --convert-failures=blank) blanked and recorded; widening ones just apply.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from metabiz.app import build_runtime
from metabiz.errors import ConflictError, MetadataError, ValidationError
from metabiz.objects import records
from metabiz.objects.evolution import apply_path, purge, restore
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import list_losses, version_record

ITEM = {
    "api_name": "item", "label": "Item", "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "max_length": 40},
        {"api_name": "code", "type": "text", "max_length": 20},
        {"api_name": "qty", "type": "number", "scale": 2},
        {"api_name": "kind", "type": "picklist",
         "values": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"},
                    {"value": "c", "label": "C"}]},
        {"api_name": "tags", "type": "multi_picklist",
         "values": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}]},
        {"api_name": "ref", "type": "auto_number", "format": "I-{000}"},
    ],
}
ROWS = [
    {"name": "短", "code": "abc", "qty": "1.25", "kind": "a", "tags": ["red", "blue"]},
    {"name": "一个很长的名字 long name", "code": "abcdefghij", "qty": "-3", "kind": "b",
     "tags": ["blue"]},
    {"name": "短", "code": None, "qty": None, "kind": None, "tags": None},
]


class App:
    """The one-object app in a folder: edit its field definitions, apply, read back."""

    def __init__(self, engine, folder: Path, extensions: Extensions) -> None:
        self.engine, self.folder, self.extensions = engine, folder, extensions
        (folder / "objects").mkdir(parents=True)
        (folder / "app.json").write_text(json.dumps({"name": "inv", "version": "1.0.0",
                                                     "label": "Inventory"}))
        self.doc = json.loads(json.dumps(ITEM))
        self.runtime = build_runtime(engine)

    def field(self, name: str) -> dict[str, Any]:
        return next(f for f in self.doc["fields"] if f["api_name"] == name)

    def apply(self, **options: Any):
        (self.folder / "objects" / "item.json").write_text(json.dumps(self.doc))
        return apply_path(self.engine, self.folder, extensions=self.extensions, **options)

    def create(self, *rows: dict[str, Any]) -> None:
        with writer(self.engine).begin() as conn:
            records.create_many(self.runtime.context(conn, SYSTEM), "item", list(rows))

    def values(self, name: str) -> list[Any]:
        with self.engine.connect() as conn:
            obj = self.runtime.schema(conn).object("item")
            rows = conn.execute(select(obj.table).order_by(obj.table.c.id)).mappings()
            return [obj.decode(row).get(name) for row in rows]


@pytest.fixture
def app(engine, tmp_path, extensions) -> App:
    app = App(engine, tmp_path / "inv", extensions)
    app.apply()
    app.create(*ROWS)
    return app


def refusal(app: App, **options: Any) -> list[str]:
    with pytest.raises(MetadataError) as caught:
        app.apply(**options)
    return caught.value.problems


def column_type(app: App, name: str) -> str:
    return next(str(c["type"]) for c in inspect(app.engine).get_columns("obj_item")
                if c["name"] == name)


def test_a_shorter_max_length_lists_the_longer_values_or_blanks_them(app):
    app.field("code").update(max_length=5)
    (problem,) = refusal(app)
    assert problem == (
        "objects/item.json: /fields/1/max_length: 1 item record with values longer than 5 "
        "characters in item.code (fix them, or apply with --convert-failures=blank):\n"
        "    id 2: 'abcdefghij'")
    assert app.values("code") == ["abc", "abcdefghij", None]
    plan = app.apply(convert_failures="blank")
    assert "change field item.code: max_length 20 → 5" in plan.steps
    assert app.values("code") == ["abc", None, None]
    with app.engine.connect() as conn:
        (loss,) = list_losses(conn, "item", "code")
    assert (loss.record_id, loss.old_value) == (2, "abcdefghij")
    if app.engine.dialect.name == "postgresql":
        assert column_type(app, "code") == "VARCHAR(5)"


def test_a_longer_max_length_takes_longer_values_at_once(app):
    app.field("code").update(max_length=200)
    plan = app.apply()
    assert plan.steps == ["change field item.code: max_length 20 → 200"]
    app.create({"code": "码" * 150})  # PostgreSQL's column grew with it
    assert app.values("code")[-1] == "码" * 150


def test_a_smaller_scale_refuses_values_that_would_be_rounded(app):
    app.field("qty").update(scale=1)
    (problem,) = refusal(app)
    assert problem.startswith("objects/item.json: /fields/2/scale: 1 item record with values "
                              "with more than 1 decimal places in item.qty")
    assert problem.endswith("\n    id 1: '1.25'")
    app.field("qty").update(scale=0, min=0)
    problems = refusal(app)
    assert [p.split(":")[1] for p in problems] == [" /fields/2/scale", " /fields/2/min"]
    app.apply(convert_failures="blank")
    assert app.values("qty") == [None, None, None]
    app.create({"qty": "7"})
    assert app.values("qty")[-1] == D(7)


def test_a_larger_scale_refuses_values_that_would_no_longer_fit(app):
    app.create({"qty": "1234567890123456"})  # 16 digits before the point fit scale 2
    app.field("qty").update(scale=4)
    (problem,) = refusal(app)
    assert "values of more than 14 digits before the decimal point" in problem
    assert problem.endswith("id 4: '1234567890123456.00'")


def test_removing_picklist_values_in_use(app):
    app.field("kind")["values"].pop(1)  # "b"
    app.field("tags")["values"].pop(0)  # "red"
    problems = refusal(app)
    assert problems == [
        "objects/item.json: /fields/3/values: 1 item record with values removed from the "
        "picklist in item.kind (fix them, or apply with --convert-failures=blank):\n"
        "    id 2: 'b'",
        "objects/item.json: /fields/4/values: 1 item record with values removed from the "
        "picklist in item.tags (fix them, or apply with --convert-failures=blank):\n"
        "    id 1: 'red;blue'"]
    plan = app.apply(convert_failures="blank")
    assert "change field item.kind: remove picklist values 'b'" in plan.steps
    assert app.values("kind") == ["a", None, None]
    assert app.values("tags") == [("blue",), ("blue",), None]  # only the removed one goes
    with app.engine.connect() as conn:
        assert [(x.field, x.record_id, x.old_value) for x in list_losses(conn, "item")] == [
            ("kind", 2, "b"), ("tags", 1, "red;blue")]


def test_making_a_field_required_while_records_are_blank(app):
    app.field("kind").update(required=True)
    (problem,) = refusal(app)
    assert problem.startswith("objects/item.json: /fields/3/required: item.kind cannot be "
                              "required: 1 item record without a value (give it a default")
    assert problem.endswith("\n    id 3")
    plan = app.apply(convert_failures="blank")
    (change,) = [c for c in plan.changes if c.text == "make item.kind required"]
    assert change.details == ["1 record left blank: each needs a value on its next edit"]


def test_a_new_required_field_needs_a_default_when_records_exist(app):
    app.doc["fields"].append({"api_name": "owner_team", "type": "text", "required": True})
    (problem,) = refusal(app)
    assert "item.owner_team cannot be required: 3 item records without a value" in problem
    app.field("owner_team")["default"] = "\"总部\""
    app.apply()
    assert app.values("owner_team") == ["总部"] * 3


def test_making_a_field_unique_over_repeated_values(app):
    app.field("name").update(unique=True)
    (problem,) = refusal(app)
    assert problem == (
        "objects/item.json: /fields/0/unique: item.name cannot be unique: 1 value used more "
        "than once (fix them, or apply with --convert-failures=blank):\n"
        "    '短' is used 2 times: ids 1, 3")
    plan = app.apply(convert_failures="blank")
    (change,) = [c for c in plan.changes if c.text == "make item.name unique"]
    assert change.details == ["1 repeated value blanked (old values listed in "
                              "sys_conversion_losses)"]
    assert app.values("name") == ["短", "一个很长的名字 long name", None]
    with pytest.raises(ConflictError):
        app.create({"name": "短"})


def test_a_refusal_lists_fifty_records_then_counts_the_rest(app):
    app.create(*({"code": f"not a number {i}"} for i in range(60)))
    app.field("code").update(type="number")
    app.field("code").pop("max_length")
    (problem,) = refusal(app)
    lines = problem.splitlines()
    assert lines[0].startswith("objects/item.json: /fields/1/type: cannot convert 62 of 62 "
                               "values of item.code from text to number")
    assert lines[1:3] == ["    id 1: 'abc' (not a number)", "    id 2: 'abcdefghij' (not a "
                                                             "number)"]
    assert len(lines) == 1 + 50 + 1 and lines[-1] == "    … and 12 more"


def test_renames_keep_unique_indexes_history_and_numbering(app):
    app.field("code").update(unique=True)
    app.apply()
    with writer(app.engine).begin() as conn:
        records.update(app.runtime.context(conn, SYSTEM), "item", 1, {"code": "xyz"})
    app.field("code").update(api_name="sku", renamed_from="code")
    app.field("ref").update(api_name="number", renamed_from="ref")
    plan = app.apply()
    assert plan.steps == ["rename field item.code → sku (data kept)",
                          "rename field item.ref → number (data kept)"]
    assert app.values("sku") == ["xyz", "abcdefghij", None]
    with pytest.raises(ConflictError):
        app.create({"sku": "xyz"})
    app.create({"name": "new"})
    assert app.values("number") == ["I-001", "I-002", "I-003", "I-004"]
    with writer(app.engine).begin() as conn:
        ctx = app.runtime.context(conn, SYSTEM)
        history = records.history(ctx, "item", 1)
    assert [(h["field"], h["old"], h["new"]) for h in history] == [
        ("sku", "abc", "xyz")]


def test_constant_defaults_fill_existing_records_in_one_statement(app):
    defaults = {
        "region": ("text", '"100% 欧洲 \'EU\'"', "100% 欧洲 'EU'"),
        "price": ("currency", "12.5", D("12.50")),
        "due": ("date", "DATE(2020, 2, 29)", dt.date(2020, 2, 29)),
        "seen": ("datetime", 'DATETIMEVALUE("2020-02-29 17:05:00Z")',
                 dt.datetime(2020, 2, 29, 17, 5, tzinfo=dt.UTC)),
        "active": ("boolean", "TRUE", True),
        "shade": ("picklist", '"b"', "b"),
        "label": ("text", 'name & "!"', None),  # reads a field: computed record by record
    }
    for name, (kind, formula, _) in defaults.items():
        extra = {"values": ITEM["fields"][3]["values"]} if kind == "picklist" else {}
        app.doc["fields"].append({"api_name": name, "type": kind, "default": formula, **extra})
    plan = app.apply()
    for name, (_, _, expected) in defaults.items():
        if expected is not None:
            assert app.values(name) == [expected] * 3, name
    assert app.values("label") == ["短!", "一个很长的名字 long name!", "短!"]
    details = {c.text: c.details for c in plan.changes}
    assert details["add field item.price (currency)"] == [
        "3 existing records set to the default '12.50'"]
    assert details["add field item.label (text)"] == ["3 existing records set to the default"]
    if app.engine.dialect.name == "postgresql":  # new records get theirs from the service
        assert all(c["default"] is None for c in inspect(app.engine).get_columns("obj_item")
                   if c["name"] in defaults)


def test_a_dry_run_reads_like_a_plan(app):
    app.field("code").update(api_name="sku", renamed_from="code", max_length=10)
    app.field("qty").update(type="text")
    app.field("qty").pop("scale")
    app.doc["fields"].remove(app.field("tags"))
    app.doc["fields"].append({"api_name": "note", "type": "long_text"})
    app.doc["label"] = "Stock item"
    plan = app.apply(dry_run=True)
    assert plan.render().splitlines() == [
        "Plan: metadata version 1 → 2",
        "",
        "  → rename field item.code → sku (data kept)",
        "  ~ change field item.sku: max_length 20 → 10",
        "  ~ convert item.qty from number to text",
        "      2 values converted; old values kept in column qty__v2",
        "  + add field item.note (long_text)",
        "  - remove field item.tags (data kept; `metabiz restore item.tags` brings it back)",
        "  ~ change object item: labels",
        "",
        "1 to add, 3 to change, 1 to rename, 1 to remove.",
        "dry run: nothing was changed"]
    assert app.values("code") == ["abc", "abcdefghij", None]


def test_versions_keep_what_each_apply_did_and_purge_forgets_blanked_values(app):
    app.field("code").update(max_length=5)
    app.apply(convert_failures="blank")
    with app.engine.connect() as conn:
        shown = version_record(conn, 2)
        assert version_record(conn, 9) is None
    assert shown is not None and shown["version"] == 2
    assert shown["summary"] == "apply inv: change field item.code: max_length 20 → 5"
    assert shown["documents"]["inv/objects/item.json"]["fields"][1]["max_length"] == 5
    app.doc["fields"].remove(app.field("code"))
    app.apply()
    purge(app.engine, "item.code")
    with app.engine.connect() as conn:
        assert list_losses(conn, "item", "code") == []


def test_blank_values_never_pass_a_required_check_silently(app):
    """Blanking keeps the apply going; the plan says which records now need a value."""
    app.field("code").update(required=True, max_length=5)
    with pytest.raises(MetadataError):
        app.apply()
    plan = app.apply(convert_failures="blank")
    (change,) = [c for c in plan.changes if c.text == "make item.code required"]
    assert change.details == ["2 records left blank: each needs a value on its next edit"]
    with pytest.raises(ValidationError):
        app.create({"name": "no code"})


def test_a_removed_fields_default_is_not_given_to_records_made_meanwhile(app):
    app.doc["fields"].append({"api_name": "region", "type": "text", "default": "\"EMEA\""})
    app.apply()
    app.doc["fields"].remove(app.field("region"))
    app.apply()
    app.create({"name": "made while removed"})
    restore(app.engine, "item.region", extensions=app.extensions)
    assert app.values("region") == ["EMEA", "EMEA", "EMEA", None]


def test_a_rename_onto_a_removed_fields_kept_data_is_refused(app):
    app.doc["fields"].remove(app.field("code"))
    app.apply()
    app.field("name").update(api_name="code", renamed_from="name", max_length=40)
    app.doc["name_field"] = "code"
    (problem,) = refusal(app)
    assert problem == (
        "objects/item.json: /fields/0/renamed_from: item.name cannot be renamed to code: a "
        "removed field code still keeps its data there (`metabiz purge item.code` deletes it, "
        "or choose another name)")
    assert app.values("name") == ["短", "一个很长的名字 long name", "短"]
