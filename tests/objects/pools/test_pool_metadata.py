"""The `pools` key of an object: checks with JSON pointers, and schema evolution — the pool
column added to an existing table, records adopted from a boolean field by a new pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from metabiz.app import build_runtime, prepare_database
from metabiz.errors import MetadataError
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.db import make_engine, writer


def problems_of(tmp_path: Path, lead: dict, extensions, write_app) -> list[str]:
    engine = make_engine(f"sqlite:///{tmp_path}/check.db")
    prepare_database(engine)
    try:
        with pytest.raises(MetadataError) as err:
            apply_path(engine, write_app(tmp_path / "bad", lead), extensions=extensions)
    finally:
        engine.dispose()
    return err.value.problems


def test_pool_problems_name_the_file_and_pointer(tmp_path: Path, extensions, lead_doc,
                                                  app_writer) -> None:
    lead = lead_doc
    lead["fields"].append({"api_name": "pool", "type": "text"})
    lead["fields"].append({"api_name": "flag", "type": "text"})
    lead["pools"].append({"api_name": "lead_pool", "members": ["ghost"],
                          "adopt_field": "flag", "return_reasons": ["a", "a"]})
    found = problems_of(tmp_path, lead, extensions, app_writer)
    for expected in ("objects/lead.json: /pools/1/api_name: duplicate pool 'lead_pool'",
                     "objects/lead.json: /fields/4/api_name: 'pool' is the system field",
                     "objects/lead.json: /pools/1/members/0: unknown role 'ghost'",
                     "objects/lead.json: /pools/1/return_reasons/1: duplicate return reason",
                     "objects/lead.json: /pools/1/adopt_field: 'flag' is a text field"):
        assert any(p.startswith(expected) for p in found), (expected, found)


def test_a_pool_without_members_is_refused_by_the_schema(tmp_path: Path, extensions, lead_doc,
                                                          app_writer) -> None:
    lead = lead_doc
    del lead["pools"][0]["members"]
    found = problems_of(tmp_path, lead, extensions, app_writer)
    assert any(p.startswith("objects/lead.json: /pools/0") and "members" in p for p in found)


def test_adding_pools_to_an_object_with_data_adopts_its_flagged_records(
        db_url: str, tmp_path: Path, extensions, lead_doc, app_writer) -> None:
    engine = make_engine(db_url)
    prepare_database(engine)
    before = {**lead_doc, "fields": [*lead_doc["fields"]]}
    del before["pools"]
    before["fields"].append({"api_name": "in_pool", "type": "boolean", "default": "FALSE"})
    apply_path(engine, app_writer(tmp_path / "v1", before), extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "rita", "rita-password", roles=["rep"])
    runtime_app = tmp_path / "v2"
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "rita"))
        pooled = records.create(ctx, "lead", {"name": "In pool", "in_pool": True})["id"]
        kept = records.create(ctx, "lead", {"name": "Mine", "in_pool": False})["id"]
    assert "pool" not in {c["name"] for c in inspect(engine).get_columns("obj_lead")}
    after = lead_doc  # in_pool removed (its data kept), the pool adopts it
    after["pools"][0]["adopt_field"] = "in_pool"
    plan = apply_path(engine, app_writer(runtime_app, after), extensions=extensions)
    assert "add public pools to lead (column pool)" in plan.steps
    assert "move 1 lead record into pool lead_pool (from in_pool)" in plan.steps
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "rita"))
        assert (records.get(ctx, "lead", pooled)["owner"],
                records.get(ctx, "lead", pooled)["pool"]) == (None, "lead_pool")
        assert records.get(ctx, "lead", kept)["owner"] == "rita"
        kinds = [(h["field"], h.get("kind")) for h in records.history(ctx, "lead", pooled)]
        assert ("owner", "return") in kinds
    # applying again adopts nothing more (the pool is not new any more)
    again = apply_path(engine, app_writer(runtime_app, after), extensions=extensions)
    assert not any("into pool" in step for step in again.steps)
    engine.dispose()
