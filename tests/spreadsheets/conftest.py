"""Fixtures for imports and exports: the sales app with importing and exporting roles, on
SQLite and PostgreSQL, its command line, its API client and a job worker to run imports."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, table

from metabiz.app import build_runtime, create_app, prepare_database
from metabiz.cli import main
from metabiz.flows.worker import run_worker
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.objects.query import list_records
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_token, create_user, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
SECRET = "sheets-tests"

#: importer: may import and export opportunities; rep: the sales fixture's role (neither)
ROLES = {
    "importer": {"api_name": "importer", "label": "Importer",
                 "objects": {"opportunity": ["read", "create", "edit", "import", "export"],
                             "account": ["read", "export"]},
                 "record_access": "own",
                 "fields": {"opportunity.discount": "read_only",
                            "opportunity.contact_email": "hidden"}},
}

#: Chinese labels given to some opportunity fields (headers may use them)
CHINESE = {"name": "名称", "stage": "阶段", "amount": "金额", "close_date": "结单日期"}


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    target = tmp_path / "sales"
    shutil.copytree(SALES, target)
    for name, doc in ROLES.items():
        (target / "roles" / f"{name}.json").write_text(json.dumps(doc))
    path = target / "objects" / "opportunity.json"
    doc = json.loads(path.read_text())
    for field in doc["fields"]:
        if field["api_name"] in CHINESE:
            field["label"] = {"en": field.get("label", field["api_name"].title()),
                              "zh": CHINESE[field["api_name"]]}
    path.write_text(json.dumps(doc))
    return target


@pytest.fixture
def engine(db_url: str, app_dir: Path, extensions: Any):
    eng = make_engine(db_url)
    prepare_database(eng)
    apply_path(eng, app_dir, extensions=extensions)
    with writer(eng).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "alice", "alice-pw", roles=["importer"], display_name="Alice Chen")
        create_user(conn, "bob", "bob-pw", roles=["sales_rep"], display_name="Bob Li")
        create_user(conn, "carol", "carol-pw", roles=["importer"], display_name="Carol Wu")
    runtime = build_runtime(eng)
    with writer(eng).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        records.create_many(ctx, "account", [
            {"name": "Acme Corp", "industry": "tech", "owner": "alice"},
            {"name": "Globex", "industry": "retail", "owner": "alice"},
            {"name": "Initech", "industry": "tech", "owner": "bob"}])
    yield eng
    eng.dispose()


@pytest.fixture
def runtime(engine):
    return build_runtime(engine)


@pytest.fixture
def cli(db_url: str, engine, tmp_path: Path, monkeypatch) -> Callable[..., Any]:
    """`cli("import", "opportunity", path, "--dry-run")` → click's Result (stdout and stderr
    apart: `.stdout`, `.stderr`)."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Any:
        return CliRunner().invoke(main, [args[0], "--database-url", db_url, *args[1:]])

    return invoke


@pytest.fixture
def rows(engine, runtime) -> Callable[..., list[dict[str, Any]]]:
    """`rows("opportunity")`: every record as the API shows it, oldest first."""
    def read(object_name: str, user: str = "admin") -> list[dict[str, Any]]:
        with engine.connect() as conn:
            ctx = runtime.context(conn, load_actor(conn, user))
            return list_records(ctx, object_name, limit=1000, sort="id").records

    return read


@pytest.fixture
def client(engine, db_url: str, tmp_path: Path):
    app = create_app(Config(database_url=db_url, secret_key=SECRET, instance_path=tmp_path,
                            testing=True))
    with writer(engine).begin() as conn:
        tokens = {name: create_token(conn, name) for name in ("admin", "alice", "bob", "carol")}
    test_client = app.test_client()
    test_client.tokens = tokens  # type: ignore[attr-defined]
    yield test_client
    app.extensions["metabiz"].engine.dispose()


@pytest.fixture
def worker(engine, runtime) -> Callable[[], int]:
    """Run the due jobs once (imports queued by the API or the page)."""
    def run() -> int:
        return run_worker(engine, once=True, secret=SECRET, runtime=runtime)

    return run


@pytest.fixture
def auth(client: Any) -> Callable[[str], dict[str, str]]:
    """`auth("alice")`: the headers of an API call as that user."""
    return lambda user: {"Authorization": f"Bearer {client.tokens[user]}"}


@pytest.fixture
def count(engine) -> Callable[[str], int]:
    """`count("obj_opportunity")`: how many rows a table holds."""
    def rows_in(table_name: str) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table(table_name)))
                       .scalar_one())

    return rows_in
