"""The search index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL) on both databases:
Chinese of every length, phone digits, e-mail, access, deletes, edits, renamed and retyped
fields, and `metabiz upgrade` building the index of a database made before it."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from metabiz.app import create_app, upgrade_database
from metabiz.cli import main
from metabiz.objects import records, search_index
from metabiz.objects.evolution.apply import apply_path
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer
from tests.conftest import postgres_base_url
from tests.objects.people_app import make, service


def _add_fields(sales_dir) -> None:
    path = sales_dir / "objects" / "account.json"
    doc = json.loads(path.read_text())
    doc["fields"] += [{"api_name": "phone", "type": "phone", "label": "Phone"},
                      {"api_name": "email", "type": "email", "label": "Email"},
                      {"api_name": "notes", "type": "long_text",
                       "label": {"en": "Notes", "zh": "备注"}}]
    path.write_text(json.dumps(doc))


@pytest.fixture
def app(sales_dir, request, db_url, tmp_path):
    _add_fields(sales_dir)
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def found(client, q: str) -> list[tuple[str, int]]:
    response = client.get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [(r["object"], r["id"]) for r in response.get_json()["results"]]


def snippets(client, q: str) -> list[str]:
    return [r["snippet"] for r in client.get("/api/v1/search", query_string={"q": q})
            .get_json()["results"]]


def index_names(app) -> set[str]:
    """What the database holds of the index: SQLite's FTS tables and their triggers,
    PostgreSQL's trigram indexes."""
    engine = app.extensions["metabiz"].engine
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE name LIKE 'search!_%' ESCAPE '!' "
                "AND (type = 'trigger' OR name LIKE '%!_fts' ESCAPE '!')")).scalars())
        return set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname LIKE 'srch\\_%'")).scalars())


def test_the_index_exists_for_each_object_with_text_fields(app):
    names = index_names(app)
    if app.extensions["metabiz"].engine.dialect.name == "sqlite":
        assert {"search_account_fts", "search_account_fts_ai", "search_account_fts_au",
                "search_account_fts_ad", "search_opportunity_fts"} <= names
    else:  # name, phone, phone digits, email, notes of account
        assert sum(n.startswith("srch_account_") for n in names) == 5


def test_chinese_matches_inside_words_at_every_length(app, client):
    shanghai = make(app, "account", name="上海客户公司", owner="alice")
    make(app, "account", name="北京供应商", owner="alice")
    for q in ("客", "客户", "客户公", "上海客户公司", "海客 公司"):
        assert found(client, q) == [("account", shanghai["id"])], q
    assert found(client, "广州客户") == []


def test_english_is_case_insensitive_and_every_word_must_match(app, client):
    acme = make(app, "account", name="Acme Robotics", owner="alice",
                notes="Met the CTO at the Hannover fair")
    assert found(client, "ROBOTICS") == [("account", acme["id"])]
    assert found(client, "acme hannover") == [("account", acme["id"])]
    assert found(client, "acme berlin") == []
    assert snippets(client, "hannover") == ["Notes: Met the CTO at the Hannover fair"]


def test_phone_numbers_are_found_by_their_digits(app, client):
    acct = make(app, "account", name="Dial Co", owner="alice", phone="+86 (21) 6888-1234")
    for q in ("6888-1234", "68881234", "862168881234", "+86 21", "(21)"):
        assert found(client, q) == [("account", acct["id"])], q
    assert snippets(client, "68881234") == ["Phone: +86 (21) 6888-1234"]
    assert found(client, "68889999") == []


def test_email_addresses_are_found_whole_and_in_part(app, client):
    acct = make(app, "account", name="Mail Co", owner="alice", email="buyer@mail-co.example")
    for q in ("buyer@mail-co.example", "mail-co", "BUYER@"):
        assert found(client, q) == [("account", acct["id"])], q


def test_a_rep_never_finds_another_reps_record_through_the_index(app, client):
    mine = make(app, "account", name="Quasar 上海客户", owner="alice")
    make(app, "account", name="Quasar 上海客户 (eve)", owner="eve")
    assert found(client, "quasar") == [("account", mine["id"])]
    assert found(client, "上海客户") == [("account", mine["id"])]
    assert found(client, "客户") == [("account", mine["id"])]


def test_edited_and_deleted_records_leave_the_index(app, client):
    acct = make(app, "account", name="Old Name Ltd", owner="alice", phone="138 0000 1111")
    with service(app) as ctx:
        records.update(ctx, "account", acct["id"], {"name": "Fresh Name Ltd",
                                                    "phone": "139 2222 3333"})
    assert found(client, "old name") == []
    assert found(client, "13800001111") == []
    assert found(client, "fresh name") == [("account", acct["id"])]
    assert found(client, "13922223333") == [("account", acct["id"])]
    with service(app) as ctx:
        records.delete(ctx, "account", acct["id"])
    assert found(client, "fresh name") == []
    again = make(app, "account", name="Fresh Name Again", owner="alice")
    assert found(client, "fresh name") == [("account", again["id"])]


def test_renamed_and_retyped_fields_stay_searchable(app, client, sales_dir, extensions):
    acct = make(app, "account", name="Rename Co", owner="alice", notes="pallet racking",
                phone="021-5555-0000")
    path = sales_dir / "objects" / "account.json"
    doc = json.loads(path.read_text())
    for f in doc["fields"]:
        if f["api_name"] == "notes":
            f.update(api_name="remarks", renamed_from="notes", label="Remarks")
        if f["api_name"] == "phone":
            f["type"] = "text"  # retyped: the digits column goes, the text stays
    path.write_text(json.dumps(doc))
    apply_path(app.extensions["metabiz"].engine, sales_dir, extensions=extensions)
    assert found(client, "racking") == [("account", acct["id"])]
    assert snippets(client, "racking") == ["Remarks: pallet racking"]
    assert found(client, "5555-0000") == [("account", acct["id"])]
    assert found(client, "55550000") == []  # not a phone any more: no digits match
    later = make(app, "account", name="Later Co", owner="alice", remarks="racking again")
    assert set(found(client, "racking")) == {("account", acct["id"]),
                                             ("account", later["id"])}


def test_a_removed_field_is_no_longer_searched(app, client, sales_dir, extensions):
    acct = make(app, "account", name="Remove Co", owner="alice", notes="forklift")
    path = sales_dir / "objects" / "account.json"
    doc = json.loads(path.read_text())
    doc["fields"] = [f for f in doc["fields"] if f["api_name"] != "notes"]
    path.write_text(json.dumps(doc))
    apply_path(app.extensions["metabiz"].engine, sales_dir, extensions=extensions)
    assert found(client, "forklift") == []
    assert found(client, "remove co") == [("account", acct["id"])]


def test_upgrade_builds_the_index_a_database_made_before_it_lacks(app, client, db_url,
                                                                  tmp_path, monkeypatch):
    acct = make(app, "account", name="Legacy Trading 上海", owner="alice",
                phone="+86 21 1234 5678")
    engine = app.extensions["metabiz"].engine
    with writer(engine).begin() as conn:  # as a database from before the index
        for name in ("account", "opportunity", "line_item"):
            search_index.drop(conn, name)
    assert index_names(app) == set()
    # without an index the search still answers (by scanning), and writes still work
    assert found(client, "legacy trading") == [("account", acct["id"])]
    assert found(client, "12345678") == [("account", acct["id"])]
    other = make(app, "account", name="Legacy Two", owner="alice")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["upgrade", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert index_names(app)
    assert set(found(client, "legacy")) == {("account", acct["id"]), ("account", other["id"])}
    assert found(client, "上海") == [("account", acct["id"])]
    assert found(client, "2112345678") == [("account", acct["id"])]


def test_without_pg_trgm_searches_still_answer(sales_dir, tmp_path, extensions, caplog,
                                               browser_session):
    """A PostgreSQL user who may not create extensions (a managed database without
    pg_trgm): apply and upgrade succeed without the indexes, and searches scan."""
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL not available")
    name = f"nt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")  # owned by the admin: no CREATE
    owned = make_url(base).set(database=name)
    with create_engine(owned, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
    url = owned.set(username=name).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        engine = make_engine(url.render_as_string(hide_password=False))
        upgrade_database(engine, extensions)
        _add_fields(sales_dir)
        with caplog.at_level("WARNING", logger="metabiz.objects.search_index"):
            apply_path(engine, sales_dir, extensions=extensions)
        assert "pg_trgm cannot be created" in caplog.text
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pg_indexes "
                                     "WHERE indexname LIKE 'srch%'")).scalar() == 0
        with writer(engine).begin() as conn:
            create_user(conn, "admin", "admin-pw-long", roles=["admin"])
        app = create_app(Config(database_url=url.render_as_string(hide_password=False),
                                secret_key="t", instance_path=tmp_path, testing=True))
        acct = make(app, "account", name="上海客户公司", phone="+86 21 8888 7777")
        client = app.test_client()
        browser_session(client, "admin")
        assert found(client, "客户公司") == [("account", acct["id"])]
        assert found(client, "88887777") == [("account", acct["id"])]
        app.extensions["metabiz"].engine.dispose()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")
        admin.dispose()
