"""Fixtures for the builder: the `sales` test app applied to SQLite and PostgreSQL, with an
admin and a sales rep; `client`, a test client of it; and `posted`, what a browser posts for
a page's form as shown (helpers to drive the pages and the API: builder_client.py)."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from metabiz.app import create_app, prepare_database
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"


@pytest.fixture
def sales(db_url, tmp_path, extensions):
    engine = make_engine(db_url)
    prepare_database(engine)
    folder = tmp_path / "sales"
    shutil.copytree(SALES, folder)
    apply_path(engine, folder, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "alice", "alice-pw", roles=["sales_rep"])
    yield engine
    engine.dispose()


@pytest.fixture
def client(sales, db_url, tmp_path):
    """A test client of the app on `sales`; `client.tokens` holds an API token each for
    admin and alice."""
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    with writer(sales).begin() as conn:
        tokens = {name: create_token(conn, name) for name in ("admin", "alice")}
    test_client = app.test_client()
    test_client.tokens = tokens  # type: ignore[attr-defined]
    yield test_client
    app.extensions["metabiz"].engine.dispose()


#: inputs whose value is one line: a browser strips line breaks from it (HTML's value
#: sanitization), so a document holding one cannot come back through such an input unchanged
_ONE_LINE = frozenset({"text", "search", "tel", "url", "email", "password"})


class FormControls(HTMLParser):
    """What a browser posts for the first form with `novalidate` (the page's own form)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self.depth = 0  # inside the form
        self.select: str | None = None
        self.chosen: list[str] = []
        self.first: str | None = None
        self.textarea: str | None = None
        self.multiple = False
        self.done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "novalidate" in a and not self.done:
            self.depth = 1
        if not self.depth or tag == "template":
            return
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            value = a.get("value") or ""
            if a.get("type", "text") in _ONE_LINE:  # a browser drops their line breaks
                value = value.replace("\r", "").replace("\n", "")
            self.data.append((a["name"], value))
        elif tag == "select" and a.get("name"):
            self.select, self.chosen, self.first = a["name"], [], None
            self.multiple = "multiple" in a
        elif tag == "option" and self.select is not None:
            if self.first is None:
                self.first = a.get("value", "")
            if "selected" in a:
                self.chosen.append(a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.data.append((self.textarea or "", ""))

    def handle_data(self, data):
        if self.textarea is not None:
            name, value = self.data[-1]
            self.data[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select is not None:
            for value in self.chosen or ([self.first] if self.first is not None and
                                         not self.multiple else []):
                self.data.append((self.select, value))
            self.select = None
        elif tag == "form" and self.depth:
            self.depth, self.done = 0, True


@pytest.fixture
def posted():
    """`posted(page)`: what a browser posts for the page's form as it is shown (to save a
    document again unchanged)."""
    def read(page: str) -> dict[str, list[str]]:
        parser = FormControls()
        parser.feed(page)
        out: dict[str, list[str]] = {}
        for name, value in parser.data:
            out.setdefault(name, []).append(value)
        return out

    return read
