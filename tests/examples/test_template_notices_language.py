"""The bundled templates speak to each user in their language: every notification a flow
sends has an English and a Chinese text, and a Chinese rep reads the CRM's notices in Chinese."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from metabiz.app import build_runtime
from metabiz.flows import notifications
from metabiz.flows.worker import run_worker
from metabiz.objects import installer


def notify_actions(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "notify" in node:
            yield node["notify"]
        for value in node.values():
            yield from notify_actions(value)
    elif isinstance(node, list):
        for value in node:
            yield from notify_actions(value)


def test_every_notification_of_the_bundled_templates_has_english_and_chinese() -> None:
    found = []
    for name, folder in installer.bundled_templates().items():
        for path in sorted((folder / "flows").glob("*.json")):
            for notify in notify_actions(json.loads(path.read_text(encoding="utf-8"))):
                for part in ("subject", "message"):
                    text = notify.get(part)
                    found.append((f"{name}/{path.name}", part,
                                  sorted(text) if isinstance(text, dict) else text))
    assert len(found) >= 40
    assert [f for f in found if f[2] != ["en", "zh"]] == []


def test_a_chinese_rep_reads_the_crm_notices_in_chinese(engine: Engine, extensions) -> None:
    installer.install(build_runtime(engine), "crm", demo_data=True)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    run_worker(engine, once=True, now=tomorrow, runtime=build_runtime(engine), secret="s")
    with engine.connect() as conn:
        henry = notifications.for_user(conn, "henry", limit=500)  # language zh in the demo
        alice = notifications.for_user(conn, "alice", limit=500)
    subjects = {n["subject"].split("：")[0] for n in henry}
    assert {"新线索", "线索已退回公海"} <= subjects
    assert not [n for n in henry if "lead" in n["subject"].lower()]
    returned = next(n for n in henry if n["subject"].startswith("线索已退回公海："))
    assert "起未跟进，已退回线索公海。" in returned["message"]
    assert any(n["subject"].startswith("Lead returned to the public pool: ") for n in alice)
