"""What each person holds from a pool, as the claim limit counts it: records that last left
that pool (claimed or assigned, kept through a transfer), not those returned since, taken
from another pool or never pooled; everyone's holdings agree with one person's count
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from metabiz.objects import pools
from metabiz.objects.evolution import apply_path

Call = Callable[..., Any]


@pytest.fixture
def two_pools(pool_app: Flask, tmp_path: Path, extensions, lead_doc, app_writer) -> Flask:
    """The lead object with a second pool, `cold_pool`."""
    lead_doc["pools"].append({"api_name": "cold_pool", "label": {"en": "Cold", "zh": "冷线索"},
                              "members": ["rep", "manager"], "admins": ["manager"]})
    apply_path(pool_app.extensions["metabiz"].engine, app_writer(tmp_path / "v2", lead_doc),
               extensions=extensions)
    return pool_app


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_holdings_count_what_last_left_each_pool(two_pools, call: Call, pooled,
                                                  work) -> None:
    a, b, c, d, e = (pooled(name) for name in ("A", "B", "C", "D", "E"))
    ok(call("POST", f"/records/lead/{a}/claim", user="rita"))
    # B goes back to the cold pool and is claimed from there: it counts for that pool
    ok(call("POST", f"/records/lead/{b}/claim", user="rita"))
    ok(call("POST", f"/records/lead/{b}/return", user="rita",
            body={"reason": "no_answer", "pool": "cold_pool"}))
    ok(call("POST", f"/records/lead/{b}/claim", user="rita"))
    # C claimed by ron, returned, then claimed by rita: hers, once
    ok(call("POST", f"/records/lead/{c}/claim", user="ron"))
    ok(call("POST", f"/records/lead/{c}/return", user="ron", body={"reason": "no_answer"}))
    ok(call("POST", f"/records/lead/{c}/claim", user="rita"))
    # D assigned to ron by the admin; A transferred from rita to ron still came from the pool
    ok(call("POST", f"/records/lead/{d}/assign", user="mia", body={"owner": "ron"}))
    ok(call("POST", f"/records/lead/{a}/transfer", user="rita", body={"owner": "ron"}))
    # E stays in the pool; F was never pooled
    created = call("POST", "/records/lead", user="ron", body={"name": "F"})
    assert created.status_code == 201, created.get_json()
    with work() as ctx:
        obj = ctx.schema.object("lead")
        lead_pool, cold_pool = (pools.holdings(ctx, obj, p) for p in ("lead_pool", "cold_pool"))
        counted = {(p, u): pools.held_from(ctx, obj, p, u) for p in ("lead_pool", "cold_pool")
                   for u in ("rita", "ron", "mia")}
    assert lead_pool == {"ron": 2, "rita": 1}
    assert cold_pool == {"rita": 1}
    assert counted == {("lead_pool", "rita"): 1, ("lead_pool", "ron"): 2,
                       ("lead_pool", "mia"): 0, ("cold_pool", "rita"): 1,
                       ("cold_pool", "ron"): 0, ("cold_pool", "mia"): 0}
    assert ok(call("GET", f"/records/lead/{e}"))["pool"] == "lead_pool"
