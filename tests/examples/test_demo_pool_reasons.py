"""Records the CRM's demo data puts in a public pool say why in the reader's language (one of
the pool's return reasons), not the loader's own English "demo data"."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from flask import Flask

from metabiz.app import build_runtime, create_app, prepare_database
from metabiz.objects import demo_data, installer, pools, records
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer


@pytest.fixture
def app(db_url: str, tmp_path: Path, extensions) -> Iterator[Flask]:
    engine = make_engine(db_url)
    prepare_database(engine)
    installer.install(build_runtime(engine), "crm", demo_data=True)
    engine.dispose()
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def test_demo_leads_in_the_pool_show_a_translated_reason(app: Flask, browser_session) -> None:
    client = app.test_client()
    browser_session(client, "alice")
    chinese = unescape(client.get("/pools/lead/lead_pool?lang=zh").get_data(as_text=True))
    assert "demo data" not in chinese
    for reason in ("联系不上", "超期未跟进", "无购买意向", "联系方式有误"):
        assert reason in chinese
    english = unescape(client.get("/pools/lead/lead_pool?lang=en").get_data(as_text=True))
    assert "No answer" in english and "Wrong contact details" in english
    accounts = unescape(client.get("/pools/account/customer_pool?lang=zh")
                        .get_data(as_text=True))
    assert "失去联系" in accounts and "demo data" not in accounts


def test_a_record_loaded_without_a_reason_reads_right_in_both_languages(
        app: Flask, browser_session) -> None:
    engine = app.extensions["metabiz"].engine
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:  # what older installs hold: the loader's own words
        ctx = runtime.context(conn, SYSTEM)
        lead = records.create(ctx, "lead", {"name": "Old demo", "company": "Legacy Ltd"})
        pools.return_to_pool(ctx, "lead", lead["id"], pool="lead_pool",
                             automation=demo_data.DEMO_DATA_NOTE)
    client = app.test_client()
    browser_session(client, "alice")
    chinese = unescape(client.get("/pools/lead/lead_pool?q=Old+demo&lang=zh")
                       .get_data(as_text=True))
    assert "随演示数据导入" in chinese and "demo data" not in chinese
    timeline = unescape(client.get(f"/o/lead/{lead['id']}?lang=zh").get_data(as_text=True))
    assert "随演示数据导入" in timeline and "demo data" not in timeline
    english = unescape(client.get("/pools/lead/lead_pool?q=Old+demo&lang=en")
                       .get_data(as_text=True))
    assert "Loaded with the demo data" in english


def test_a_pool_reason_the_pool_does_not_know_is_a_data_problem(app: Flask) -> None:
    engine = app.extensions["metabiz"].engine
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "alice"))
        found = demo_data.problems(ctx, {"lead": [
            {"name": "A", "company": "B", "pool": "lead_pool", "pool_reason": "bored"},
            {"name": "C", "company": "D", "pool_reason": "no_answer"}]})
    assert any("/0/pool_reason: not a return reason of lead_pool" in p for p in found)
    assert any("/1/pool_reason: a pool_reason goes with a 'pool'" in p for p in found)
