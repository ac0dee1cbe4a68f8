"""The list page's table with compiled cells (`list_cells.list_table`) gives the markup of
the general path (`table_markup` over `tables.table_rows`: `forms.display` per cell) on every
field type — blank values,
picklist values that are not in the list, lookups, files, formulas — for an admin and a
role with hidden fields, in English and Chinese, on SQLite and PostgreSQL; and a new
metadata version (a picklist label changed) shows at once."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from metabiz.app import build_runtime
from metabiz.objects import forms, query, records
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.objects.web.list_cells import list_table
from metabiz.objects.web.table_markup import table_markup
from metabiz.objects.web.tables import list_columns, table_rows
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.db import writer

EVERY_TYPE = Path(__file__).resolve().parents[1] / "fixtures" / "every_type"
FILE = {"name": "a <b>.pdf", "key": "k1", "size": 3, "content_type": "application/pdf",
        "url": "/files/k1"}
VIEWER = {"api_name": "viewer", "label": "Viewer",
          "objects": {"thing": ["read", "create"], "parent": ["read"]},
          "record_access": "all", "fields": {"thing.money": "hidden"}}
SYSTEM = ["id", "owner", "created_at", "updated_by", "version", "approval_status"]


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    target = tmp_path / "every"
    shutil.copytree(EVERY_TYPE, target)
    path = target / "objects" / "thing.json"
    thing = json.loads(path.read_text())
    thing["fields"] += [
        {"api_name": "doc", "type": "file"}, {"api_name": "pic", "type": "image"},
        {"api_name": "homepage", "type": "formula", "return_type": "link",
         "formula": "HYPERLINK(site, title)"}]
    path.write_text(json.dumps(thing))
    (target / "roles").mkdir()
    (target / "roles" / "viewer.json").write_text(json.dumps(VIEWER))
    return target


@pytest.fixture
def things(engine, app_dir, extensions) -> Any:
    apply_path(engine, app_dir, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "vic", "vic-pw", roles=["viewer"])
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = Context(conn, runtime.schema(conn), load_actor(conn, "admin"))
        parent = records.create(ctx, "parent", {"title": "P & <Q>"})
        made = records.create_many(ctx, "thing", [
            {"title": "Full 好 <i>", "notes": "a\nb", "count": 7, "ratio": "0.1235",
             "money": 1234567.999, "share": 12.5, "flag": True, "day": "2024-02-29",
             "moment": "2026-11-23T08:00:00+02:00", "mail": "o'neil@example.com",
             "tel": "+86 10", "site": "https://example.com/x?a=1&b=2", "colour": "red",
             "tags": ["c", "a"], "master": parent["id"], "other": parent["id"],
             "assignee": "vic"},
            {"title": "Blank", "master": parent["id"]},
            {"title": "Some", "count": 0, "flag": False, "money": -3, "tags": [],
             "colour": "blue", "master": parent["id"], "share": 0},
        ])
        obj = ctx.schema.object("thing")
        conn.execute(update(obj.table).where(obj.table.c.id == made[0]["id"])
                     .values(doc=json.dumps(FILE), pic=json.dumps({**FILE, "thumbnail": "t"})))
        # a value no longer in the picklist shows as itself, as forms.display shows it
        conn.execute(update(obj.table).where(obj.table.c.id == made[2]["id"])
                     .values(colour="retired <x>"))
    return runtime


def _both(ctx: Context, lang: str) -> tuple[str, str]:
    obj = ctx.schema.object("thing")
    columns = list_columns(ctx, obj, [*obj.fields, *SYSTEM])
    found = query.list_records(ctx, "thing", sort="id", rich=True).records
    headers = [{"name": name, "label": forms.field_label(obj, name, lang),
                "numeric": name in ("count", "money")} for name in columns]
    compiled = str(list_table(ctx, obj, columns, found, headers, select="b"))
    general = str(table_markup(headers, table_rows(ctx, obj, columns, found), select="b"))
    return compiled, general


@pytest.mark.parametrize("user", ["admin", "vic"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_compiled_cells_give_the_general_markup(things, engine, user, lang):
    app = Flask(__name__)
    with app.test_request_context("/", headers={"Accept-Language": lang}), \
            engine.connect() as conn:
        actor = dataclasses.replace(load_actor(conn, user), language=lang)
        ctx = Context(conn, things.schema(conn), actor)
        compiled, general = _both(ctx, lang)
        assert compiled == general
        assert "retired &lt;x&gt;" in compiled and "Full 好 &lt;i&gt;" in compiled
        assert ("1,234,568.00" in compiled) is (user == "admin")  # hidden from the viewer
        assert ('<span class="pill">红</span>' in compiled) is (lang == "zh") or \
            '<span class="pill">' in compiled


def test_a_new_metadata_version_shows_at_once(things, engine, app_dir, extensions):
    app = Flask(__name__)
    with app.test_request_context("/"), engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        assert '<span class="pill">Red</span>' in _both(ctx, "en")[0]
    path = app_dir / "objects" / "thing.json"
    thing = json.loads(path.read_text())
    colour = next(f for f in thing["fields"] if f["api_name"] == "colour")
    colour["values"][0]["label"]["en"] = "Crimson"
    path.write_text(json.dumps(thing))
    apply_path(engine, app_dir, extensions=extensions)
    with app.test_request_context("/"), engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        compiled, general = _both(ctx, "en")
        assert compiled == general and '<span class="pill">Crimson</span>' in compiled
