"""The list page's values (`query.list_records(shown=lists.shown_values(...))`: read by a
compiled reader, numbers, days and timestamps as Python values) give the page the general
path's rows (the API's rich JSON through `tables.table_rows`): the same markup and
record names on every field type and at every column position, at the edges of numbers
and dates, for a role with hidden fields, in English and Chinese, in a user's time zone,
after a metadata change and a change of the user's roles — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, insert, update

from metabiz.app import create_app
from metabiz.objects import forms, query
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.objects.web.list_cells import list_table
from metabiz.objects.web.lists import shown_values
from metabiz.objects.web.table_markup import table_markup
from metabiz.objects.web.tables import list_columns, table_rows
from metabiz.platform.auth import load_actor, start_session
from metabiz.platform.config import Config
from metabiz.platform.db import user_roles, users, writer

SYSTEM = ["id", "owner", "created_at", "updated_at", "updated_by", "version",
          "approval_status"]


def _tables(ctx: Context, object_name: str, columns: list[str]) -> tuple[str, str, list[Any]]:
    """The page's table from its own values and from the general path's rich JSON."""
    obj = ctx.schema.object(object_name)
    headers = [{"name": name, "label": forms.field_label(obj, name, ctx.language)}
               for name in columns]
    general = query.list_records(ctx, object_name, sort="id", rich=True).records
    page = query.list_records(ctx, object_name, sort="id",
                              shown=shown_values(ctx, obj, columns)).records
    return (str(list_table(ctx, obj, columns, page, headers, select="b")),
            str(table_markup(headers, table_rows(ctx, obj, columns, general), select="b")),
            page)


def _context(conn: Any, runtime: Any, user: str, lang: str, zone: str | None) -> Context:
    actor = dataclasses.replace(load_actor(conn, user), language=lang, timezone=zone)
    return Context(conn, runtime.schema(conn), actor)


@pytest.mark.parametrize("user", ["admin", "vic"])
@pytest.mark.parametrize(("lang", "zone"), [("en", None), ("zh", "Asia/Shanghai"),
                                            ("en", "America/St_Johns")])
def test_the_pages_values_give_the_general_rows_on_every_field_type(things, engine, user,
                                                                   lang, zone):
    with Flask(__name__).test_request_context("/"), engine.connect() as conn:
        ctx = _context(conn, things, user, lang, zone)
        obj = ctx.schema.object("thing")
        columns = list_columns(ctx, obj, [*obj.fields, *SYSTEM])
        for first in range(len(columns)):  # the first column is rendered another way
            turned = columns[first:] + columns[:first]
            fast, general, page = _tables(ctx, "thing", turned)
            assert fast == general
        parent = ctx.schema.object("parent")  # rollups: counts, sums, a day
        totals = _tables(ctx, "parent", list_columns(ctx, parent, parent.fields))
        assert totals[0] == totals[1] and "0999-01-01" in totals[0]
    full = page[0]
    # the page takes numbers, days and timestamps as they are read, not as JSON
    assert type(full["day"]) is dt.date and type(full["due"]) is dt.date
    assert type(full["moment"]) is dt.datetime and type(full["created_at"]) is dt.datetime
    assert type(full["share"]) is Decimal and type(full["rate"]) is Decimal
    assert full["homepage"].label == "Full 好 <i>"  # a link keeps its label (rich)
    assert type(full["score"] if user == "admin" else full["thin"]) in (int, float)
    if user == "vic":  # hidden, and what is computed from them
        assert "money" not in full and "count" not in full and "score" not in full
        assert "worth" not in columns and "1,234,568.00" not in fast
    else:
        assert type(full["money"]) is Decimal and "1,234,568.00" in fast
        assert "3,703,704.00" in fast  # worth: money (rounded to 2 places) times 3


EDGES = [  # numbers at and past what a float keeps, signs, old and far dates, microseconds
    {"money": Decimal("1234567890123456.78"), "ratio": Decimal("-0.001"), "count": Decimal(0),
     "share": Decimal("9999999999999.99"), "day": dt.date(999, 1, 1),
     "moment": dt.datetime(999, 1, 2, 3, 4, 5, 999999)},
    {"money": Decimal("-10000000000000.01"), "ratio": Decimal("123456789012345.678"),
     "count": Decimal(1000), "share": Decimal("0.01"), "day": dt.date(9999, 12, 30),
     "moment": dt.datetime(2026, 3, 1, 23, 59, 59, 999999)},
]


@pytest.mark.parametrize("values", EDGES)
def test_the_pages_values_give_the_general_rows_at_the_edges(things, engine, values):
    with writer(engine).begin() as conn:
        obj = things.schema(conn).object("thing")
        conn.execute(update(obj.table).where(obj.table.c.title == "Blank").values(**values))
    with Flask(__name__).test_request_context("/"), engine.connect() as conn:
        for zone in (None, "Asia/Shanghai"):
            ctx = _context(conn, things, "admin", "en", zone)
            columns = list_columns(ctx, obj, [*obj.fields, *SYSTEM])
            fast, general, _ = _tables(ctx, "thing", columns)
            assert fast == general
    assert f"{values['money']:,f}" in fast


def test_a_metadata_change_reaches_the_pages_values_at_once(things, engine, things_dir,
                                                            extensions):
    with Flask(__name__).test_request_context("/"), engine.connect() as conn:
        ctx = _context(conn, things, "admin", "en", None)
        obj = ctx.schema.object("thing")
        fast, general, _ = _tables(ctx, "thing", ["title", "money", "day"])
        assert fast == general and "1,234,568.00" in fast
    path = things_dir / "objects" / "thing.json"  # money shown without cents, day as text
    thing = json.loads(path.read_text())
    for field in thing["fields"]:
        if field["api_name"] == "money":
            field["scale"] = 0
    path.write_text(json.dumps(thing))
    apply_path(engine, things_dir, extensions=extensions)
    with Flask(__name__).test_request_context("/"), engine.connect() as conn:
        ctx = _context(conn, things, "admin", "en", None)
        assert ctx.schema.object("thing") is not obj
        fast, general, page = _tables(ctx, "thing", ["title", "money", "day"])
        assert fast == general and "1,234,568<" in fast and "1,234,568.00" not in fast
        assert page[0]["money"] == Decimal(1234568)


@pytest.fixture
def served(engine, things, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()

    def sign_in(user: str) -> None:
        with writer(engine).begin() as conn:
            key = start_session(conn, user)
        with client.session_transaction() as session:
            session["user"], session["sid"] = user, key

    yield client, sign_in
    app.extensions["metabiz"].engine.dispose()


def _cells(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)


def test_the_served_list_page_follows_the_users_roles_on_the_next_request(engine, served):
    client, sign_in = served
    sign_in("vic")
    page = client.get("/o/thing?sort=id")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "1,234,568.00" not in html and "2024-02-29" in _cells(html)
    with writer(engine).begin() as conn:  # vic becomes an admin: money shows at once
        conn.execute(delete(user_roles).where(user_roles.c.user_name == "vic"))
        conn.execute(insert(user_roles).values(user_name="vic", role="admin"))
    html = client.get("/o/thing?sort=id").get_data(as_text=True)
    assert "1,234,568.00" in _cells(html) and "2024-02-29" not in html  # columns: 6 first
    with writer(engine).begin() as conn:  # deactivated: the next page asks to sign in
        conn.execute(update(users).where(users.c.name == "vic").values(active=False))
    gone = client.get("/o/thing?sort=id")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]


def test_a_session_page_reads_its_user_and_the_version_in_one_statement(engine, served,
                                                                        things_dir, extensions):
    from sqlalchemy import event

    client, sign_in = served
    sign_in("admin")
    seen: list[str] = []
    event.listen(client.application.extensions["metabiz"].engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: seen.append(statement))
    assert client.get("/o/thing?sort=id").status_code == 200  # the schema is loaded
    seen.clear()
    assert client.get("/o/thing?sort=-id").status_code == 200
    versions = [s for s in seen if "sys_metadata_versions" in s]
    sessions = [s for s in seen if "sys_sessions" in s]
    assert len(versions) == 1 and versions == sessions and "sys_user_roles" in versions[0]
    path = things_dir / "objects" / "thing.json"  # another apply: the next page shows it
    thing = json.loads(path.read_text())
    assert "Headline" not in client.get("/o/thing").get_data(as_text=True)
    next(f for f in thing["fields"] if f["api_name"] == "title")["label"] = "Headline"
    path.write_text(json.dumps(thing))
    apply_path(engine, things_dir, extensions=extensions)
    assert "Headline" in client.get("/o/thing").get_data(as_text=True)
