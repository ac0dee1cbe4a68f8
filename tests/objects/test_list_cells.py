"""The list page's table with compiled cells (`list_cells.list_table`) gives the markup of
the general path (`table_markup` over `tables.table_rows`: `forms.display` per cell) on every
field type — blank values,
picklist values that are not in the list, lookups, files, formulas — for an admin and a
role with hidden fields, in English and Chinese, on SQLite and PostgreSQL; and a new
metadata version (a picklist label changed) shows at once."""

from __future__ import annotations

import dataclasses
import json

import pytest
from flask import Flask

from metabiz.objects import forms, query
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.objects.web.list_cells import list_table
from metabiz.objects.web.table_markup import table_markup
from metabiz.objects.web.tables import list_columns, table_rows
from metabiz.platform.auth import load_actor

SYSTEM = ["id", "owner", "created_at", "updated_by", "version", "approval_status"]


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


def test_a_new_metadata_version_shows_at_once(things, engine, things_dir, extensions):
    app = Flask(__name__)
    with app.test_request_context("/"), engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        assert '<span class="pill">Red</span>' in _both(ctx, "en")[0]
    path = things_dir / "objects" / "thing.json"
    thing = json.loads(path.read_text())
    colour = next(f for f in thing["fields"] if f["api_name"] == "colour")
    colour["values"][0]["label"]["en"] = "Crimson"
    path.write_text(json.dumps(thing))
    apply_path(engine, things_dir, extensions=extensions)
    with app.test_request_context("/"), engine.connect() as conn:
        ctx = Context(conn, things.schema(conn), load_actor(conn, "admin"))
        compiled, general = _both(ctx, "en")
        assert compiled == general and '<span class="pill">Crimson</span>' in compiled
