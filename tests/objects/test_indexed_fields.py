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
        {"api_name": "qty", "type": "number", "scale": 2},
        {"api_name": "twice", "type": "formula", "return_type": "text",
         "formula": "code & code"},
        {"api_name": "kind", "type": "picklist",
         "values": [{"value": "big"}, {"value": "small"}]},
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
                            [{"name": f"n{i}", "code": f"c{i % 7}", "qty": i,
                              "kind": "big" if i % 10 == 0 else "small"}
                             for i in range(40)])
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
        plan = plan_of(conn, statement)
    assert any("ix_item_code" in line for line in plan), plan
    assert not any(line.startswith("SCAN obj_item") and "INDEX" not in line
                   for line in plan), plan


def plan_of(conn: Any, statement: Any) -> list[str]:
    """The database's plan for a statement (PostgreSQL told to avoid a table scan where it
    can, as it would on a big table)."""
    sql = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return list(conn.execute(text(f"EXPLAIN {sql}")).scalars())
    return [row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]


@pytest.mark.parametrize("source, index", [('code = "c3"', "ix_item_code"),
                                           ('"c3" = code', "ix_item_code"),
                                           ('ISPICKVAL(kind, "big")', "ix_item_kind"),
                                           ("qty >= 38", "ix_item_qty"),
                                           ("qty < 2 && code = \"c0\"", "ix_item_")])
def test_a_list_filtered_on_an_indexed_field_reads_the_index(engine, item, source, index):
    """A filter comparing a field with a literal is written on the column, so the field's
    index finds the rows instead of a scan of the whole table."""
    doc, apply, runtime = item
    doc["fields"][1]["indexed"] = True
    doc["fields"][2]["indexed"] = True
    doc["fields"][4]["indexed"] = True
    apply()
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        obj = ctx.schema.object("item")
        plan = plan_of(conn, query.select(obj.table.c.id)
                       .where(query.compile_filter(ctx, obj, source)))
    assert any(index in line for line in plan), plan


def test_comparisons_on_the_column_keep_the_formula_meaning_of_blank(engine, item):
    """Blank is not "c3" (so `<>` counts it) and no number (so neither `<` nor `>=`)."""
    _, _, runtime = item
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        records.create_many(ctx, "item", [{"name": "blank"}, {"name": "empty", "code": ""}])

        def count(source: str) -> int:
            return query.list_records(ctx, "item", filter=source, limit=100).total

        assert count('ISPICKVAL(kind, "big")') == 4
        assert count('NOT(ISPICKVAL(kind, "big"))') == 38
        assert count('code = "c3"') == 6
        assert count('code <> "c3"') == 36
        assert count('NOT(code = "c3")') == 36
        assert count("qty < 5") == 5
        assert count("NOT(qty < 5)") == 37
        assert count("qty >= 5 || ISBLANK(qty)") == 37


def test_only_a_stored_field_can_be_indexed(engine, item):
    doc, apply, _ = item
    doc["fields"][3]["indexed"] = True
    with pytest.raises(MetadataError) as caught:
        apply()
    assert caught.value.problems == [
        "objects/item.json: /fields/3/indexed: a formula field has no column to index"]


def test_the_key_is_kept_when_metadata_is_written_back(tmp_path: Path):
    from metabiz.platform.metadata.builders import build_field

    field = build_field({"api_name": "code", "type": "text", "indexed": True})
    assert field.indexed and field.to_json()["indexed"] is True
    assert "indexed" not in build_field({"api_name": "code", "type": "text"}).to_json()
