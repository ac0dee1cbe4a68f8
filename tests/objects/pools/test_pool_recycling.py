"""The automation action `return_to_pool` on SQLite and PostgreSQL: a time-based rule
sends records nobody followed up back to the pool; checks name unknown pools."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from metabiz.app import build_runtime
from metabiz.errors import MetadataError
from metabiz.flows.worker import run_worker
from metabiz.objects import records
from metabiz.objects.evolution import apply_path

RECYCLE = {
    "api_name": "lead_recycle", "kind": "automation", "object": "lead",
    "trigger": {"after_date": {"field": "last_follow_up", "days": 3}},
    "condition": "ISPICKVAL(status, \"working\")",
    "actions": [{"return_to_pool": "lead_pool"}],
}


def add_flow(folder: Path, flow: dict) -> None:
    (folder / "flows").mkdir(exist_ok=True)
    (folder / "flows" / f"{flow['api_name']}.json").write_text(json.dumps(flow))


def test_leads_not_followed_up_go_back_to_the_pool(pool_app, work, tmp_path, extensions) -> None:
    engine = pool_app.extensions["metabiz"].engine
    add_flow(tmp_path / "app", RECYCLE)
    apply_path(engine, tmp_path / "app", extensions=extensions)
    today = dt.date.today()
    with work("rita") as ctx:
        stale = records.create(ctx, "lead", {"name": "Stale", "status": "working",
                                             "last_follow_up": str(today - dt.timedelta(days=5))})
        fresh = records.create(ctx, "lead", {"name": "Fresh", "status": "working",
                                             "last_follow_up": str(today)})
    run_worker(engine, once=True, now=dt.datetime.now(dt.UTC), runtime=build_runtime(engine),
               secret="s")
    with work("admin") as ctx:
        back = records.get(ctx, "lead", stale["id"])
        kept = records.get(ctx, "lead", fresh["id"])
        history = records.history(ctx, "lead", stale["id"])
    assert (back["owner"], back["pool"]) == (None, "lead_pool")
    assert (kept["owner"], kept["pool"]) == ("rita", None)
    returned = [h for h in history if h.get("kind") == "return" and h["field"] == "owner"]
    assert [(h["old"], h["by"], h["note"]) for h in returned] == [
        ("rita", "system", "automation lead_recycle")]


def test_an_unknown_pool_is_a_metadata_problem(pool_app, tmp_path, extensions) -> None:
    engine = pool_app.extensions["metabiz"].engine
    add_flow(tmp_path / "app", {**RECYCLE, "actions": [{"return_to_pool": "nope"}]})
    with pytest.raises(MetadataError) as err:
        apply_path(engine, tmp_path / "app", extensions=extensions)
    assert any("flows/lead_recycle.json: /actions/0/return_to_pool/pool: unknown pool 'nope'"
               in p for p in err.value.problems), err.value.problems
