"""Business calendars of app.json and VLOOKUP, wired into the runtime, on SQLite and PostgreSQL.

The `shop` app declares China's National Day week 2026 (1–7 October off, Saturday
10 October worked) and looks product prices up by code; what a user notices: formula
fields, defaults, validation rules, list filters, sorts and automation agree, bad
calendars are refused at their JSON pointer, and VLOOKUP shows only what the reader may read.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from metabiz.app import build_runtime
from metabiz.errors import MetadataError, PermissionDenied, ValidationError
from metabiz.objects import query, records
from metabiz.objects.api import evaluate
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.db import writer
from metabiz.platform.metadata.store import current_version

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"
USERS = {"admin": ["admin"], "clerk": ["clerk"], "rep": ["rep"], "outsider": ["outsider"]}


@pytest.fixture
def shop(engine, extensions):
    apply_path(engine, SHOP, extensions=extensions)
    with writer(engine).begin() as conn:
        for name, roles in USERS.items():
            create_user(conn, name, f"{name}-pw", roles=roles)
    return engine


@pytest.fixture
def work(shop) -> Callable[..., Iterator[Context]]:
    """`with work("clerk") as ctx:` — one committed transaction acting as that user."""
    runtime = build_runtime(shop)

    @contextmanager
    def unit(user: str = "admin") -> Iterator[Context]:
        with writer(shop).begin() as conn:
            yield runtime.context(conn, load_actor(conn, user))

    return unit


def names(ctx: Context, filter: str | None = None, sort: str | None = "name") -> list[str]:
    return [r["name"] for r in query.list_records(ctx, "purchase", filter=filter,
                                                  sort=sort).records]


# -- calendars ---------------------------------------------------------------------------


def test_a_calendar_counts_in_formula_fields_and_list_filters(work):
    with work() as ctx:
        early = records.create(ctx, "purchase", {"name": "early", "ordered_on": "2026-09-28"})
        late = records.create(ctx, "purchase", {"name": "late", "ordered_on": "2026-09-30"})
    assert early["ship_by"] == "2026-10-08"  # 29 and 30 September, then 8 October
    assert late["ship_by"] == "2026-10-10"  # 8, 9 and the worked Saturday 10 October
    assert (early["days_to_holiday_end"], late["days_to_holiday_end"]) == (6, 4)
    with work() as ctx:  # the same calendar in SQL
        assert names(ctx, "ship_by = DATE(2026, 10, 10)") == ["late"]
        assert names(ctx, 'NETWORKDAYS(ordered_on, DATE(2026, 10, 11), "cn") = 6') == ["early"]
        assert names(ctx, "days_to_holiday_end < 5") == ["late"]
        assert names(ctx, "WORKDAY(ordered_on, 3) = DATE(2026, 10, 5)") == ["late"]  # Mon–Fri
        assert names(ctx, sort="-ship_by") == ["late", "early"]
        view = ctx.schema.object("purchase").odef.list_view("ships_saturday")
        assert view is not None and names(ctx, view.filter) == ["late"]


def test_a_calendar_in_a_default_and_in_automation(work):
    with work() as ctx:
        records.create(ctx, "product", {"name": "Pen", "code": "P-1", "stock": 5})
        waiting = records.create(ctx, "purchase", {"name": "waiting", "product_code": "P-1",
                                                   "ordered_on": "2026-09-30"})
        plain = records.create(ctx, "purchase", {"name": "plain", "product_code": "P-1",
                                                 "ordered_on": "2026-09-14"})
        today = ctx.now.date()
    with work() as ctx:
        waiting = records.get(ctx, "purchase", waiting["id"])
        plain = records.get(ctx, "purchase", plain["id"])
    # automation: the next working day after 30 September is 8 October
    assert (waiting["note"], plain["note"]) == ("waits for the holidays: Pen", None)
    deliver = dt.date.fromisoformat(waiting["deliver_on"])  # default: 2 working days on
    assert 2 <= (deliver - today).days <= 11 and deliver.isoweekday() <= 6


def test_bad_calendars_are_refused_at_their_pointer(engine, extensions, tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(SHOP, folder)
    app = json.loads((folder / "app.json").read_text())
    app["calendars"] = {"cn": {"holidays": ["2026-10-01", "2026-02-30", "2026-10-10"],
                               "workdays": ["2026-10-10", "2026-09-20"]}}
    (folder / "app.json").write_text(json.dumps(app))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, folder, extensions=extensions)
    assert caught.value.problems == [
        "app.json: /calendars/cn/holidays/1: '2026-02-30' is not a date (YYYY-MM-DD)",
        "app.json: /calendars/cn/workdays/0: 2026-10-10 is both a holiday and a working day "
        "(also at /calendars/cn/holidays/2)"]

    app["calendars"] = {"cn": {"holidays": ["2026-10-1"]}, "Cn": {}}
    (folder / "app.json").write_text(json.dumps(app))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, folder, extensions=extensions)
    assert caught.value.problems == [
        "app.json: /calendars: 'Cn' is not a valid api_name: lower-case letters, digits and "
        "'_', starting with a letter, at most 63 characters",
        "app.json: /calendars/cn/holidays/0: '2026-10-1' is not a valid date: YYYY-MM-DD"]

    del app["calendars"]  # the formulas name a calendar that no longer exists
    (folder / "app.json").write_text(json.dumps(app))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, folder, extensions=extensions)
    assert [p for p in caught.value.problems if "calendar" in p] == [
        'objects/purchase.json: /fields/9/default: 1:21: unknown calendar \'cn\' (calendars '
        'are declared in app.json under "calendars")',
        'objects/purchase.json: /fields/12/formula: 1:24: unknown calendar \'cn\' '
        '(calendars are declared in app.json under "calendars")',
        'objects/purchase.json: /fields/13/formula: 1:45: unknown calendar \'cn\' '
        '(calendars are declared in app.json under "calendars")',
    ]
    with engine.connect() as conn:
        assert current_version(conn) == 0  # nothing was applied


def test_a_calendar_name_belongs_to_one_app(shop, extensions, tmp_path):
    depot = tmp_path / "depot"
    (depot / "objects").mkdir(parents=True)
    (depot / "app.json").write_text(json.dumps({
        "name": "depot", "version": "1.0.0", "calendars": {"cn": {"holidays": ["2026-05-01"]}}}))
    (depot / "objects" / "bin.json").write_text(json.dumps({
        "api_name": "bin", "fields": [{"api_name": "label", "type": "text"},
                                      {"api_name": "due", "type": "formula", "return_type": "date",
                                       "formula": 'WORKDAY(DATE(2026, 9, 30), 1, "cn")'}]}))
    with pytest.raises(MetadataError) as caught:
        apply_path(shop, depot, extensions=extensions)
    assert caught.value.problems == [
        "shop/app.json: /calendars/cn: calendar 'cn' is defined by both 'depot' and 'shop' "
        "(all apps share calendar names)"]
    app = json.loads((depot / "app.json").read_text())
    app["calendars"] = {"depot_days": {"holidays": ["2026-05-01"]}}
    (depot / "app.json").write_text(json.dumps(app))
    apply_path(shop, depot, extensions=extensions)  # shop's calendar serves depot's formulas
    runtime = build_runtime(shop)
    with writer(shop).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "admin"))
        assert records.create(ctx, "bin", {"label": "a"})["due"] == "2026-10-08"


# -- VLOOKUP -----------------------------------------------------------------------------


def products(work) -> dict[str, Any]:
    with work() as ctx:
        pen = records.create(ctx, "product", {"name": "Pen", "code": "P-1", "price": 12.5,
                                              "cost": 4, "stock": 10})
        # the same code again: VLOOKUP takes the record with the lowest id
        records.create(ctx, "product", {"name": "Pen (old)", "code": "P-1", "price": 99,
                                        "cost": 1, "stock": 0})
        ink = records.create(ctx, "product", {"name": "Ink", "code": "P-2", "price": 3,
                                              "cost": 1, "stock": 100})
    return {"pen": pen, "ink": ink}


def test_vlookup_in_a_formula_field_a_filter_and_a_validation_rule(work):
    made = products(work)
    with work() as ctx:
        pens = records.create(ctx, "purchase", {"name": "pens", "product_code": "P-1",
                                                "quantity": 10})
        inks = records.create(ctx, "purchase", {"name": "inks", "product_code": "P-2"})
        other = records.create(ctx, "purchase", {"name": "other", "product_code": "P-9"})
    assert (pens["unit_price"], pens["unit_cost"]) == (12.5, 4)
    assert (inks["unit_price"], other["unit_price"]) == (3, None)
    with work() as ctx:
        assert names(ctx, "unit_price > 10") == ["pens"]
        assert names(ctx, "VLOOKUP(product.stock, product.code, product_code) >= 100") == ["inks"]
        assert names(ctx, "ISBLANK(unit_price)") == ["other"]
        assert names(ctx, "NOT(ISBLANK(unit_price))", sort="-unit_price") == ["pens", "inks"]
    with work() as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "purchase", {"name": "too many", "product_code": "P-1",
                                         "quantity": 11})
    assert caught.value.fields == {"quantity": ["Not enough stock"]}
    # computed on read: a new price shows at once, in the field and in filters
    with work() as ctx:
        records.update(ctx, "product", made["pen"]["id"], {"price": 20})
    with work() as ctx:
        assert records.get(ctx, "purchase", pens["id"])["unit_price"] == 20
        assert names(ctx, "unit_price = 20") == ["pens"]


def test_vlookup_shows_only_what_the_reader_may_read(work):
    products(work)
    with work("rep") as ctx:  # rep reads only their own records: the products are admin's
        mine = records.create(ctx, "purchase", {"name": "rep's", "product_code": "P-1",
                                                "quantity": 99})  # the stock rule sees blank
    assert mine["unit_price"] is None
    with work("rep") as ctx:
        assert names(ctx, "ISBLANK(unit_price)") == ["rep's"]
        assert names(ctx, "unit_price > 0") == []
    with work() as ctx:
        assert records.get(ctx, "purchase", mine["id"])["unit_price"] == 12.5
        assert names(ctx, "unit_price > 0") == ["rep's"]
    with work("outsider") as ctx:  # may not read products at all
        assert records.get(ctx, "purchase", mine["id"])["unit_price"] is None
        assert names(ctx, "ISBLANK(unit_price)") == ["rep's"]
    with work("clerk") as ctx:  # reads products, but not their cost
        seen = records.get(ctx, "purchase", mine["id"])
        assert seen["unit_price"] == 12.5 and "unit_cost" not in seen
        with pytest.raises(PermissionDenied, match="hidden for your role: unit_cost"):
            query.list_records(ctx, "purchase", filter="unit_cost > 0")
        with pytest.raises(PermissionDenied, match="product.cost"):
            query.list_records(ctx, "purchase",
                               filter="VLOOKUP(product.cost, product.code, product_code) > 0")
        assert evaluate(ctx, None, 'VLOOKUP(product.price, product.code, "P-1")', {}) == \
            {"type": "number", "value": 12.5}
        assert evaluate(ctx, None, 'VLOOKUP(product.cost, product.code, "P-1")', {})["value"] \
            is None
        # a key field hidden from the reader finds nothing
        assert evaluate(ctx, None, "VLOOKUP(product.name, product.cost, 4)", {})["value"] \
            is None
    with work() as ctx:
        assert evaluate(ctx, None, "VLOOKUP(product.name, product.cost, 4)", {})["value"] \
            == "Pen"


def test_vlookups_that_go_round_in_a_circle_are_refused(engine, extensions, tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(SHOP, folder)
    path = folder / "objects" / "product.json"
    product = json.loads(path.read_text())
    product["fields"].append({"api_name": "last_price", "type": "formula",
                              "return_type": "currency",
                              "formula": "VLOOKUP(purchase.unit_price, purchase.name, name)"})
    product["fields"][2]["type"] = "formula"  # price now reads the purchases back
    product["fields"][2].update(return_type="currency", formula="last_price")
    path.write_text(json.dumps(product))
    with pytest.raises(MetadataError, match="formula cycle: product.last_price → "
                                            "purchase.unit_price → product.price"):
        apply_path(engine, folder, extensions=extensions)
