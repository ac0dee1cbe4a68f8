"""Records the bundled templates' automation creates speak their owner's language: a task's
subject (and a commission's name) is written in English for alice and in Chinese for henry,
as notifications are; a value given once stays one text for everyone."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from metabiz.app import build_runtime
from metabiz.objects import installer, query, records
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer

#: the texts people read on a created record
READ = ("subject", "description", "name")
#: the formula's text literals, read left to right
LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"')


def english(formula: str) -> bool:
    """Whether a text literal of the formula holds an English word."""
    return any(re.search(r"[A-Za-z]{3,}", literal) for literal in LITERAL.findall(formula))


def created_values(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("create"), dict):
            yield node["create"]["values"]
        for value in node.values():
            yield from created_values(value)
    elif isinstance(node, list):
        for value in node:
            yield from created_values(value)


def test_every_created_text_with_english_words_has_a_chinese_one() -> None:
    untranslated, localized = [], 0
    for name, folder in installer.bundled_templates().items():
        for path in sorted((folder / "flows").glob("*.json")):
            for values in created_values(json.loads(path.read_text(encoding="utf-8"))):
                for key in READ:
                    value = values.get(key)
                    if isinstance(value, dict):
                        localized += sorted(value) == ["en", "zh"]
                    elif isinstance(value, str) and english(value):
                        untranslated.append(f"{name}/{path.name}: {key}")
    assert untranslated == [] and localized >= 6




def test_a_stage_task_is_written_in_its_owners_language(engine: Engine, extensions) -> None:
    runtime = build_runtime(engine)
    installer.install(runtime, "crm", demo_data=True)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        account = records.create(ctx, "account", {"name": "Language Test Ltd"})
        deals = {}
        for owner in ("alice", "henry"):  # henry reads Chinese (the demo users' setting)
            deals[owner] = records.create(ctx, "opportunity", {
                "name": f"Deal of {owner}", "owner": owner, "stage": "qualification",
                "account": account["id"],
                "close_date": "2027-06-30", "amount": 1000})
            records.update(ctx, "opportunity", deals[owner]["id"], {"stage": "proposal"})
        tasks = {owner: [t["subject"] for t in query.list_records(
            ctx, "task", filter=f"opportunity = {deal['id']}", limit=10).records]
            for owner, deal in deals.items()}
    assert "Send the proposal and quote: Deal of alice" in tasks["alice"]
    assert "发送方案和报价：Deal of henry" in tasks["henry"]
    assert not [s for s in tasks["henry"] if "proposal" in s.lower()]
