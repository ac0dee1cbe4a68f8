"""Fixtures for the object runtime: the `sales` test app applied to SQLite and PostgreSQL,
and `things`: the every_type app with a record of each shape, for the read paths' tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from metabiz.app import build_runtime, create_app
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
EVERY_TYPE = Path(__file__).resolve().parents[1] / "fixtures" / "every_type"
#: the role `vic` has in `things`: reads every record, money and count hidden
THINGS_VIEWER = {"api_name": "viewer", "label": "Viewer",
                 "objects": {"thing": ["read", "create"], "parent": ["read"]},
                 "record_access": "all",
                 "fields": {"thing.money": "hidden", "thing.count": "hidden"}}
THINGS_FILE = {"name": "a <b>.pdf", "key": "k1", "size": 3, "content_type": "application/pdf",
               "url": "/files/k1"}
#: formulas of each return type the read paths compute, added to every_type's thing
THINGS_FORMULAS = [
    {"api_name": "homepage", "type": "formula", "return_type": "link",
     "formula": "HYPERLINK(site, title)"},
    {"api_name": "moment_again", "type": "formula", "return_type": "datetime",
     "formula": "moment"},
    {"api_name": "worth", "type": "formula", "return_type": "currency", "formula": "money * 3"},
    {"api_name": "rate", "type": "formula", "return_type": "percent", "formula": "share / 3"},
    {"api_name": "due", "type": "formula", "return_type": "date", "formula": "day + 1"},
    {"api_name": "thin", "type": "formula", "return_type": "number",
     "formula": "ratio * 2"}]


@pytest.fixture
def sales_dir(tmp_path) -> Path:
    """A private copy of the sales app that a test may edit and re-apply."""
    target = tmp_path / "sales"
    shutil.copytree(SALES, target)
    return target


@pytest.fixture
def sales(engine, sales_dir, extensions):
    apply_path(engine, sales_dir, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "bob", "bob-pw", roles=["sales_rep"])
        create_user(conn, "alice", "alice-pw", roles=["sales_rep"], manager="bob")
        create_user(conn, "eve", "eve-pw", roles=["sales_rep"])
    return engine


@pytest.fixture
def things_dir(tmp_path: Path) -> Path:
    """A private copy of every_type whose thing has files, images and THINGS_FORMULAS, and
    a `viewer` role (THINGS_VIEWER); a test may edit it and apply it again."""
    target = tmp_path / "every"
    shutil.copytree(EVERY_TYPE, target)
    path = target / "objects" / "thing.json"
    thing = json.loads(path.read_text())
    thing["fields"] += [{"api_name": "doc", "type": "file"},
                        {"api_name": "pic", "type": "image"}, *THINGS_FORMULAS]
    path.write_text(json.dumps(thing))
    (target / "roles").mkdir()
    (target / "roles" / "viewer.json").write_text(json.dumps(THINGS_VIEWER))
    return target


@pytest.fixture
def things(engine, things_dir, extensions) -> Any:
    """`things_dir` applied (the runtime is returned), with `admin` and `vic` (viewer), a
    parent and three things: "Full 好 <i>" (every field, a file and an image), "Blank"
    (only its title and parent) and "Some" (zeros, negatives, a picklist value no longer in
    the list)."""
    apply_path(engine, things_dir, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "vic", "vic-pw", roles=["viewer"])
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = Context(conn, runtime.schema(conn), load_actor(conn, "admin"))
        parent = records.create(ctx, "parent", {"title": "P & <Q>"})
        made = records.create_many(ctx, "thing", [
            {"title": "Full 好 <i>", "notes": "a\nb", "count": 7, "ratio": "0.1235",
             "money": 1234567.995, "share": 12.5, "flag": True, "day": "2024-02-29",
             "moment": "2026-11-23T08:00:00+02:00", "mail": "o'neil@example.com",
             "tel": "+86 10", "site": "https://example.com/x?a=1&b=2", "colour": "red",
             "tags": ["c", "a"], "master": parent["id"], "other": parent["id"],
             "assignee": "vic"},
            {"title": "Blank", "master": parent["id"]},
            {"title": "Some", "count": 0, "flag": False, "money": -3, "tags": [],
             "colour": "blue", "master": parent["id"], "share": 0, "ratio": "-0.5",
             "day": "0999-01-01", "moment": "2026-03-01T23:59:59.999Z"},
        ])
        obj = ctx.schema.object("thing")
        conn.execute(update(obj.table).where(obj.table.c.id == made[0]["id"])
                     .values(doc=json.dumps(THINGS_FILE),
                             pic=json.dumps({**THINGS_FILE, "thumbnail": "t"})))
        # a value no longer in the picklist shows as itself, as forms.display shows it
        conn.execute(update(obj.table).where(obj.table.c.id == made[2]["id"])
                     .values(colour="retired <x>"))
    return runtime


@pytest.fixture
def viewer_role(engine, things_dir, things) -> Callable[..., None]:
    """`viewer_role(fields={...})`: the viewer role of `things` changed so, and applied."""
    def change(**role: Any) -> None:
        path = things_dir / "roles" / "viewer.json"
        path.write_text(json.dumps({**THINGS_VIEWER, **role}))
        apply_path(engine, things_dir, extensions=things.extensions)

    return change


@pytest.fixture
def work(sales) -> Callable[..., Iterator[Context]]:
    """`with work("alice") as ctx:` — one committed transaction acting as that user."""
    runtime = build_runtime(sales)

    @contextmanager
    def unit(user: str = "admin") -> Iterator[Context]:
        with writer(sales).begin() as conn:
            yield Context(conn, runtime.schema(conn), load_actor(conn, user))

    return unit


@pytest.fixture
def app(sales, db_url, tmp_path):
    """The web app over the `sales` database (a module that needs another defines its own)."""
    application = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                                    testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


@pytest.fixture
def api_client(app, sales):
    """A test client of the module's `app` that calls the API as admin (a bearer token)."""
    with writer(sales).begin() as conn:
        token = create_token(conn, "admin")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def client(app, browser_session):
    """A test client signed in to the pages of the module's `app` as alice (a module that
    needs someone else, or no session, defines its own `client`)."""
    client = app.test_client()
    browser_session(client, "alice")
    return client
