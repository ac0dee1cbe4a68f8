"""`"indexed": true` on a field: apply creates (or drops) the index and says so in its plan,
and a list sorted by the field reads it through the index — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from metabiz.app import build_runtime
from metabiz.errors import MetadataError
from metabiz.objects import query, records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer

ITEM = {
    "api_name": "item", "label": "Item", "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "max_length": 40},
        {"api_name": "code", "type": "text", "max_length": 20},
        {"api_name": "twice", "type": "formula", "return_type": "text",
         "formula": "code & code"},
    ],
}


@pytest.fixture
def item(engine, tmp_path, extensions) -> Any:
    folder = tmp_path / "inv"
    (folder / "objects").mkdir(parents=True)
    (folder / "app.json").write_text(json.dumps({"name": "inv", "version": "1.0.0",
                                                 "label": "Inventory"}))
    doc = json.loads(json.dumps(ITEM))

    def apply(**options: Any) -> Any:
        (folder / "objects" / "item.json").write_text(json.dumps(doc))
        return apply_path(engine, folder, extensions=extensions, **options)

    apply()
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        records.create_many(runtime.context(conn, SYSTEM), "item",
                            [{"name": f"n{i}", "code": f"c{i % 7}"} for i in range(40)])
    return doc, apply, runtime


def indexes(engine: Any) -> dict[str, list[str]]:
    return {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("obj_item")}


def steps(plan: Any) -> list[str]:
    return [f"{c.sign} {c.text}" for c in plan.changes]


def test_an_indexed_field_gets_its_index_and_loses_it(engine, item):
    doc, apply, _ = item
    doc["fields"][1]["indexed"] = True
    dry = apply(dry_run=True)
    assert "+ index item.code" in steps(dry)
    assert "ix_item_code" not in indexes(engine)
    assert "+ index item.code" in steps(apply())
    assert indexes(engine)["ix_item_code"] == ["code"]
    assert "index" not in " ".join(steps(apply()))  # nothing left to do
    del doc["fields"][1]["indexed"]
    assert "- drop the index on item.code" in steps(apply())
    assert "ix_item_code" not in indexes(engine)


def test_a_list_sorted_by_an_indexed_field_reads_the_index(engine, item, db_url):
    doc, apply, runtime = item
    doc["fields"][1]["indexed"] = True
    apply()
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        obj = ctx.schema.object("item")
        listed = query.list_records(ctx, "item", sort="code", limit=5)
        assert [r["code"] for r in listed.records] == ["c0"] * 5 and listed.total == 40
        statement = (query.select(obj.table).order_by(*query.order_by(ctx, obj, "code"))
                     .limit(5))
        sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = conn.execute(text(f"EXPLAIN {sql}")).scalars().all()
        else:
            plan = [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    assert any("ix_item_code" in line for line in plan), plan
    assert not any(line.startswith("SCAN obj_item") and "INDEX" not in line
                   for line in plan), plan


def test_only_a_stored_field_can_be_indexed(engine, item):
    doc, apply, _ = item
    doc["fields"][2]["indexed"] = True
    with pytest.raises(MetadataError) as caught:
        apply()
    assert caught.value.problems == [
        "objects/item.json: /fields/2/indexed: a formula field has no column to index"]


def test_the_key_is_kept_when_metadata_is_written_back(tmp_path: Path):
    from metabiz.platform.metadata.builders import build_field

    field = build_field({"api_name": "code", "type": "text", "indexed": True})
    assert field.indexed and field.to_json()["indexed"] is True
    assert "indexed" not in build_field({"api_name": "code", "type": "text"}).to_json()
