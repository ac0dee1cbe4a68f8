"""The API's record writes find their caller inside the write's own transaction, and answer
as the general path does, on SQLite and PostgreSQL.

`platform.api.writing_actor` looks a valid API token up in the write transaction (after the
writers' lock) instead of a read transaction rolled back before the write; anything it
would have to record (a refusal, a first use) goes the general way. Here the same requests
are made both ways — answers, validation and uniqueness refusals naming the field, field
security per role, history rows, roll-ups, nothing written on refusal — and the token
refusals, the recording of a first use and a metadata apply in progress are checked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select, update

from metabiz.app import create_app
from metabiz.objects.evolution import apply_path
from metabiz.platform import api as platform_api
from metabiz.platform import audit
from metabiz.platform.auth import create_token, set_active
from metabiz.platform.config import Config
from metabiz.platform.db import field_history, tokens, utcnow, writer

#: what differs between two runs of the same requests: ids, times, auto-numbers
UNSTABLE = {"id", "created_at", "updated_at", "number", "account", "opportunity", "version"}


@pytest.fixture
def app(sales, db_url, tmp_path):
    application = create_app(Config(database_url=db_url, secret_key="t",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


@pytest.fixture
def tokens_of(sales) -> dict[str, str]:
    with writer(sales).begin() as conn:
        return {user: create_token(conn, user) for user in ("admin", "bob")}


@pytest.fixture
def found_in_write(monkeypatch) -> list[bool]:
    """Whether each write's caller was found by the write's own transaction."""
    seen: list[bool] = []
    real = platform_api.token_actor

    def spy(*args: Any, **kwargs: Any) -> Any:
        actor = real(*args, **kwargs)
        seen.append(actor is not None)
        return actor

    monkeypatch.setattr(platform_api, "token_actor", spy)
    return seen


def _call(client: Any, token: str | None, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(f"/api/v1{path}", method=method, json=body, headers=headers)


def _shown(answer: Any) -> tuple[int, Any]:
    data = answer.get_json(silent=True)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in UNSTABLE}
    return answer.status_code, data


def _count(sales: Any, table: str) -> int:
    with sales.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM obj_{table}").scalar_one())


def _requests(client: Any, sales: Any, admin: str, bob: str, tag: str) -> list[Any]:
    """One run of writes and reads; what a client sees of each (ids and times left out)."""
    seen: list[Any] = []
    account = _call(client, admin, "POST", "/records/account",
                    {"name": f"Acme {tag}", "credit_limit": "1000", "owner": "bob"})
    seen.append(_shown(account))
    acc = account.get_json()["id"]
    deal = _call(client, bob, "POST", "/records/opportunity",
                 {"name": f"D {tag}", "account": acc, "amount": "100.00", "probability": 40})
    seen.append(_shown(deal))
    assert deal.status_code == 201, deal.get_data(as_text=True)
    deal_id = deal.get_json()["id"]
    before = _count(sales, "opportunity")
    # refusals: a validation rule naming its field, a read-only field, a bad body, a
    # taken unique value, an unknown object; none of them writes anything
    seen.append(_shown(_call(client, bob, "POST", "/records/opportunity",
                             {"name": "Negative", "account": acc, "amount": "-5"})))
    seen.append(_shown(_call(client, bob, "POST", "/records/opportunity",
                             {"name": "Discounted", "account": acc, "discount": 5})))
    seen.append(_shown(client.post("/api/v1/records/opportunity", data="{not json",
                                   headers={"Authorization": f"Bearer {bob}",
                                            "Content-Type": "application/json"})))
    seen.append(_shown(_call(client, admin, "POST", "/records/opportunity",
                             {"name": "Coded", "code": f"C-{tag}"})))
    seen.append(_shown(_call(client, admin, "POST", "/records/opportunity",
                             {"name": "Coded again", "code": f"C-{tag}"})))
    seen.append(_shown(_call(client, admin, "POST", "/records/nothing", {"name": "x"})))
    seen.append(_call(client, None, "POST", "/records/account", {"name": "anon"}).status_code)
    assert _count(sales, "opportunity") == before + 1  # only "Coded"
    # a change with its history, roll-ups into the account, and a delete
    seen.append(_shown(_call(client, bob, "PATCH", f"/records/opportunity/{deal_id}",
                             {"amount": "250", "stage": "negotiation"})))
    seen.append(_shown(_call(client, bob, "PATCH", f"/records/opportunity/{deal_id}",
                             {"amount": "-1"})))
    with sales.connect() as conn:
        seen.append(sorted(
            (r.field, r.old_value, r.new_value, r.changed_by) for r in conn.execute(
                select(field_history).where(field_history.c.object == "opportunity",
                                            field_history.c.record_id == deal_id))))
    seen.append(_shown(_call(client, admin, "GET", f"/records/account/{acc}")))
    seen.append(_shown(_call(client, bob, "GET", f"/records/account/{acc}")))
    seen.append(_call(client, bob, "DELETE", f"/records/opportunity/{deal_id}").status_code)
    seen.append(_call(client, admin, "DELETE", f"/records/opportunity/{deal_id}").status_code)
    seen.append(_shown(_call(client, admin, "GET", f"/records/account/{acc}")))
    return seen


def test_writes_answer_as_the_general_path_does(app, sales, tokens_of, found_in_write,
                                                monkeypatch):
    client = app.test_client()
    admin, bob = tokens_of["admin"], tokens_of["bob"]
    for token in (admin, bob):  # a first use is recorded by the general path
        assert _call(client, token, "GET", "/me").status_code == 200
    fast = _requests(client, sales, admin, bob, "fast")
    assert found_in_write and all(found_in_write)
    monkeypatch.setattr(platform_api, "token_actor", lambda *_a, **_k: None)
    general = _requests(client, sales, admin, bob, "general")
    # the same answers, but for the names and codes that carry the run's tag
    assert json.dumps(fast).replace("fast", "TAG") == \
        json.dumps(general).replace("general", "TAG")
    # and what both saw is what a user expects
    statuses = [s[0] if isinstance(s, tuple) else s for s in fast]
    assert statuses[:9] == [201, 201, 422, 403, 400, 201, 409, 404, 403]  # (no token: CSRF)
    assert fast[2][1]["error"]["fields"] == {"amount": ["Amount cannot be negative"]}
    assert "code" in fast[6][1]["error"]["fields"]
    assert fast[9][0] == 200 and fast[9][1]["amount"] == 250
    assert fast[10][0] == 422
    assert ("amount", 100, 250, "bob") in [tuple(r) for r in fast[11]]
    admin_view, bob_view = fast[12][1], fast[13][1]
    assert admin_view["open_amount"] == 250 and admin_view["deal_count"] == 1
    assert admin_view["credit_limit"] == 1000 and "credit_limit" not in bob_view
    assert fast[14:16] == [403, 204]
    assert fast[16][1]["open_amount"] == 0 and fast[16][1]["deal_count"] == 0


def test_a_write_finds_its_caller_in_its_own_transaction(app, sales, tokens_of, db_url):
    client = app.test_client()
    token = tokens_of["admin"]
    assert _call(client, token, "GET", "/me").status_code == 200
    assert _call(client, token, "POST", "/records/account", {"name": "Warm"}).status_code == 201
    engine = app.extensions["metabiz"].engine
    statements: list[str] = []
    begins: list[int] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_a: statements.append(sql.split()[0:2]))
    event.listen(engine, "begin", lambda _conn: begins.append(1))
    made = _call(client, token, "POST", "/records/account", {"name": "One transaction"})
    assert made.status_code == 201
    assert made.get_json()["name"] == "One transaction"
    assert len(begins) == 1  # no read transaction before the write
    # (BEGIN goes to the driver without an execution; on PostgreSQL the writers' lock and
    # the token's query go as one query string, in one round trip)
    expected = ["SELECT sys_tokens.id,", "INSERT INTO"]
    assert [" ".join(words) for words in statements] == (
        expected[1:] if db_url.startswith("postgresql") else expected)


def test_token_refusals_and_a_first_use_are_recorded_apart_from_the_write(app, sales,
                                                                         tokens_of):
    client = app.test_client()
    token = tokens_of["bob"]
    # a first use on a refused write: the write is rolled back, the use is recorded
    refused = _call(client, token, "POST", "/records/opportunity", {"name": None})
    assert refused.status_code == 422
    with sales.connect() as conn:
        assert conn.execute(select(tokens.c.last_used_at).where(
            tokens.c.user_name == "bob")).scalar() is not None
        assert [e.kind for e in audit.entries(conn, kind="token.used")] == ["token.used"]
    assert _call(client, token, "POST", "/records/opportunity",
                 {"name": "Made"}).status_code == 201
    # an expired token, then a deactivated user: 401 on each write, each audited
    with writer(sales).begin() as conn:
        conn.execute(update(tokens).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert _call(client, token, "PATCH", "/records/opportunity/1", {"name": "x"}
                 ).status_code == 401
    with writer(sales).begin() as conn:
        conn.execute(update(tokens).values(expires_at=None))
        set_active(conn, "bob", False)
    assert _call(client, token, "DELETE", "/records/opportunity/1").status_code == 401
    with sales.connect() as conn:
        reasons = [e.detail["reason"] for e in audit.entries(conn, kind="token.rejected")]
        assert sorted(reasons) == ["expired", "user deactivated"]
    assert _count(sales, "opportunity") == 1


@pytest.mark.parametrize("caller", ["token", "session"])
def test_a_write_waiting_for_an_apply_uses_the_applied_metadata(app, sales, sales_dir,
                                                                extensions, tokens_of,
                                                                db_url, caller,
                                                                browser_session):
    """PostgreSQL: a write whose caller was looked up while an apply held the schema lock
    inserts with the version that apply made (a required field with a default is set):
    an API token is looked up after the lock, a browser session before it (the version
    read with it is read again once the lock is held)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's writers hold the database's write lock: an apply waits")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens_of['admin']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    if caller == "session":
        browser_session(client, "admin")
        page = client.get("/").get_data(as_text=True)
        headers = {"X-CSRF-Token": re.search(
            r'<meta name="csrf-token" content="([^"]+)"', page)[1]}
    account = sales_dir / "objects" / "account.json"
    account.write_text(account.read_text().replace(
        '"fields": [', '"fields": [\n    {"api_name": "region", "type": "text", '
                       '"required": true, "default": "\\"EMEA\\""},', 1))
    holding = threading.Event()

    def then(_conn: Any, _schema: Any) -> None:  # inside the apply, its lock held
        holding.set()
        deadline = time.monotonic() + 10
        with sales.connect() as watch:  # until the request waits for the lock
            while not watch.exec_driver_sql(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted").scalar_one() and time.monotonic() < deadline:
                time.sleep(0.02)

    applying = threading.Thread(target=apply_path, args=(sales, sales_dir),
                                kwargs={"extensions": extensions, "then": then})
    applying.start()
    assert holding.wait(30)
    made = client.post("/api/v1/records/account", json={"name": "During an apply"},
                       headers=headers)
    applying.join()
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["region"] == "EMEA"
    with sales.connect() as conn:
        assert conn.exec_driver_sql("SELECT region FROM obj_account").scalar_one() == "EMEA"
