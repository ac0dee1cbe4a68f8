"""The session cookie's serializer is made once per set of keys (platform/web/session.py):
a cookie signed with the app's key is read, and a new secret key still refuses the cookies
signed with the old one unless the old key is listed in SECRET_KEY_FALLBACKS."""

from __future__ import annotations

from metabiz.app import create_app
from metabiz.platform import auth
from metabiz.platform.config import Config
from metabiz.platform.db import writer
from metabiz.platform.web.session import KeptSigningSessions


def test_a_new_secret_key_refuses_the_old_cookies_unless_kept_as_a_fallback(db_url,
                                                                           tmp_path):
    app = create_app(Config(database_url=db_url, secret_key="first", instance_path=tmp_path,
                            testing=True))
    assert isinstance(app.session_interface, KeptSigningSessions)
    engine = app.extensions["metabiz"].engine
    with writer(engine).begin() as conn:
        auth.create_user(conn, "alice", "alice-pw")
        key = auth.start_session(conn, "alice")
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"], session["sid"] = "alice", key
    for _ in range(2):  # the kept serializer reads it again
        assert client.get("/api/v1/me").get_json()["name"] == "alice"
    app.secret_key = "second"
    assert client.get("/api/v1/me").status_code == 401
    app.config["SECRET_KEY_FALLBACKS"] = ["first"]
    assert client.get("/api/v1/me").get_json()["name"] == "alice"
    engine.dispose()
