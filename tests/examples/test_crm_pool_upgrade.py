"""An existing CRM install whose lead pool lived in the `in_public_pool` field, upgraded by
applying the current template: its pooled leads end in the platform's lead pool, on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from sqlalchemy import Engine, select

from metabiz.app import build_runtime, prepare_database
from metabiz.objects import installer, pools, query, records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import load_actor
from metabiz.platform.db import make_engine, writer
from metabiz.platform.extensions import Extensions

CRM = installer.bundled_templates()["crm"]


def the_old_crm(folder: Path) -> Path:
    """The CRM as it was before platform pools: a boolean marks a lead in the pool."""
    shutil.copytree(CRM, folder)
    lead_path = folder / "objects" / "lead.json"
    lead = json.loads(lead_path.read_text())
    del lead["pools"]
    lead["fields"].append({"api_name": "in_public_pool", "type": "boolean", "default": "FALSE"})
    for view in lead["list_views"]:
        if "filter" in view:
            view["filter"] = view["filter"].replace("ISBLANK(pool)", "NOT(in_public_pool)")
    lead_path.write_text(json.dumps(lead))
    account_path = folder / "objects" / "account.json"
    account = json.loads(account_path.read_text())
    del account["pools"]
    account_path.write_text(json.dumps(account))
    for flow in ("lead_recycle", "lead_follow_up_logged"):
        (folder / "flows" / f"{flow}.json").unlink()
    data = folder / "data" / "lead.json"
    data.write_text(re.sub(r'"pool": "lead_pool"', '"in_public_pool": true', data.read_text()))
    leads = json.loads(data.read_text())  # nor did a pooled lead say why it was there
    data.write_text(json.dumps([{k: v for k, v in lead.items() if k != "pool_reason"}
                                for lead in leads], ensure_ascii=False))
    accounts = json.loads((folder / "data" / "account.json").read_text())
    (folder / "data" / "account.json").write_text(json.dumps(
        [a for a in accounts if "pool" not in a], ensure_ascii=False))
    return folder


def test_applying_the_template_moves_pooled_leads_into_the_lead_pool(
        db_url: str, tmp_path: Path, extensions: Extensions) -> None:
    engine: Engine = make_engine(db_url)
    prepare_database(engine)
    runtime = build_runtime(engine)
    installer.install(runtime, str(the_old_crm(tmp_path / "crm")), demo_data=True)
    with engine.connect() as conn:
        table = runtime.context(conn, SYSTEM).schema.object("lead").table
        flagged = {r.id for r in conn.execute(select(table.c.id).where(
            table.c.in_public_pool.is_(True)))}
    assert len(flagged) >= 4

    plan = apply_path(engine, CRM, extensions=extensions)
    assert any(step.startswith(f"move {len(flagged)} lead records into pool lead_pool")
               for step in plan.steps), plan.steps

    with writer(engine).begin() as conn:
        alice = runtime.context(conn, load_actor(conn, "alice"))  # a member of the pool
        pooled = {r["id"] for r in query.list_records(
            alice, "lead", filter='pool = "lead_pool"', limit=1000).records}
        assert pooled == flagged
        lead = records.get(alice, "lead", min(flagged))
        assert (lead["owner"], lead["pool"]) == (None, "lead_pool")
        # and she may claim one, like any pooled lead
        assert pools.claim(alice, "lead", min(flagged))["owner"] == "alice"
    engine.dispose()
