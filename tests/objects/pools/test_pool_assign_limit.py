"""A pool admin may assign past a member's claim limit (as in 纷享销客: the limit governs
claiming); the API answer and the pool page say who is now above it, and that member's own
claims stay refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from metabiz.platform.db import users, writer

Call = Callable[..., Any]


def csrf(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]  # type: ignore[index]


def test_the_api_assigns_past_the_limit_and_says_so(call: Call, pooled) -> None:
    leads = [pooled(f"Lead {i}") for i in range(4)]
    for lead in leads[:2]:  # up to the limit (2): no warning
        within = call("POST", f"/records/lead/{lead}/assign", user="mia", body={"owner": "ron"})
        assert within.status_code == 200, within.get_json()
        assert "_warnings" not in within.get_json()
    above = call("POST", f"/records/lead/{leads[2]}/assign", user="mia", body={"owner": "ron"})
    assert above.status_code == 200, above.get_json()
    assert above.get_json()["owner"] == "ron"
    assert above.get_json()["_warnings"] == [{
        "code": "above_claim_limit", "owner": "ron", "pool": "lead_pool", "held": 3,
        "limit": 2, "message": "ron now holds 3 records from Lead pool, above its claim "
                               "limit of 2"}]
    # ron may not claim more himself, while another member still may
    refused = call("POST", f"/records/lead/{leads[3]}/claim", user="ron")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "claim_limit"
    assert call("POST", f"/records/lead/{leads[3]}/claim", user="rita").status_code == 200


def test_the_pool_page_warns_the_admin_who_assigned_past_the_limit(
        client: FlaskClient, browser_session, pooled, call: Call) -> None:
    leads = [pooled(f"Lead {i}") for i in range(5)]
    assert call("POST", f"/records/lead/{leads[0]}/claim", user="rita").status_code == 200
    browser_session(client, "mia")
    pool = client.get("/pools/lead/lead_pool").get_data(as_text=True)
    # the admin sees what each person holds against the limit before assigning
    assert ">rita — holds 1/2</option>" in pool and ">ron — holds 0/2</option>" in pool
    done = client.post("/pools/lead/lead_pool/assign", follow_redirects=True, data={
        "ids": leads[1:4], "owner": "rita", "csrf_token": csrf(pool)}).get_data(as_text=True)
    assert "3 record(s) assigned to rita" in done
    warning = re.search(r'<div class="alert alert-warning"\s+role="alert">([^<]*)</div>', done)
    assert warning is not None, done
    assert warning[1] == ("rita now holds 4 records from Lead pool, above its claim limit of "
                          "2: they cannot claim more until they hold fewer.")
    assert ">rita — holds 4/2</option>" in done  # the pool page, one lead still in it
    assert [call("GET", f"/records/lead/{i}").get_json()["owner"] for i in leads] == \
        ["rita"] * 4 + [None]


def test_no_warning_within_the_limit_and_in_chinese_past_it(
        client: FlaskClient, browser_session, pooled, pool_app: Flask) -> None:
    with writer(pool_app.extensions["metabiz"].engine).begin() as conn:
        conn.execute(update(users).where(users.c.name == "mia").values(language="zh"))
    leads = [pooled(f"Lead {i}") for i in range(3)]
    browser_session(client, "mia")
    pool = client.get("/pools/lead/lead_pool").get_data(as_text=True)
    assert ">ron（已持有 0/2）</option>" in pool
    within = client.post("/pools/lead/lead_pool/assign", follow_redirects=True, data={
        "ids": leads[:2], "owner": "ron", "csrf_token": csrf(pool)}).get_data(as_text=True)
    assert "已将 2 条记录分配给 ron" in within and "alert-warning" not in within
    past = client.post("/pools/lead/lead_pool/assign", follow_redirects=True, data={
        "ids": leads[2:], "owner": "ron", "csrf_token": csrf(pool)}).get_data(as_text=True)
    assert "ron 现持有线索公海的 3 条记录，已超过领取上限（2 条）" in past
