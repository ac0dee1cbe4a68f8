"""Upgrading the system tables: a database made by release 0.1 reaches the newest revisions with
every row kept, out-of-date databases are refused, and the revisions match the models.

Runs on SQLite and PostgreSQL. The 0.1 database is tests/fixtures/release_0_1/metabiz.db.gz
(made by scripts/make_release_fixture.py); on PostgreSQL its rows are copied into tables made
with release 0.1's DDL (the first revisions, run without recording them).
"""

from __future__ import annotations

import gzip
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    MetaData,
    String,
    create_engine,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url

from metabiz.app import create_app
from metabiz.cli import main
from metabiz.errors import OutOfDateDatabase, UnknownDatabaseSchema
from metabiz.flows.extension import MIGRATIONS as FLOW_MIGRATIONS
from metabiz.flows.store import flow_metadata
from metabiz.platform.auth import authenticate_password, create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, system_metadata, tokens, user_roles, users, writer
from metabiz.platform.exact_numbers import read_exactly
from metabiz.platform.migrations import KERNEL_VERSIONS, VERSION_TABLE, pending, upgrade
from metabiz.spreadsheets.extension import MIGRATIONS as SHEET_MIGRATIONS
from metabiz.spreadsheets.store import sheet_metadata

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release_0_1" / "metabiz.db.gz"
FOLDERS = [FLOW_MIGRATIONS, SHEET_MIGRATIONS]
#: the newest revision of the kernel's branch
PLATFORM_HEAD = "platform_0007_recent"
#: the first revision of each branch: release 0.1's tables
BASELINES = ("platform_0001", "flows_0001")
MESSAGE = "the database is at an older schema; run `metabiz upgrade`"


# -- building databases ------------------------------------------------------------------

def run_revisions(conn: Connection, *revisions: str) -> None:
    """Run revisions' `upgrade()` without recording them: tables as an old release made them."""
    script = ScriptDirectory(str(KERNEL_VERSIONS.parent),
                             version_locations=[str(KERNEL_VERSIONS), str(FLOW_MIGRATIONS)])
    with Operations.context(MigrationContext.configure(conn)):
        for revision in revisions:
            script.get_revision(revision).module.upgrade()  # type: ignore[union-attr]


def unpack_fixture(target: Path) -> Path:
    with gzip.open(FIXTURE, "rb") as packed, target.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def load_release_0_1(url: str, scratch: Path) -> None:
    """Make the database at `url` hold the 0.1 fixture: the file itself on SQLite; on
    PostgreSQL 0.1's system tables from the first revisions, the object tables as reflected,
    and every row."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        unpack_fixture(Path(parsed.database or ""))
        return
    source = create_engine(f"sqlite:///{unpack_fixture(scratch / 'release_0_1.db')}")
    tables = MetaData()
    tables.reflect(source)
    target = make_engine(url)
    with target.begin() as conn:
        # 0.1 made sys_conversion_losses on first use, as platform_0002 does
        run_revisions(conn, *BASELINES, "platform_0002")
        conn.execute(text("DELETE FROM sys_users"))  # the fixture brings its system user
        copies = MetaData()
        copies.reflect(conn)
        for table in tables.sorted_tables:
            if table.name in copies.tables:
                continue
            copy = table.to_metadata(copies)
            for column in copy.columns:
                column.type = BigInteger() if column.name == "id" else column.type.as_generic()
            copy.create(conn)
        with source.connect() as read:
            for table in tables.sorted_tables:
                rows = [dict(row) for row in read.execute(select(table)).mappings()]
                if rows:
                    conn.execute(insert(copies.tables[table.name]), rows)
        for table in copies.sorted_tables:
            if "id" in table.c and table.c.id.primary_key:
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                  f"max(id)) FROM {table.name}"))
    source.dispose()
    target.dispose()


def snapshot(url: str, *, scaled: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the version table, in primary-key order (`scaled`: a
    SQLite database's exact numbers are read from the integers platform_0006 made them)."""
    engine = make_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    if scaled and engine.dialect.name == "sqlite":
        for table in tables.sorted_tables:
            read_exactly(table)
    with engine.connect() as conn:
        found = {table.name: [tuple(row) for row in conn.execute(
                     select(table).order_by(*table.primary_key.columns))]
                 for table in tables.sorted_tables if table.name != VERSION_TABLE}
    engine.dispose()
    return found


def recorded(url: str) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        heads = {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}
    engine.dispose()
    return heads


@pytest.fixture
def run(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)  # instance/ (the secret key) goes here
    groups = {"users", "tokens"}

    def invoke(*args: str) -> Result:
        argv = [*args[:2], "--database-url", db_url, *args[2:]] if args[0] in groups else \
            [args[0], "--database-url", db_url, *args[1:]]
        return CliRunner().invoke(main, argv)

    return invoke


@pytest.fixture
def release_0_1(db_url: str, tmp_path: Path) -> str:
    load_release_0_1(db_url, tmp_path)
    return db_url


def refused(result: Result) -> bool:
    return (result.exit_code == 1 and MESSAGE in result.output
            and "Traceback" not in result.output and isinstance(result.exception, SystemExit))


# -- release 0.1 -> head -----------------------------------------------------------------

@pytest.mark.parametrize("command", ["upgrade", "init"])
def test_a_release_0_1_database_upgrades_keeping_every_row(release_0_1: str, run, command: str,
                                                           tmp_path: Path) -> None:
    before = snapshot(release_0_1)
    assert len(before["obj_opportunity"]) == 50 and len(before["flow_jobs"]) > 200
    statuses = sorted(row[4] for row in before["flow_approval_requests"])  # id, object, ...
    assert statuses == ["approved", "pending"]
    # independent branches come in no particular order
    assert sorted(pending(make_engine(release_0_1), FOLDERS)) == [
        "flows_0001", "platform_0001", "platform_0002", "platform_0003", "platform_0004_pools",
        "platform_0005_people", "platform_0006_numbers", "platform_0007_recent",
        "spreadsheets_0001"]

    result = run(command)
    assert result.exit_code == 0, result.output
    assert "platform_0001" in result.output and "flows_0001" in result.output

    after = snapshot(release_0_1, scaled=True)
    # the upgrade builds the search index of every object (SQLite: an FTS5 table each,
    # holding its rows; PostgreSQL: trigram indexes, not tables)
    index = {name for name in after if name.startswith("search_")}
    if release_0_1.startswith("sqlite"):
        assert {"search_opportunity_fts", "search_account_fts"} <= index
        assert len(after["search_opportunity_fts"]) == 50
    for name in index:
        after.pop(name)
    # platform_0003's, platform_0007_recent's and spreadsheets_0001's, empty
    assert set(after) == set(before) | {"sys_sessions", "sys_recent_views", "sheet_imports"}
    assert after.pop("sys_sessions") == [] and after.pop("sheet_imports") == []
    assert after.pop("sys_recent_views") == []
    # platform_0004_pools adds two empty columns (kind, note) to the field history
    after["sys_field_history"] = [row[:-2] for row in after["sys_field_history"]
                                  if row[-2:] == (None, None)]
    # platform_0005_people adds sys_users.timezone (last column), empty for existing users
    assert all(row[-1] is None for row in after["sys_users"])
    after["sys_users"] = [row[:-1] for row in after["sys_users"]]
    for table, rows in before.items():
        assert after[table] == rows, table
    assert recorded(release_0_1) == {PLATFORM_HEAD, "flows_0001", "spreadsheets_0001"}
    assert pending(make_engine(release_0_1), FOLDERS) == []
    assert run("upgrade").output.strip().endswith("is up to date")

    # the upgraded database serves: old passwords, new tokens, lists, writes, approvals
    engine = make_engine(release_0_1)
    with engine.connect() as conn:
        assert authenticate_password(conn, "dave", "demo").name == "dave"
    engine.dispose()
    tokens = {name: run("tokens", "create", name).output.strip().splitlines()[-1]
              for name in ("ada", "bob")}
    app = create_app(Config(database_url=release_0_1, secret_key="test",
                            instance_path=tmp_path / "instance", testing=True))
    client = app.test_client()

    def call(method: str, path: str, user: str = "ada", body: Any = None) -> Any:
        response = client.open(f"/api/v1{path}", method=method, json=body,
                               headers={"Authorization": f"Bearer {tokens[user]}"})
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.get_json()

    deals = call("GET", "/records/opportunity?limit=200")["records"]
    assert len(deals) == 50
    items = {item["name"]: item for item in call("GET", "/records/legacy_item")["records"]}
    assert items["Bolt"]["seen_at"] == "2026-03-02T01:00:00Z" and items["Bolt"]["code"] is None
    assert items["Gear"]["code"] == 12
    created = call("POST", "/records/legacy_item", body={"name": "Washer", "code": 3})
    assert created["id"] == 4
    inbox = call("GET", "/approvals", user="bob")
    assert [item["status"] for item in inbox["items"]] == ["pending"]


def test_serve_and_worker_refuse_an_out_of_date_database(release_0_1: str, run,
                                                        tmp_path: Path) -> None:
    for argv in (("serve", "--no-worker"), ("worker", "--once")):
        result = run(*argv)
        assert refused(result), result.output
    with pytest.raises(OutOfDateDatabase, match="run `metabiz upgrade`"):
        create_app(Config(database_url=release_0_1, secret_key="test",
                          instance_path=tmp_path / "instance", testing=True))
    engine = make_engine(release_0_1)
    assert not inspect(engine).has_table(VERSION_TABLE)  # refusing changed nothing
    engine.dispose()


def test_a_database_at_an_older_revision_is_refused_then_upgraded(db_url: str, run) -> None:
    engine = make_engine(db_url)
    upgrade(engine, FOLDERS)
    with engine.begin() as conn:  # as platform_0001 left it
        conn.execute(text("DROP TABLE sys_sessions"))
        conn.execute(text("DROP TABLE sys_recent_views"))
        conn.execute(text("DROP TABLE sys_conversion_losses"))
        conn.execute(text("ALTER TABLE sys_users DROP COLUMN timezone"))
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'platform_0001' "
                          f"WHERE version_num = '{PLATFORM_HEAD}'"))
    assert pending(engine, FOLDERS) == ["platform_0002", "platform_0003", "platform_0004_pools",
                                        "platform_0005_people", "platform_0006_numbers",
                                        "platform_0007_recent"]
    assert refused(run("worker", "--once"))
    result = run("upgrade")
    assert result.exit_code == 0 and "platform_0002" in result.output, result.output
    assert inspect(engine).has_table("sys_conversion_losses")
    assert inspect(engine).has_table("sys_sessions")
    assert run("worker", "--once").exit_code == 0
    engine.dispose()


def test_init_twice_is_idempotent(db_url: str, run) -> None:
    first = run("init")
    assert first.exit_code == 0 and "platform_0001" in first.output, first.output
    heads = recorded(db_url)
    assert heads == {PLATFORM_HEAD, "flows_0001", "spreadsheets_0001"}
    second = run("init")
    assert second.exit_code == 0 and "platform_0001" not in second.output, second.output
    assert recorded(db_url) == heads
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert [row.name for row in conn.execute(select(users.c.name))] == ["system"]
    engine.dispose()


def test_a_database_from_a_newer_release_or_of_unknown_tables_is_refused(db_url: str,
                                                                       run) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:  # sys_users alone: not something a release made
        system_metadata.tables["sys_users"].create(conn)
    result = run("upgrade")
    assert result.exit_code == 1 and "not made by a release of metabiz" in result.output
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE sys_users"))
    upgrade(engine, FOLDERS)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'platform_0999' "
                          f"WHERE version_num = '{PLATFORM_HEAD}'"))
    result = run("init")
    assert result.exit_code == 1 and "newer release" in result.output, result.output
    assert "Traceback" not in result.output
    engine.dispose()


def test_two_processes_upgrading_a_blank_database_at_once(db_url: str) -> None:
    engines = [make_engine(db_url) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[Any] = []

    def one(engine: Any) -> None:
        start.wait()
        try:
            outcomes.append(upgrade(engine, FOLDERS))
        except Exception as err:  # the assertion below shows it
            outcomes.append(err)

    threads = [threading.Thread(target=one, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [sorted(moved) for moved in sorted(outcomes, key=len)] == [
        [], ["flows_0001", "platform_0001", "platform_0002", "platform_0003",
             "platform_0004_pools", "platform_0005_people", "platform_0006_numbers",
             "platform_0007_recent", "spreadsheets_0001"]]
    for engine in engines:
        engine.dispose()


REBUILD_USERS = '''"""A package's own branch that rebuilds sys_users (SQLite copies the table).

Only for the test below.
"""

import sqlalchemy as sa
from alembic import op

revision = "extra_0001"
down_revision = None
branch_labels = ("extra",)
depends_on = "platform_0002"


def upgrade():
    with op.batch_alter_table("sys_users") as batch:
        batch.alter_column("display_name", existing_type=sa.String(200), type_=sa.String(300))


def downgrade():
    pass
'''


def test_a_registered_branch_runs_and_a_rebuilt_table_keeps_what_references_it(
        db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    upgrade(engine, FOLDERS)
    with writer(engine).begin() as conn:
        create_user(conn, "alice", "pw123456", roles=["sales_rep", "finance"], by="test")
        create_token(conn, "alice", by="test")
    extra = tmp_path / "extra_migrations"
    extra.mkdir()
    (extra / "extra_0001_rebuild_users.py").write_text(REBUILD_USERS)
    assert pending(engine, [*FOLDERS, extra]) == ["extra_0001"]
    assert upgrade(engine, [*FOLDERS, extra]) == ["extra_0001"]
    with engine.connect() as conn:
        assert conn.execute(select(user_roles.c.role).where(user_roles.c.user_name == "alice")
                            .order_by(user_roles.c.role)).scalars().all() == ["finance",
                                                                               "sales_rep"]
        assert conn.execute(select(tokens.c.user_name)).scalars().all() == ["alice"]
    assert inspect(engine).get_columns("sys_users")[2]["type"].length == 300
    # a database with a branch this process does not know of was upgraded by a newer release
    with pytest.raises(UnknownDatabaseSchema, match="newer release"):
        upgrade(engine, FOLDERS)
    engine.dispose()


# -- the revisions against the models ----------------------------------------------------

def differences(conn: Connection, models: MetaData) -> list[Any]:
    def ours(_obj: Any, name: str | None, kind: str, _reflected: bool, _other: Any) -> bool:
        return not (kind == "table" and name == VERSION_TABLE)

    context = MigrationContext.configure(conn, opts={
        "compare_type": True, "compare_server_default": True, "include_object": ours})
    return list(compare_metadata(context, models))


def test_the_revisions_build_exactly_the_tables_the_models_describe(db_url: str) -> None:
    """Fails when a system table's model changed without a revision (or the other way):
    the message lists what a new revision has to do."""
    engine = make_engine(db_url)
    upgrade(engine, FOLDERS)
    models = MetaData()
    for table in (*system_metadata.tables.values(), *flow_metadata.tables.values(),
                  *sheet_metadata.tables.values()):
        table.to_metadata(models)
    with engine.connect() as conn:
        found = differences(conn, models)
        assert found == [], ("the system tables' models and their revisions disagree; write "
                             "a revision (docs/operations.md):\n" + pformat(found))
        # the comparison does see a change: a model column no revision made
        models.tables["sys_users"].append_column(Column("nickname", String(40)))
        assert [diff[0] for diff in differences(conn, models)] == ["add_column"]
    engine.dispose()


def test_the_first_revisions_make_release_0_1_tables_exactly(tmp_path: Path) -> None:
    """SQLite keeps each table's CREATE statement: the baselines' must be release 0.1's."""
    made_by_0_1 = make_engine(f"sqlite:///{unpack_fixture(tmp_path / 'release.db')}")
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    with fresh.begin() as conn:
        run_revisions(conn, *BASELINES)

    def schema(engine: Any) -> list[tuple[str, ...]]:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE tbl_name LIKE 'sys\\_%' ESCAPE '\\' OR tbl_name LIKE 'flow\\_%' ESCAPE '\\' "
                "ORDER BY name"))]

    expected = [row for row in schema(made_by_0_1) if row[2] != "sys_conversion_losses"]
    assert len(expected) > 20
    assert schema(fresh) == expected
    made_by_0_1.dispose()
    fresh.dispose()
