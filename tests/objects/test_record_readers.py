"""The read fast paths give the general paths' answers, and follow every change that matters.

Compiled readers (objects/readers.py) against `CompiledObject.decode` + `records.serialise`
on every field type and for a role with hidden fields; the list total without a count
query against `count(*)`; the caches kept per metadata version against a metadata change, a
field-security change and a change of a user's roles — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from metabiz.app import create_app
from metabiz.errors import NotFound, PermissionDenied
from metabiz.objects import query, records
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.objects.readers import reader
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import user_roles, writer


def _general(ctx: Context, obj: Any, row: Any, rich: bool) -> dict[str, Any]:
    return records.serialise(ctx, obj, records.compute(ctx, obj, obj.decode(row._mapping)),
                             rich=rich)


@pytest.mark.parametrize("user", ["admin", "vic"])
def test_a_reader_gives_what_the_general_path_gives(engine, things, user):
    with engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, user))
        obj = ctx.schema.object("thing")
        plan = reader(ctx.schema, obj, ctx.actor)
        rows = conn.execute(select(obj.table).order_by(obj.table.c.id)).all()
        assert len(rows) == 3
        for row in rows:
            assert plan.decode(row) == obj.decode(row._mapping)
            for rich in (False, True):
                fast = plan.to_json(records.compute(ctx, obj, plan.decode(row)), rich=rich)
                general = _general(ctx, obj, row, rich)
                assert fast == general
                assert list(fast) == list(general)  # the same keys in the same order
                assert json.dumps(fast, default=str) == json.dumps(general, default=str)
        page = query.list_records(ctx, "thing", sort="id")
        assert page.records == [_general(ctx, obj, row, False) for row in rows]
        for row in rows:
            assert records.get(ctx, "thing", str(row.id)) == _general(ctx, obj, row, False)
    full = page.records[0]
    assert full["doc"]["url"] == "/files/k1" and full["pic"]["thumbnail_url"] == "/files/k1?thumbnail=1"
    assert full["homepage"] == "https://example.com/x?a=1&b=2"
    assert full["moment_again"] == "2026-11-23T06:00:00Z"
    if user == "vic":  # hidden, and so is what is computed from them
        assert "money" not in full and "count" not in full and "score" not in full
    else:
        assert full["money"] == 1234568 and full["score"] == 7.124


def test_a_record_outside_the_actors_scope_is_not_found(engine, things, viewer_role):
    viewer_role(record_access="own")
    with engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "vic"))
        obj = ctx.schema.object("thing")
        first = conn.execute(select(func.min(obj.table.c.id))).scalar_one()
        with pytest.raises(NotFound):
            records.get(ctx, "thing", first)
        assert query.list_records(ctx, "thing").total == 0


@pytest.mark.parametrize(("limit", "offset", "where"), [
    (50, 0, None), (2, 0, None), (3, 0, None), (2, 2, None), (2, 3, None), (2, 9, None),
    (1, 0, 'colour = "red"'), (5, 0, 'colour = "green"'), (5, 1, 'colour = "red"')])
def test_the_total_is_the_exact_count(engine, things, limit, offset, where):
    with engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        page = query.list_records(ctx, "thing", limit=limit, offset=offset, filter=where)
        everything = query.list_records(ctx, "thing", limit=1000, filter=where)
    assert page.total == len(everything.records)
    assert [r["id"] for r in page.records] == \
        [r["id"] for r in everything.records][offset:offset + limit]


@pytest.fixture
def api(engine, things, tmp_path, db_url):
    with writer(engine).begin() as conn:
        tokens = {name: create_token(conn, name) for name in ("admin", "vic")}
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()

    def call(user: str, path: str) -> Any:
        response = client.get(f"/api/v1{path}",
                              headers={"Authorization": f"Bearer {tokens[user]}"})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    yield call
    app.extensions["metabiz"].engine.dispose()


def _first(call: Any, user: str) -> tuple[dict[str, Any], dict[str, Any]]:
    listed = call(user, "/records/thing?sort=id&limit=1")["records"][0]
    return listed, call(user, f"/records/thing/{listed['id']}")


def test_the_served_records_follow_metadata_field_security_and_roles(engine, things_dir, api,
                                                                      things, viewer_role):
    listed, got = _first(api, "vic")
    assert "money" not in listed and "money" not in got and "score" not in got
    # a field-security change: the role no longer hides money
    viewer_role(fields={"thing.count": "hidden"})
    listed, got = _first(api, "vic")
    assert listed["money"] == got["money"] == 1234568 and "count" not in got
    # a metadata change: a new field
    path = things_dir / "objects" / "thing.json"
    thing = json.loads(path.read_text())
    thing["fields"].append({"api_name": "extra", "type": "text", "default": "\"x\""})
    path.write_text(json.dumps(thing))
    apply_path(engine, things_dir, extensions=things.extensions)
    listed, got = _first(api, "vic")
    assert "extra" in listed and "extra" in got
    # a change of the user's roles: an admin sees every field
    with writer(engine).begin() as conn:
        conn.execute(delete(user_roles).where(user_roles.c.user_name == "vic"))
        conn.execute(insert(user_roles).values(user_name="vic", role="admin"))
    listed, got = _first(api, "vic")
    assert listed["count"] == got["count"] == 7 and got["score"] == 7.124
    with writer(engine).begin() as conn:
        conn.execute(delete(user_roles).where(user_roles.c.user_name == "vic"))
    listed, got = _first(api, "admin")
    assert got["count"] == 7


def test_a_checked_filter_is_reused_but_never_past_a_role_or_a_metadata_change(
        engine, things_dir, things):
    from metabiz.errors import BadRequest, PermissionDenied

    def listed(user: str, where: str) -> list[str]:
        with engine.connect() as conn:
            ctx = Context(conn, things.schema(conn), load_actor(conn, user))
            return [r["title"] for r in query.list_records(ctx, "thing", filter=where).records]

    assert listed("admin", "money > 0") == ["Full 好 <i>"]
    assert listed("admin", "money > 0") == ["Full 好 <i>"]
    with pytest.raises(PermissionDenied):  # the same filter: money is hidden from vic
        listed("vic", "money > 0")
    assert listed("vic", 'colour = "red"') == ["Full 好 <i>"]
    path = things_dir / "objects" / "thing.json"
    thing = json.loads(path.read_text())
    thing["fields"] = [f for f in thing["fields"] if f["api_name"] != "colour"]
    next(f for f in thing["fields"] if f["api_name"] == "summary")["formula"] = "title"
    path.write_text(json.dumps(thing))
    apply_path(engine, things_dir, extensions=things.extensions)
    with pytest.raises(BadRequest):
        listed("vic", 'colour = "red"')


def test_the_served_openapi_document_follows_roles_and_metadata(engine, api, things,
                                                                viewer_role):
    from metabiz.objects.openapi import openapi_document

    def fields(user: str) -> set[str]:
        doc = api(user, "/openapi.json")
        return set(doc["components"]["schemas"]["thing"]["properties"])

    assert "money" not in fields("vic") and "money" in fields("admin")
    assert "money" not in fields("vic")  # served again: the same
    with engine.connect() as conn:
        schema = things.schema(conn)
        assert api("admin", "/openapi.json") == json.loads(json.dumps(
            openapi_document(schema, load_actor(conn, "admin"),
                             things.extensions.openapi_paths)))
    viewer_role(fields={"thing.count": "hidden"})
    assert "money" in fields("vic") and "count" not in fields("vic")


EDGES = [  # numbers at and past what a float keeps, signs, old and far dates, microseconds
    {"money": Decimal("1234567890123456.78"), "ratio": Decimal("-0.001"), "count": Decimal(0),
     "share": Decimal("9999999999999.99"), "day": dt.date(999, 1, 1),
     "moment": dt.datetime(999, 1, 2, 3, 4, 5, 999999)},
    {"money": Decimal("-10000000000000.01"), "ratio": Decimal("123456789012345.678"),
     "count": Decimal(1000), "share": Decimal("0.01"), "day": dt.date(9999, 12, 31),
     "moment": dt.datetime(2026, 3, 1, 23, 59, 59)},
    {"money": Decimal("-0.5"), "ratio": Decimal("1E+2"), "count": None, "share": None,
     "day": None, "moment": None},
]


@pytest.mark.parametrize("values", EDGES)
def test_the_compiled_reader_gives_the_general_answer_at_the_edges(engine, things, db_url,
                                                                    tmp_path, values):
    with writer(engine).begin() as conn:
        obj = things.schema(conn).object("thing")
        first = conn.execute(select(func.min(obj.table.c.id))).scalar_one()
        conn.execute(update(obj.table).where(obj.table.c.id == first).values(**values))
        token = create_token(conn, "admin")
    with engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        row = conn.execute(select(obj.table).where(obj.table.c.id == first)).one()
        general = _general(ctx, obj, row, False)
        fast = reader(ctx.schema, obj, ctx.actor).read(
            row, lambda v: records.compute(ctx, obj, v))
        assert fast == general and list(fast) == list(general)
        assert [type(fast[k]) for k in fast] == [type(general[k]) for k in general]
        assert records.get(ctx, "thing", first) == general
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    with app.app_context():  # the served text: every digit of an exact number
        assert app.json.dumps(fast) == app.json.dumps(general)  # exact digits too
        expected = app.json.loads(app.json.dumps(general))
        served = app.test_client().get(f"/api/v1/records/thing/{first}",
                                       headers={"Authorization": f"Bearer {token}"})
        assert app.json.loads(served.get_data()) == expected
        if values["money"] == Decimal("1234567890123456.78"):
            assert b'"money":1234567890123456.78' in served.get_data()
    app.extensions["metabiz"].engine.dispose()


def test_a_page_statement_kept_for_everyone_serves_each_page_sort_and_scope(
        engine, things, viewer_role):
    viewer_role(record_access="own")
    with engine.connect() as conn:
        admin = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        every = [r["id"] for r in query.list_records(admin, "thing", sort="id").records]
        titles = {r["id"]: r["title"] for r in query.list_records(admin, "thing").records}
        by_title = sorted(every, key=lambda i: titles[i])
        for _ in range(2):  # built, then served again from the metadata version's cache
            for sort, ordered in (("id", every), ("-id", every[::-1]), (None, every[::-1]),
                                  ("title", by_title), ("-title", by_title[::-1])):
                for limit, offset in ((1, 0), (2, 1), (5, 2), (3, 3)):
                    page = query.list_records(admin, "thing", sort=sort, limit=limit,
                                              offset=offset)
                    assert [r["id"] for r in page.records] == ordered[offset:offset + limit]
                    assert page.total == len(every)
        assert {key[0] for key in admin.schema.compiled["pages"]} == {"thing"}
        vic = Context(conn, admin.schema, load_actor(conn, "vic"))  # sees only their own
        assert query.list_records(vic, "thing", sort="id").records == []
        with pytest.raises(PermissionDenied):  # and still may not sort by what is hidden
            query.list_records(vic, "thing", sort="money")


def test_a_served_read_checks_the_version_with_the_token_and_sees_the_next_apply(
        engine, things_dir, things, db_url, tmp_path):
    from sqlalchemy import event

    with writer(engine).begin() as conn:
        token = create_token(conn, "admin")
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    seen: list[str] = []
    event.listen(app.extensions["metabiz"].engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: seen.append(statement))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    # the token's first use is recorded (a write): that request's read checks again
    first = client.get("/api/v1/records/thing?sort=id&limit=1", headers=headers)
    record_id = first.get_json()["records"][0]["id"]
    seen.clear()
    assert "extra" not in client.get(f"/api/v1/records/thing/{record_id}",
                                     headers=headers).get_json()
    versions = [s for s in seen if "sys_metadata_versions" in s]
    assert len(versions) == 1 and "sys_tokens" in versions[0]  # one check, with the token
    path = things_dir / "objects" / "thing.json"  # another apply: a new field
    thing = json.loads(path.read_text())
    thing["fields"].append({"api_name": "extra", "type": "text", "default": "\"x\""})
    path.write_text(json.dumps(thing))
    apply_path(engine, things_dir, extensions=things.extensions)
    assert "extra" in client.get(f"/api/v1/records/thing/{record_id}",
                                 headers=headers).get_json()
    app.extensions["metabiz"].engine.dispose()


def test_a_sort_allowed_for_one_set_of_roles_is_checked_again_for_another(engine, things,
                                                                          viewer_role):
    with engine.connect() as conn:
        admin = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        vic = Context(conn, admin.schema, load_actor(conn, "vic"))  # may read every record
        for _ in range(2):  # checked, then served from the metadata version's cache
            assert len(query.list_records(admin, "thing", sort="-money").records) == 3
            with pytest.raises(PermissionDenied):
                query.list_records(vic, "thing", sort="-money")
            assert len(query.list_records(vic, "thing", sort="-title").records) == 3
    viewer_role(fields={"thing.count": "hidden"})  # money no longer hidden
    with engine.connect() as conn:
        vic = Context(conn, things.schema(conn), load_actor(conn, "vic"))
        assert len(query.list_records(vic, "thing", sort="-money").records) == 3
        with pytest.raises(PermissionDenied):
            query.list_records(vic, "thing", sort="count")
