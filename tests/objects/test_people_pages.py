"""The user's settings (language, time zone, password) and user administration
(`/admin/users`), on SQLite and PostgreSQL: datetimes move with the time zone, a new
password ends the other sessions, admins create and change people, others get a 404."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from metabiz.app import create_app
from metabiz.errors import Unauthorized
from metabiz.objects import records
from metabiz.platform import audit
from metabiz.platform.auth import authenticate_password, list_users
from metabiz.platform.config import Config
from metabiz.platform.db import sessions
from tests.objects.people_app import csrf, make, service


@pytest.fixture
def app(sales_dir, request, db_url, tmp_path):
    thing = {"api_name": "meeting", "label": "Meeting", "name_field": "title", "fields": [
        {"api_name": "title", "type": "text"}, {"api_name": "starts", "type": "datetime"},
        {"api_name": "account", "type": "lookup", "target": "account"}]}
    (sales_dir / "objects" / "meeting.json").write_text(json.dumps(thing))
    account = sales_dir / "objects" / "account.json"
    doc = json.loads(account.read_text())
    doc["fields"].append({"api_name": "last_meeting", "type": "rollup", "label": "Last meeting",
                          "child_object": "meeting", "relationship_field": "account",
                          "function": "max", "field": "starts"})
    account.write_text(json.dumps(doc))
    app_json = sales_dir / "app.json"
    doc = json.loads(app_json.read_text())
    doc["timezone"] = "Asia/Shanghai"
    app_json.write_text(json.dumps(doc))
    role = sales_dir / "roles" / "sales_rep.json"
    doc = json.loads(role.read_text())
    doc["objects"]["meeting"] = ["read", "create", "edit"]
    role.write_text(json.dumps(doc))
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def test_datetimes_follow_the_app_time_zone_then_the_users_choice(app, client):
    meeting = make(app, "meeting", "alice", title="Kick-off", starts="2026-11-08T05:30:00Z")
    detail = page(client, f"/o/meeting/{meeting['id']}")
    assert "2026-11-08 13:30 CST" in detail and "05:30" not in detail
    assert 'value="2026-11-08T13:30"' in page(client, f"/o/meeting/{meeting['id']}/edit")
    token = csrf(client, "/settings")
    assert "The app's time zone (Asia/Shanghai)" in page(client, "/settings")
    saved = client.post("/settings", data={"language": "en", "timezone": "Europe/London",
                                           "csrf_token": token})
    assert saved.status_code == 302
    assert "Your settings were saved." in page(client, "/settings")
    assert client.get("/api/v1/me").get_json()["timezone"] == "Europe/London"
    assert "2026-11-08 05:30 GMT" in page(client, f"/o/meeting/{meeting['id']}")
    # a time typed in a form is the user's time, stored in UTC
    edited = client.post(f"/o/meeting/{meeting['id']}/edit",
                         data={"title": "Kick-off", "starts": "2026-07-01T09:00",
                               "csrf_token": token})
    assert edited.status_code == 302
    with service(app) as ctx:
        assert records.get(ctx, "meeting", meeting["id"])["starts"] == "2026-07-01T08:00:00Z"
    form = page(client, f"/o/meeting/{meeting['id']}/edit")
    assert 'value="2026-07-01T09:00"' in form and "Europe/London" in form
    # a roll-up of datetimes (the latest meeting) is a datetime too, not raw text
    account = make(app, "account", name="Acme", owner="alice")
    make(app, "meeting", "alice", title="Visit", starts="2026-11-08T05:30:00Z",
         account=account["id"])
    shown = page(client, f"/o/account/{account['id']}")
    assert "2026-11-08 05:30 GMT" in shown and "2026-11-08T05:30" not in shown
    # the API keeps UTC whatever the user's zone
    api = client.get(f"/api/v1/records/meeting/{meeting['id']}").get_json()
    assert api["starts"] == "2026-07-01T08:00:00Z"


def test_settings_change_the_language_and_refuse_bad_values(app, client):
    token = csrf(client, "/settings")
    bad = client.post("/settings", data={"language": "fr", "timezone": "Mars/Olympus",
                                         "csrf_token": token})
    assert bad.status_code == 422
    text = unescape(bad.get_data(as_text=True))
    assert "language is en or zh" in text and "unknown time zone 'Mars/Olympus'" in text
    client.post("/settings", data={"language": "zh", "timezone": "", "csrf_token": token})
    assert "个人设置" in page(client, "/settings")
    with app.extensions["metabiz"].engine.connect() as conn:
        alice = next(u for u in list_users(conn) if u.name == "alice")
        assert (alice.language, alice.timezone) == ("zh", None)


def test_changing_the_password_signs_out_the_other_sessions(app, browser_session):
    here, elsewhere = app.test_client(), app.test_client()
    browser_session(here, "alice")
    browser_session(elsewhere, "alice")
    token = csrf(here, "/settings")
    wrong = here.post("/settings/password", data={
        "current_password": "nope", "new_password": "new-pw-1", "confirm_password": "new-pw-1",
        "csrf_token": token})
    assert wrong.status_code == 422 and "wrong password" in wrong.get_data(as_text=True)
    differ = here.post("/settings/password", data={
        "current_password": "alice-pw", "new_password": "new-pw-1",
        "confirm_password": "new-pw-2", "csrf_token": token})
    assert differ.status_code == 422 and "the passwords differ" in differ.get_data(as_text=True)
    done = here.post("/settings/password", data={
        "current_password": "alice-pw", "new_password": "new-pw-1",
        "confirm_password": "new-pw-1", "csrf_token": token})
    assert done.status_code == 302
    assert here.get("/").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/").status_code == 302  # the other one is signed out
    engine = app.extensions["metabiz"].engine
    with engine.connect() as conn:
        assert authenticate_password(conn, "alice", "new-pw-1").name == "alice"
        assert len(conn.execute(select(sessions.c.id)
                                .where(sessions.c.user_name == "alice")).all()) == 1


def test_only_admins_see_user_administration(app, client):
    assert client.get("/admin/users").status_code == 404
    assert client.get("/admin/users/bob").status_code == 404
    assert 'href="/admin/users"' not in client.get("/").get_data(as_text=True)
    token = csrf(client)
    assert client.post("/admin/users/bob/active", data={"active": "0", "csrf_token": token}
                       ).status_code == 404


def test_admins_create_change_deactivate_and_reset_users(app, browser_session):
    admin = app.test_client()
    browser_session(admin, "admin")
    listing = page(admin, "/admin/users")
    assert 'data-user="alice"' in listing and 'data-user="system"' not in listing
    assert 'href="/admin/users"' in page(admin, "/")
    token = csrf(admin, "/admin/users/new")
    bad = admin.post("/admin/users/new", data={"name": "bad name", "password": "x",
                                               "csrf_token": token})
    assert bad.status_code == 422
    assert "user names are 1-64 letters" in unescape(bad.get_data(as_text=True))
    made = admin.post("/admin/users/new", data={
        "name": "carol", "password": "carol-pw", "display_name": "Carol Chen",
        "email": "carol@example.com", "roles": ["sales_rep"], "manager": "bob",
        "language": "zh", "csrf_token": token})
    assert made.status_code == 302 and made.headers["Location"] == "/admin/users/carol"
    taken = admin.post("/admin/users/new", data={"name": "carol", "password": "carol-pw",
                                                 "csrf_token": token})
    assert taken.status_code == 422 and "already taken" in taken.get_data(as_text=True)
    # a manager loop is refused: bob cannot report to alice, who reports to bob
    loop = admin.post("/admin/users/bob", data={"manager": "alice", "roles": ["sales_rep"],
                                                "csrf_token": token})
    assert loop.status_code == 422 and "loop" in loop.get_data(as_text=True)
    changed = admin.post("/admin/users/carol", data={
        "display_name": "Carol C.", "email": "", "manager": "", "roles": ["admin"],
        "language": "en", "csrf_token": token})
    assert changed.status_code == 302
    engine = app.extensions["metabiz"].engine
    with engine.connect() as conn:
        carol = next(u for u in list_users(conn) if u.name == "carol")
        assert (carol.display_name, carol.email, carol.manager, carol.roles) == \
            ("Carol C.", None, None, ("admin",))
    signed_in = app.test_client()
    browser_session(signed_in, "carol")
    reset = admin.post("/admin/users/carol/password", data={
        "password": "fresh-pw", "confirm_password": "fresh-pw", "csrf_token": token})
    assert reset.status_code == 302
    assert signed_in.get("/").status_code == 302  # the reset signed her out
    off = admin.post("/admin/users/carol/active", data={"active": "0", "csrf_token": token})
    assert off.status_code == 302
    assert "Deactivated" in page(admin, "/admin/users")
    with engine.connect() as conn:
        with pytest.raises(Unauthorized):
            authenticate_password(conn, "carol", "fresh-pw")
        kinds = [e.kind for e in audit.entries(conn, user_name="admin", limit=20)]
    assert audit.USER_CREATED in kinds and audit.USER_UPDATED in kinds
    assert audit.USER_DEACTIVATED in kinds
    assert "You cannot deactivate yourself." in unescape(admin.post(
        "/admin/users/admin/active", data={"active": "0", "csrf_token": token},
        follow_redirects=True).get_data(as_text=True))
    assert admin.get("/admin/users/nobody").status_code == 404
    zh = page(admin, "/admin/users?lang=zh")
    assert "用户" in zh and "已停用" in zh


def test_the_header_menu_links_settings(app, client):
    home = page(client, "/")
    assert 'href="/settings"' in home
    assert re.search(r'<a class="menu-link" href="/settings">Settings</a>', home)
