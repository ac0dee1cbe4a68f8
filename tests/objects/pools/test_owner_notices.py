"""The new owner of an assigned or transferred record is told, in their language; claims,
returns and owner changes one makes for oneself tell no one (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import update

from metabiz.flows.worker import run_worker
from metabiz.platform.db import users, writer

Call = Callable[..., Any]


def inbox(call: Call, pool_app: Flask, user: str) -> list[dict[str, Any]]:
    services = pool_app.extensions["metabiz"]
    run_worker(services.engine, runtime=services.runtime, secret="test", once=True)
    response = call("GET", "/notifications", user=user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_the_assignee_of_a_pooled_record_is_told_in_their_language(
        call: Call, pooled, pool_app: Flask) -> None:
    with writer(pool_app.extensions["metabiz"].engine).begin() as conn:
        conn.execute(update(users).where(users.c.name == "ron").values(language="zh"))
    first, second = pooled("Acme"), pooled("Globex")
    assert call("POST", f"/records/lead/{first}/assign", user="mia",
                body={"owner": "rita"}).status_code == 200
    assert call("POST", f"/records/lead/{second}/assign", user="mia",
                body={"owner": "ron"}).status_code == 200
    [told] = inbox(call, pool_app, "rita")
    assert (told["subject"], told["message"]) == (
        "Lead assigned to you", "mia assigned you Lead Acme from Lead pool.")
    assert (told["object"], told["record_id"], told["read"]) == ("lead", first, False)
    [zh] = inbox(call, pool_app, "ron")
    assert (zh["subject"], zh["message"]) == ("线索已分配给你", "mia把线索公海中的线索“Globex”分配给了你。")
    assert inbox(call, pool_app, "mia") == []


def test_a_transfer_tells_the_new_owner_and_a_claim_tells_no_one(
        call: Call, pooled, pool_app: Flask) -> None:
    lead = pooled("Initech")
    assert call("POST", f"/records/lead/{lead}/claim", user="rita").status_code == 200
    assert inbox(call, pool_app, "rita") == []
    moved = call("POST", "/records/lead/transfer", user="admin",
                 body={"ids": [lead], "owner": "ron"})
    assert moved.status_code == 200, moved.get_json()
    [told] = inbox(call, pool_app, "ron")
    assert told["message"] == "admin transferred Lead Initech to you."
    assert inbox(call, pool_app, "rita") == []


def test_a_bulk_transfer_makes_one_notification_naming_the_records(
        call: Call, pool_app: Flask) -> None:
    ids = [call("POST", "/records/lead", body={"name": name}).get_json()["id"]
           for name in ("Alpha", "Beta", "Gamma")]
    moved = call("POST", "/records/lead/transfer", body={"ids": ids, "owner": "ron"})
    assert moved.status_code == 200, moved.get_json()
    [told] = inbox(call, pool_app, "ron")
    assert told["message"] == "admin transferred 3 Lead records to you: Alpha, Beta, Gamma."
    assert (told["subject"], told["object"], told["record_id"]) == (
        "Lead transferred to you", "lead", None)
