"""`metabiz backup` → `metabiz load-backup` gives the same API answers on an empty database
of either kind (SQLite → PostgreSQL and back): metadata versions, users and their tokens,
records, history, approvals and jobs; ids are never reused after the load."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import MetaData, create_engine, func, select
from sqlalchemy.engine import make_url

from metabiz.app import create_app
from metabiz.cli import main
from metabiz.platform.config import Config
from tests.conftest import postgres_base_url

OBJECTS = ("account", "contact", "opportunity", "lead", "task", "contract")


def cli(url: str, *args: str):
    command, *rest = args
    group = command in ("template", "tokens", "users")
    argv = [command, rest[0], "--database-url", url, *rest[1:]] if group else \
        [command, "--database-url", url, *rest]
    return CliRunner().invoke(main, argv)


@pytest.fixture
def target_url(db_url, tmp_path) -> Iterator[str]:
    """A second, empty database of the other kind (SQLite → PostgreSQL and back)."""
    if db_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path}/target.db"
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL not available")
    schema = f"b_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def counts(url: str) -> dict[str, int]:
    """Rows of every table but the search index (SQLite's FTS5 tables, rebuilt on load)."""
    engine = create_engine(url)
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn, only=lambda name, _meta: not name.startswith("search_"))
        found = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                 for t in meta.sorted_tables}
    engine.dispose()
    return found


def answers(url: str, token: str, tmp_path) -> tuple[dict, dict]:
    app = create_app(Config(database_url=url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def get(path: str):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True))
        return response.get_json()

    out = {"me": get("/api/v1/me"), "meta": get("/api/v1/meta/objects")}
    for name in OBJECTS:
        out[name] = get(f"/api/v1/records/{name}?limit=1000&sort=id")
    first = out["opportunity"]["records"][0]["id"]
    out["history"] = get(f"/api/v1/records/opportunity/{first}/history")
    out["approvals"] = get(f"/api/v1/records/opportunity/{first}/approvals")
    out["inbox"] = get("/api/v1/approvals?status=all")
    out["contract_approvals"] = [
        get(f"/api/v1/records/contract/{c['id']}/approvals") for c in out["contract"]["records"]]
    created = client.post("/api/v1/records/account", json={"name": "After the load"})
    assert created.status_code == 201
    app.extensions["metabiz"].engine.dispose()
    return out, created.get_json()


def test_backup_loads_into_an_empty_database_of_either_kind(db_url, target_url, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)  # instance/ (the secret key, stored files) goes here
    assert cli(db_url, "template", "install", "crm", "--demo-data").exit_code == 0
    assert cli(db_url, "users", "create", "admin", "--password", "admin-pw",
               "--role", "admin").exit_code == 0
    token = cli(db_url, "tokens", "create", "admin").output.strip()
    assert token.startswith("mbz_")
    # history, an approval and a deleted record (whose id must not come back)
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    opportunity = client.get("/api/v1/records/opportunity?sort=id&limit=1").get_json()
    first = opportunity["records"][0]["id"]
    assert client.patch(f"/api/v1/records/opportunity/{first}",
                        json={"name": "Renamed before the backup"}).status_code == 200
    draft = client.get("/api/v1/records/contract", query_string={
        "filter": 'ISPICKVAL(status, "draft") && amount > 0', "limit": 1}).get_json()["records"]
    submitted = client.post(f"/api/v1/records/contract/{draft[0]['id']}/approvals", json={})
    assert submitted.status_code == 201, submitted.get_data(as_text=True)
    last = client.post("/api/v1/records/account", json={"name": "Short-lived"}).get_json()["id"]
    assert client.delete(f"/api/v1/records/account/{last}").status_code == 204
    (tmp_path / "instance" / "files" / "account").mkdir(parents=True)
    (tmp_path / "instance" / "files" / "account" / "logo.png").write_bytes(b"\x89PNG-ish")
    app.extensions["metabiz"].engine.dispose()

    written = cli(db_url, "backup", str(tmp_path / "snap"))
    assert written.exit_code == 0, written.output
    assert "1 files" in written.output
    source_counts = counts(db_url)
    source, source_new = answers(db_url, token, tmp_path / "a")

    shutil_target = tmp_path / "instance" / "files"
    shutil.rmtree(shutil_target)
    loaded = cli(target_url, "load-backup", str(tmp_path / "snap"))
    assert loaded.exit_code == 0, loaded.output
    assert (shutil_target / "account" / "logo.png").read_bytes() == b"\x89PNG-ish"
    assert counts(target_url) == source_counts
    target, target_new = answers(target_url, token, tmp_path / "b")
    assert target == source
    assert source["history"]["history"] and source["opportunity"]["total"] > 5
    assert source_counts["flow_approval_requests"] == 1 and source_counts["flow_jobs"] > 0
    assert any(a["requests"] for a in source["contract_approvals"])
    # the new record takes the next id on both sides: the deleted one is not reused
    assert target_new["id"] == source_new["id"] > last

    again = cli(target_url, "load-backup", str(tmp_path / "snap"))
    assert again.exit_code == 1
    assert "not empty" in again.output


def test_load_backup_refuses_what_is_not_a_backup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    refused = cli(f"sqlite:///{tmp_path}/t.db", "load-backup", str(tmp_path / "empty"))
    assert refused.exit_code == 1
    assert "not a backup" in refused.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    busy = cli(f"sqlite:///{tmp_path}/t.db", "backup", str(tmp_path / "full"))
    assert busy.exit_code == 1 and "must be new or empty" in busy.output
