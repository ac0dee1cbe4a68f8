"""The web kernel's defences, on SQLite and PostgreSQL: security headers on every response,
Secure cookies behind a setting, sessions that end for good, private SQLite files, the
statement timeout, and no 500 for a value the database refuses or a mangled `next`."""

from __future__ import annotations

import functools
import os
import re
import stat
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

import metabiz.formulas.sql as formula_sql
from metabiz.app import create_app
from metabiz.objects.evolution import apply_path
from metabiz.platform import auth, db
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
PACKAGE = Path(__file__).resolve().parents[2] / "metabiz"


def make_app(db_url, tmp_path, **settings):
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True, **settings))
    engine = app.extensions["metabiz"].engine
    apply_path(engine, SALES, extensions=app.extensions["metabiz"].runtime.extensions)
    with writer(engine).begin() as conn:
        auth.create_user(conn, "alice", "alice-pw", roles=["sales_rep"])
        auth.create_user(conn, "admin", "admin-pw", roles=["admin"])
        app.test_token = auth.create_token(conn, "admin")  # type: ignore[attr-defined]
    return app


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    # real hashing costs ~0.3 s a password; these tests are not about it
    monkeypatch.setattr(auth, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"))


@pytest.fixture
def app(db_url, tmp_path):
    application = make_app(db_url, tmp_path)
    yield application
    application.extensions["metabiz"].engine.dispose()


def sign_in(client, user="alice", password=None, **form):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    return client.post("/login", data={"username": user, "password": password or f"{user}-pw",
                                       "csrf_token": token, **form})


def csrf(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


# -- headers ------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(app):
    client = app.test_client()
    anonymous = [client.get("/login"), client.get("/api/v1/me"), client.get("/nowhere"),
                 client.get("/static/app.css")]
    sign_in(client)
    signed_in = [client.get("/"), client.get("/o/opportunity"), client.get("/o/opportunity/new"),
                 client.get("/api/v1/records/opportunity")]
    for response in anonymous + signed_in:
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "style-src 'self'" in policy and "unsafe" not in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_templates_need_nothing_the_policy_forbids():
    """No inline script, style or event handler: the CSP ('self' only) would block them."""
    templates = [p for folder in ("platform/web/templates", "objects/templates",
                                  "flows/templates") for p in (PACKAGE / folder).glob("*.html")]
    assert len(templates) > 15
    for path in templates:
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert "<style" not in text and not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text) and "javascript:" not in text, path
        assert "hx-on" not in text and "js:" not in text, path
    layout = (PACKAGE / "platform/web/templates/layout.html").read_text()
    assert '"includeIndicatorStyles": false' in layout and '"allowEval": false' in layout


# -- cookies --------------------------------------------------------------------------------


def test_secure_cookies_behind_a_setting(db_url, tmp_path, monkeypatch):
    plain = make_app(db_url, tmp_path / "plain")
    cookie = sign_in(plain.test_client()).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" not in cookie
    plain.extensions["metabiz"].engine.dispose()
    monkeypatch.setenv("METABIZ_SECURE_COOKIES", "1")
    monkeypatch.setenv("METABIZ_SECRET_KEY", "t")
    assert Config.from_env(db_url).secure_cookies is True
    secure = create_app(Config(database_url=db_url, secret_key="t", testing=True,
                               instance_path=tmp_path / "secure", secure_cookies=True))
    client = secure.test_client()
    cookie = sign_in(client).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    secure.extensions["metabiz"].engine.dispose()


def test_the_statement_timeout_setting(monkeypatch):
    monkeypatch.setenv("METABIZ_SECRET_KEY", "t")
    assert Config.from_env("sqlite://").statement_timeout == 30
    monkeypatch.setenv("METABIZ_STATEMENT_TIMEOUT", "2.5")
    assert Config.from_env("sqlite://").statement_timeout == 2.5
    monkeypatch.setenv("METABIZ_STATEMENT_TIMEOUT", "0")
    assert Config.from_env("sqlite://").statement_timeout == 0
    monkeypatch.setenv("METABIZ_STATEMENT_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="METABIZ_STATEMENT_TIMEOUT must be a number"):
        Config.from_env("sqlite://")


# -- sessions end for good -------------------------------------------------------------------


def copy_of_cookie(app, client):
    """A second browser holding the same session cookie (as a thief would)."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    other.set_cookie("session", cookie.value)
    return other


def test_signing_out_ends_the_session_on_the_server(app):
    client = app.test_client()
    assert sign_in(client).status_code == 302
    stolen = copy_of_cookie(app, client)
    assert stolen.get("/api/v1/me").get_json()["name"] == "alice"
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302
    assert stolen.get("/api/v1/me").status_code == 401  # the copy is worthless now
    assert stolen.get("/").status_code == 302


def test_a_new_password_ends_every_session_of_the_user(app):
    client, other = app.test_client(), app.test_client()
    sign_in(client)
    sign_in(other)
    admin = app.test_client()
    sign_in(admin, "admin")
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        auth.set_password(conn, "alice", "new-secret")
    assert client.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 401
    assert admin.get("/api/v1/me").get_json()["name"] == "admin"  # others keep theirs
    assert sign_in(client, password="new-secret").status_code == 302
    assert client.get("/api/v1/me").get_json()["name"] == "alice"


def test_reactivating_a_user_does_not_bring_old_sessions_back(app):
    client = app.test_client()
    sign_in(client)
    engine = app.extensions["metabiz"].engine
    with writer(engine).begin() as conn:
        auth.set_active(conn, "alice", False)
        auth.set_active(conn, "alice", True)
    assert client.get("/api/v1/me").status_code == 401


def test_a_cookie_naming_a_user_without_a_server_session_signs_nobody_in(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = "alice"  # what a cookie from before server-side sessions held
    assert client.get("/api/v1/me").status_code == 401
    with client.session_transaction() as session:
        session["user"], session["sid"] = "admin", "made-up"
    assert client.get("/api/v1/me").status_code == 401


def test_a_session_ends_after_its_lifetime(app):
    engine = app.extensions["metabiz"].engine
    with writer(engine).begin() as conn:
        old = auth.start_session(conn, "alice", now=auth.utcnow() - auth.SESSION_LIFETIME)
        fresh = auth.start_session(conn, "alice")
        with pytest.raises(auth.Unauthorized):
            auth.session_actor(conn, old)
        assert auth.session_actor(conn, fresh).name == "alice"


# -- files ----------------------------------------------------------------------------------


def test_sqlite_files_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    database = tmp_path / "instance" / "data" / "metabiz.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        wal = Path(f"{database}-wal")
        assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
    engine.dispose()
    monkeypatch.delenv("METABIZ_SECRET_KEY", raising=False)
    monkeypatch.setenv("METABIZ_INSTANCE", str(tmp_path / "fresh"))
    Config.from_env("sqlite://")
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "fresh" / "secret_key").stat().st_mode) == 0o600
    assert os.stat(tmp_path).st_mode  # an existing folder is left as it was


# -- no 500s ---------------------------------------------------------------------------------


def test_a_mangled_next_never_gives_a_500(app):
    client = app.test_client()
    for query in ("next=/%0d%0aX:1", "next=/%09/evil.example", "next=%2F%2Fevil.example",
                  "next=/%00", "next=/%E2%80%A8x"):
        page = client.get(f"/login?{query}")
        assert page.status_code == 200, query
        assert "X" not in page.headers or page.headers.get("X") is None
    sign_in(client)
    for query in ("next=/%0d%0aX:1", "next=/%09/evil.example"):
        response = client.get(f"/login?{query}")
        assert response.status_code == 302 and response.headers["Location"] == "/", query
        assert "X" not in response.headers


def bearer(app) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.test_token}"}


def test_a_statement_past_the_timeout_is_a_503(db_url, tmp_path):
    app = make_app(db_url, tmp_path, statement_timeout=0.3)
    client = app.test_client()
    assert client.post("/api/v1/records/account", json={"name": "Acme"},
                       headers=bearer(app)).status_code == 201
    # URLENCODE walks the text a character at a time in SQL: minutes for 100,000 of them
    slow = client.get("/api/v1/records/account", headers=bearer(app), query_string={
        "filter": 'LEN(URLENCODE(LPAD(name, 100000, "é"))) > 0'})
    assert slow.status_code == 503, slow.get_data(as_text=True)
    assert slow.get_json()["error"]["code"] == "timeout"
    assert client.get("/api/v1/records/account", headers=bearer(app)).status_code == 200
    app.extensions["metabiz"].engine.dispose()


def test_a_value_the_database_refuses_is_a_400(app, db_url):
    client = app.test_client()
    client.post("/api/v1/records/account", json={"name": "Acme"}, headers=bearer(app))
    # RE2 reads \\pL (a letter); PostgreSQL's regular expressions do not
    response = client.get("/api/v1/records/account", headers=bearer(app),
                          query_string={"filter": 'REGEX(name, "\\\\pL+")'})
    if db_url.startswith("sqlite"):
        assert [r["name"] for r in response.get_json()["records"]] == ["Acme"]
    else:
        assert response.status_code == 400, response.get_data(as_text=True)
        error = response.get_json()["error"]
        assert error["code"] == "bad_request" and "invalid regular expression" in \
            error["message"]


def test_a_statement_too_deep_for_sqlites_parser_is_a_400(app, db_url, monkeypatch):
    # formulas are tried on SQLite's parser with room for the statement around them; were
    # one to pass that and still overflow there, the user gets a 400 saying so, not a 500
    monkeypatch.setattr(formula_sql, "sqlite_can_parse", lambda *_args: True)
    client = app.test_client()
    client.post("/api/v1/records/account", json={"name": "Acme"}, headers=bearer(app))
    deep = "IF(" * 48 + 'name <> "x"' + ", TRUE, FALSE)" * 48  # true for Acme
    response = client.get("/api/v1/records/account", headers=bearer(app),
                          query_string={"filter": deep})
    if db_url.startswith("sqlite"):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert "too deeply for the database" in response.get_json()["error"]["message"]
    else:
        assert [r["name"] for r in response.get_json()["records"]] == ["Acme"]


def test_a_connection_the_database_dropped_is_a_503_then_replaced(app, db_url, monkeypatch):
    if db_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL server's connections")
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 3600.0)  # used a moment ago: not pinged
    client = app.test_client()
    engine = app.extensions["metabiz"].engine
    engine.dispose()
    with engine.connect() as conn:  # the pool's one connection
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with make_engine(db_url).begin() as admin:  # the server restarts, say
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    lost = client.get("/api/v1/records/account", headers=bearer(app))
    assert lost.status_code == 503, lost.get_data(as_text=True)
    assert lost.get_json()["error"]["code"] == "unavailable" and lost.headers["Retry-After"]
    assert client.get("/api/v1/records/account", headers=bearer(app)).status_code == 200


def test_a_page_fetched_with_a_token_is_handed_no_session(app):
    # a token's requests are exempt from CSRF: its pages carry no token, and the client is
    # not handed a new session cookie on every page; a browser's page carries one
    client = app.test_client(use_cookies=False)
    page = client.get("/o/account", headers=bearer(app))
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    assert '<meta name="csrf-token" content="">' in page.get_data(as_text=True)
    browser = app.test_client()
    sign_in(browser)
    assert re.search(r'<meta name="csrf-token" content="[^"]+">',
                     browser.get("/o/account").get_data(as_text=True))
