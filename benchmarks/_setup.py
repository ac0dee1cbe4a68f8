"""Shared set-up for the benchmarks: a throw-away database with a realistic object.

Benchmarks import this module from the project root (`python benchmarks/x.py`).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metabiz.objects.sync import apply_path  # noqa: E402
from metabiz.platform.app import prepare_database  # noqa: E402
from metabiz.platform.auth import create_user  # noqa: E402
from metabiz.platform.db import make_engine, writer  # noqa: E402

DEAL = {
    "api_name": "deal", "label": "Deal", "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "required": True, "max_length": 120},
        {"api_name": "stage", "type": "picklist", "default": "\"open\"",
         "values": [{"value": "open", "label": "Open"}, {"value": "won", "label": "Won"},
                    {"value": "lost", "label": "Lost"}]},
        {"api_name": "amount", "type": "currency", "scale": 2},
        {"api_name": "probability", "type": "percent"},
        {"api_name": "close_date", "type": "date"},
        {"api_name": "email", "type": "email"},
        {"api_name": "weighted", "type": "formula", "return_type": "currency",
         "formula": "amount * probability / 100"},
    ],
    "validation_rules": [{"api_name": "positive", "error_condition": "amount < 0",
                          "message": "Amount cannot be negative", "field": "amount"}],
}


def database(url: str | None = None):
    """An engine on a fresh database (SQLite in a temp folder unless a URL is given)."""
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="metabiz-bench-"))
        url = f"sqlite:///{folder}/bench.db"
    elif url.startswith("postgresql"):
        url = _fresh_schema(url)
    engine = make_engine(url)
    prepare_database(engine)
    app = Path(tempfile.mkdtemp(prefix="metabiz-bench-app-"))
    (app / "objects").mkdir()
    (app / "app.json").write_text(json.dumps({"name": "bench", "version": "1.0.0",
                                              "label": "Bench"}))
    (app / "objects" / "deal.json").write_text(json.dumps(DEAL))
    apply_path(engine, app)
    with writer(engine).begin() as conn:
        create_user(conn, "bench", "bench-pw", roles=["admin"])
    return engine


def _fresh_schema(url: str) -> str:
    """A new, empty schema on the PostgreSQL server, so runs never see each other's tables."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    admin.dispose()
    fresh = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return fresh.render_as_string(hide_password=False)


def deal_input(i: int) -> dict:
    return {"name": f"Deal {i}", "stage": ("open", "won", "lost")[i % 3],
            "amount": f"{(i * 37) % 100000}.{i % 100:02d}", "probability": i % 100,
            "close_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "email": f"buyer{i}@example.com"}
