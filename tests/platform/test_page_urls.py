"""Remembered page addresses (`page_urls.url_for`) are Flask's: per mount point (an app
served under a prefix), with query arguments, and left to Flask for external addresses."""

from __future__ import annotations

from flask import Flask
from flask import url_for as flask_url_for

from metabiz.platform.web import page_urls


def _app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/o/<name>", "list_page", lambda name: name)
    page_urls.init_page_urls(app)
    return app


def test_the_same_address_as_flask_under_any_mount_point():
    app = _app()
    for root in ("", "/crm", "/other"):
        for args in ({}, {"sort": "-amount", "q": "a b&c"}, {"view": None, "page": 2}):
            with app.test_request_context("/", base_url=f"http://x{root}/"):
                first = page_urls.url_for("list_page", name="deal", **args)
                again = page_urls.url_for("list_page", name="deal", **args)
                assert first == again == flask_url_for("list_page", name="deal", **args)
                assert first.startswith(f"{root}/o/deal")
    with app.test_request_context("/", base_url="http://example.org/crm/"):
        assert page_urls.url_for("list_page", name="d", _external=True) == \
            "http://example.org/crm/o/d"
        assert page_urls.url_for("list_page", name="d", ids=[1, 2]) == "/crm/o/d?ids=1&ids=2"
    assert app.jinja_env.globals["url_for"] is page_urls.url_for


def test_url_defaults_turn_the_memo_off():
    app = _app()
    with app.test_request_context("/"):
        assert page_urls.url_for("list_page", name="deal") == "/o/deal"
    app.url_defaults(lambda endpoint, values: values.setdefault("lang", "zh"))
    with app.test_request_context("/"):
        assert page_urls.url_for("list_page", name="deal") == "/o/deal?lang=zh"
