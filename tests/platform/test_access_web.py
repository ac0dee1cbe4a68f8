"""Browser sessions: signing in and out, CSRF on session writes, cookies and throttling.

Through Flask's test client and through a real HTTP server, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from metabiz.app import create_app
from metabiz.objects.evolution import apply_path
from metabiz.platform import audit, auth
from metabiz.platform.config import Config
from metabiz.platform.db import writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
DEAL = {"name": "Session deal", "amount": 10}


@pytest.fixture
def app(db_url, tmp_path, monkeypatch, extensions):
    # Real password hashing costs ~0.3 s a check; these tests are about sessions.
    monkeypatch.setattr(auth, "generate_password_hash",
                        functools.partial(generate_password_hash, method="pbkdf2:sha256:1000"))
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    engine = app.extensions["metabiz"].engine
    apply_path(engine, SALES, extensions=extensions)
    with writer(engine).begin() as conn:
        auth.create_user(conn, "alice", "alice-pw", roles=["sales_rep"])
        auth.create_user(conn, "eve", "eve-pw", roles=["sales_rep"])
    yield app
    engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def open_session(client, user="alice"):
    """What signing in leaves in the cookie: a server-side session of the user."""
    with writer(client.application.extensions["metabiz"].engine).begin() as conn:
        key = auth.start_session(conn, user)
    with client.session_transaction() as s:
        s["user"], s["sid"] = user, key


def signed_in(client, user="alice"):
    """Sign `user` in and return the CSRF token the pages give that session."""
    open_session(client, user)
    page = client.get("/").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def audit_kinds(app, **kw):
    with app.extensions["metabiz"].engine.connect() as conn:
        return [e.kind for e in audit.entries(conn, **kw)]


# -- CSRF on API writes made with the session cookie ----------------------------------


def test_a_session_api_write_needs_the_csrf_header(client):
    token = signed_in(client)
    assert client.get("/api/v1/me").get_json()["name"] == "alice"  # reads need none
    missing = client.post("/api/v1/records/opportunity", json=DEAL)
    assert missing.status_code == 403 and missing.get_json()["error"]["code"] == "forbidden"
    assert "CSRF" in missing.get_json()["error"]["message"]
    wrong = client.post("/api/v1/records/opportunity", json=DEAL,
                        headers={"X-CSRF-Token": "guessed"})
    assert wrong.status_code == 403
    assert client.get("/api/v1/records/opportunity").get_json()["total"] == 0  # nothing written
    made = client.post("/api/v1/records/opportunity", json=DEAL,
                       headers={"X-CSRF-Token": token})
    assert made.status_code == 201 and made.get_json()["owner"] == "alice"
    record = f"/api/v1/records/opportunity/{made.get_json()['id']}"
    assert client.patch(record, json={"amount": 11}).status_code == 403
    assert client.patch(record, json={"amount": 11},
                        headers={"X-CSRF-Token": token}).status_code == 200


def test_a_session_without_a_csrf_token_cannot_write_at_all(client):
    open_session(client)  # no token was ever issued to this session
    for sent in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "None"}):
        assert client.post("/api/v1/records/opportunity", json=DEAL,
                           headers=sent).status_code == 403


def test_bearer_tokens_need_no_csrf_and_win_over_the_session(app, client):
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        token = auth.create_token(conn, "eve")
    signed_in(client, "alice")
    made = client.post("/api/v1/records/opportunity", json=DEAL,
                       headers={"Authorization": f"Bearer {token}"})
    assert made.status_code == 201 and made.get_json()["owner"] == "eve"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer mbz_wrong"})
    assert bad.status_code == 401  # a bad token is not rescued by the session


def test_a_deactivated_users_session_stops_working(app, client):
    signed_in(client)
    assert client.get("/api/v1/me").status_code == 200
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        auth.set_active(conn, "alice", False)
    assert client.get("/api/v1/me").status_code == 401
    with client.session_transaction() as s:
        assert "user" not in s  # and the stale session is dropped


# -- the login page -------------------------------------------------------------------


def login_form_token(client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))[1]


def test_login_rotates_the_session_and_sets_safe_cookies(app, client):
    before = login_form_token(client)
    response = client.post("/login", data={"username": "alice", "password": "alice-pw",
                                           "csrf_token": before})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with client.session_transaction() as s:
        assert s["user"] == "alice"
    assert client.get("/api/v1/me").get_json()["name"] == "alice"
    # a new session, so a new CSRF token: the one from before signing in is refused
    assert client.post("/logout", data={"csrf_token": before}).status_code == 403
    assert client.get("/api/v1/me").get_json()["name"] == "alice"
    assert audit_kinds(app, kind="login.") == ["login.succeeded"]


def test_login_without_the_forms_csrf_token_is_refused(client):
    login_form_token(client)
    response = client.post("/login", data={"username": "alice", "password": "alice-pw"})
    assert response.status_code == 403
    with client.session_transaction() as s:
        assert "user" not in s


def test_a_wrong_password_signs_nobody_in_and_is_audited(app, client):
    token = login_form_token(client)
    page = client.post("/login", data={"username": "alice", "password": "nope",
                                       "csrf_token": token})
    assert page.status_code == 200 and "nope" not in page.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401
    assert audit_kinds(app, kind="login.") == ["login.failed"]


def test_logout_ends_the_session(client):
    token = login_form_token(client)
    client.post("/login", data={"username": "alice", "password": "alice-pw",
                                "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/logout").get_data(as_text=True))[1]
    assert client.post("/logout", data={"csrf_token": "stale"}).status_code == 403
    assert client.get("/api/v1/me").status_code == 200  # still signed in
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/v1/me").status_code == 401


def test_repeated_failures_lock_the_login_page_too(app, client):
    token = login_form_token(client)
    for _ in range(auth.MAX_FAILURES_PER_USER):
        client.post("/login", data={"username": "alice", "password": "guess",
                                    "csrf_token": token})
    right = client.post("/login", data={"username": "alice", "password": "alice-pw",
                                        "csrf_token": token})
    assert right.status_code == 200  # the form again, not the redirect of a success
    assert client.get("/api/v1/me").status_code == 401
    assert audit_kinds(app, kind="login.")[:2] == ["login.throttled", "login.failed"]


# -- the same through a real HTTP server ----------------------------------------------


@pytest.fixture
def server(app) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_a_browser_session_against_the_real_server(server):
    browser = requests.Session()
    token = form_token(browser.get(f"{server}/login").text)
    signed = browser.post(f"{server}/login", data={
        "username": "alice", "password": "alice-pw", "csrf_token": token},
        allow_redirects=False)
    assert signed.status_code == 302
    raw_cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in raw_cookie and "SameSite=Lax" in raw_cookie
    assert browser.get(f"{server}/api/v1/me").json()["name"] == "alice"
    # the page hands the session's token to scripts in a header setting (htmx)
    home = browser.get(f"{server}/").text
    header_token = re.search(r'"X-CSRF-Token": "([^"]+)"', home)[1]
    assert header_token != token  # rotated at sign-in
    refused = browser.post(f"{server}/api/v1/records/opportunity", json=DEAL)
    assert refused.status_code == 403
    made = browser.post(f"{server}/api/v1/records/opportunity", json=DEAL,
                        headers={"X-CSRF-Token": header_token})
    assert made.status_code == 201
    # another site's page posting with the cookie cannot know the token
    forged = requests.post(f"{server}/api/v1/records/opportunity", json=DEAL,
                           cookies=browser.cookies)
    assert forged.status_code == 403
    browser.post(f"{server}/logout", data={"csrf_token": header_token})
    assert browser.get(f"{server}/api/v1/me").status_code == 401


def test_throttling_against_the_real_server(app, server):
    browser = requests.Session()
    token = form_token(browser.get(f"{server}/login").text)
    for _ in range(auth.MAX_FAILURES_PER_USER):
        failed = browser.post(f"{server}/login", data={
            "username": "eve", "password": "guess", "csrf_token": token},
            allow_redirects=False)
        assert failed.status_code == 200
    locked = browser.post(f"{server}/login", data={
        "username": "eve", "password": "eve-pw", "csrf_token": token}, allow_redirects=False)
    assert locked.status_code == 200  # not signed in
    assert browser.get(f"{server}/api/v1/me").status_code == 401
    # alice, from the same browser, is not locked out by eve's failures
    token = form_token(browser.get(f"{server}/login").text)
    ok = browser.post(f"{server}/login", data={
        "username": "alice", "password": "alice-pw", "csrf_token": token},
        allow_redirects=False)
    assert ok.status_code == 302
    assert audit_kinds(app, kind="login.throttled", user_name="eve") == ["login.throttled"]


# -- what the web layer must hand to the audit log (hooks in api.py, web.py, store.py) ---


def test_permission_denials_are_audited(app, client):
    token = signed_in(client)
    refused = client.post("/api/v1/records/account", json={"name": "X"},
                          headers={"X-CSRF-Token": token}, environ_base={
                              "REMOTE_ADDR": "203.0.113.5"})
    assert refused.status_code == 403
    client.post("/api/v1/records/opportunity", json=DEAL)  # no CSRF token
    with app.extensions["metabiz"].engine.connect() as conn:
        denied = audit.entries(conn, kind="permission.denied")
    assert [(e.user_name, e.detail["action"]) for e in denied] == [
        ("alice", "POST /api/v1/records/opportunity"), ("alice", "POST /api/v1/records/account")]
    assert denied[1].client == "203.0.113.5" and "create" in denied[1].detail["message"]


def test_metadata_applies_are_audited(app):
    with app.extensions["metabiz"].engine.connect() as conn:
        applied = audit.entries(conn, kind="metadata.applied")
    assert [(e.user_name, e.detail["version"]) for e in applied] == [("system", 1)]


def test_sign_ins_and_token_use_record_the_client_address(app, client):
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        token = auth.create_token(conn, "eve")
    address = {"REMOTE_ADDR": "198.51.100.23"}
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"},
               environ_base=address)
    form = login_form_token(client)
    client.post("/login", data={"username": "alice", "password": "nope", "csrf_token": form},
                environ_base=address)
    with app.extensions["metabiz"].engine.connect() as conn:
        seen = [(e.kind, e.client) for e in audit.entries(conn, kind="login.")] + [
            (e.kind, e.client) for e in audit.entries(conn, kind="token.used")]
    assert seen == [("login.failed", "198.51.100.23"), ("token.used", "198.51.100.23")]


def test_the_login_page_says_when_to_try_again(client):
    token = login_form_token(client)
    for _ in range(auth.MAX_FAILURES_PER_USER + 1):
        page = client.post("/login", data={"username": "alice", "password": "guess",
                                           "csrf_token": token})
    assert "try again in 15 minutes" in page.get_data(as_text=True)
