"""Daily work in a real headless Chromium: search from the header, drag a card across the
board (and see a refusal on the card), read a notification from the bell, change the time
zone and see datetimes move.

They act as users of their own (erin, dave), so the other browser tests' data stay as
they expect.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from metabiz.app import build_extensions, build_runtime
from metabiz.flows.store import notifications
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user
from metabiz.platform.db import make_engine, utcnow, writer
from tests.browser.conftest import PASSWORD

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def people(server: str, server_database: str) -> dict[str, Any]:
    """erin and dave (sales reps of their own), erin's deals and a notification for her."""
    engine = make_engine(server_database)
    with writer(engine).begin() as conn:
        create_user(conn, "erin", PASSWORD, roles=["sales_rep"], display_name="Erin Wu")
        create_user(conn, "dave", PASSWORD, roles=["sales_rep"], display_name="Dave Ng")
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        made = records.create_many(ctx, "opportunity", [
            {"name": "Erin's Zanzibar deal", "owner": "erin", "amount": 1200,
             "close_date": "2026-12-01"},
            {"name": "Erin's undated deal", "owner": "erin", "amount": 300},
            {"name": "Dave's 华东 project", "owner": "dave", "amount": 800}])
        conn.execute(notifications.insert().values(
            user_name="erin", subject="Reminder", message="Call Zanzibar back today",
            object="opportunity", record_id=made[0]["id"], created_at=utcnow(),
            dedupe_key="browser-test"))
    engine.dispose()
    return {"deal": made[0], "undated": made[1], "dave": made[2]}


@contextmanager
def htmx_held_back(page: Any) -> Iterator[None]:
    """A slow line: the page's htmx.min.js is answered only when the block ends (what the
    block types reaches the page before htmx runs)."""
    held: list[Any] = []
    page.route("**/htmx.min.js", lambda route: held.append(route))
    yield
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute("**/htmx.min.js")


def column(page: Any, value: str) -> Any:
    return page.locator(f'.board-column[data-column="{value}"]')


def test_search_from_the_header(page, server, sign_in, people):
    sign_in(page, "dave")
    page.fill("#header-search", "华东")
    page.press("#header-search", "Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    expect(page.locator("h1")).to_have_text("Results for “华东”")
    page.locator(".search-hit", has_text="Dave's 华东 project").click()
    expect(page.locator("h1")).to_have_text("Dave's 华东 project")
    # suggestions while typing
    page.fill("#header-search", "")
    page.locator("#header-search").press_sequentially("华东")
    page.locator(".suggestion", has_text="Dave's 华东 project").click()
    expect(page.locator("h1")).to_have_text("Dave's 华东 project")
    # erin's deal is not dave's to find
    page.fill("#header-search", "Zanzibar")
    page.press("#header-search", "Enter")
    expect(page.locator(".empty")).to_have_text("Nothing matches “Zanzibar”.")


def test_suggestions_for_words_typed_before_the_scripts_arrived(page, server, sign_in, people):
    """A quick typist on a slow line: the words are in the box before htmx has loaded, and
    their suggestions still come once it has (htmx saw no input event for them)."""
    sign_in(page, "dave")
    with htmx_held_back(page):
        page.goto(f"{server}/notifications", wait_until="commit")
        page.locator("#header-search").press_sequentially("华东")
        expect(page.locator(".suggestion")).to_have_count(0)
    page.locator(".suggestion", has_text="Dave's 华东 project").click()
    expect(page.locator("h1")).to_have_text("Dave's 华东 project")


def test_drag_a_card_across_the_board(page, server, sign_in, people, screenshot):
    sign_in(page, "erin")
    page.goto(f"{server}/o/opportunity")
    page.click(".view-toggle a:has-text('Board')")
    expect(page).to_have_url(f"{server}/o/opportunity?board=stage")
    expect(column(page, "prospecting").locator("[data-column-count]")).to_have_text("2")
    expect(column(page, "prospecting").locator("[data-column-total]")).to_have_text("1,500.00")
    card = page.locator(".board-card", has_text="Erin's Zanzibar deal")
    card.locator(".board-amount").drag_to(column(page, "negotiation").locator(".board-cards"))
    expect(column(page, "negotiation").locator(".board-card",
                                                has_text="Erin's Zanzibar deal")).to_be_visible()
    expect(column(page, "negotiation").locator("[data-column-count]")).to_have_text("1")
    expect(column(page, "prospecting").locator("[data-column-total]")).to_have_text("300.00")
    expect(column(page, "negotiation").locator("[data-column-total]")).to_have_text("1,200.00")
    # a rule refuses: the card goes back and says why
    undated = page.locator(".board-card", has_text="Erin's undated deal")
    undated.locator(".board-amount").drag_to(column(page, "closed_won").locator(".board-cards"))
    expect(undated.locator(".board-error")).to_have_text("A won deal needs a close date")
    expect(column(page, "prospecting").locator(".board-card",
                                                has_text="Erin's undated deal")).to_be_visible()
    expect(column(page, "closed_won").locator("[data-column-count]")).to_have_text("0")
    screenshot(page, "board")
    page.reload()  # the move was saved, the refusal was not
    expect(column(page, "negotiation").locator(".board-card",
                                                has_text="Erin's Zanzibar deal")).to_be_visible()
    expect(column(page, "prospecting").locator("[data-column-count]")).to_have_text("1")
    # the record page's stage path shows where it is
    page.locator(".board-card-name", has_text="Erin's Zanzibar deal").click()
    expect(page.locator(".stage-current")).to_have_text("Negotiation")


def test_read_a_notification_from_the_bell(page, server, sign_in, people):
    sign_in(page, "erin")
    bell = page.locator(".header-bell")
    expect(bell.locator(".bell-badge")).to_have_text("1")
    bell.click()
    expect(page.locator("h1")).to_have_text("Notifications")
    item = page.locator(".notification", has_text="Call Zanzibar back today")
    expect(item).to_have_class(re.compile(r"unread"))
    item.locator("button:has-text('Open')").click()
    expect(page.locator("h1")).to_have_text("Erin's Zanzibar deal")
    expect(page.locator(".header-bell .bell-badge")).to_have_count(0)
    page.click(".header-bell")
    expect(page.locator(".notification", has_text="Call Zanzibar back today")
           ).not_to_have_class(re.compile(r"unread"))


def test_change_the_time_zone_and_see_datetimes_move(page, server, sign_in, people,
                                                     server_database):
    sign_in(page, "dave")
    deal = people["dave"]
    page.goto(f"{server}/o/opportunity/{deal['id']}")
    created = page.locator(".mini-dl dd").nth(2)  # owner, created by, created (at)
    expect(created).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"))
    utc_text = created.inner_text()
    page.click(".user-menu summary")
    page.click(".user-menu-panel a:has-text('Settings')")
    page.select_option("#s-timezone", "Asia/Shanghai")
    page.click("form:has(#s-timezone) button:has-text('Save')")
    expect(page.locator(".alert-success")).to_have_text("Your settings were saved.")
    page.goto(f"{server}/o/opportunity/{deal['id']}")
    expect(created).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CST"))
    engine = make_engine(server_database)
    with engine.connect() as conn:
        table = build_runtime(engine).schema(conn).object("opportunity").table
        stored = conn.execute(select(table.c.created_at).where(table.c.id == deal["id"])
                              ).scalar_one()
    engine.dispose()
    local = stored.replace(tzinfo=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert created.inner_text() == f"{local:%Y-%m-%d %H:%M} CST"
    assert utc_text == f"{stored:%Y-%m-%d %H:%M} UTC"


def test_on_a_phone_the_board_and_tabs_scroll_with_a_cue(phone, server, sign_in, people,
                                                         screenshot):
    page = phone
    sign_in(page, "dave")
    page.goto(f"{server}/o/opportunity?board=stage")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # more columns to the right: the board's right edge fades until scrolled to the end
    expect(page.locator(".board-scroll")).to_have_class(re.compile(r"more-right"))
    page.locator(".board-scroll").evaluate("el => el.scrollTo(el.scrollWidth, 0)")
    expect(page.locator(".board-scroll")).to_have_class(re.compile(r"more-left"))
    expect(page.locator(".board-scroll")).not_to_have_class(re.compile(r"more-right"))
    expect(page.locator("#header-search")).to_be_visible()
    screenshot(page, "phone-board")
    page.goto(f"{server}/o/opportunity?view=all")
    expect(page.locator(".view-tabs")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


CATALOG = {
    "app.json": {"name": "catalog", "version": "1.0.0", "label": "Catalog"},
    "objects/product.json": {
        "api_name": "product", "label": "Product", "name_field": "name", "fields": [
            {"api_name": "name", "type": "text", "required": True},
            {"api_name": "unit_price", "type": "currency", "scale": 2}]},
    "objects/quote_line.json": {
        "api_name": "quote_line", "label": "Quote line", "fields": [
            {"api_name": "product", "type": "lookup", "target": "product"},
            {"api_name": "quantity", "type": "number", "default": "1"},
            {"api_name": "unit_price", "type": "currency", "scale": 2,
             "default": "product.unit_price"}]}}


def test_choosing_a_product_fills_the_unit_price_in_the_form(page, server, sign_in,
                                                             server_database, tmp_path):
    """A day-one bug: the form lost the unit price default that follows the product."""
    for name, doc in CATALOG.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(json.dumps(doc))
    engine = make_engine(server_database)
    apply_path(engine, tmp_path, extensions=build_extensions())  # an app of its own
    with writer(engine).begin() as conn:
        ctx = build_runtime(engine).context(conn, SYSTEM)
        records.create_many(ctx, "product", [{"name": "Widget", "unit_price": "12.50"},
                                             {"name": "Gadget", "unit_price": "99"}])
    engine.dispose()
    sign_in(page, "admin")
    page.goto(f"{server}/o/quote_line/new")
    page.locator("#f-product").fill("wid")
    page.locator(".lookup-option", has_text="Widget").click()
    expect(page.locator("#f-unit_price")).to_have_value("12.50")
    # what the user typed is theirs: another product does not overwrite it
    page.fill("#f-unit_price", "11.00")
    page.locator("#f-product").fill("gad")
    page.locator(".lookup-option", has_text="Gadget").click()
    expect(page.locator("#f-product")).to_have_value("Gadget")
    page.wait_for_timeout(300)
    expect(page.locator("#f-unit_price")).to_have_value("11.00")
    page.click("button:has-text('Save')")
    expect(page).to_have_url(re.compile(r"/o/quote_line/\d+$"))
    expect(page.locator("dd", has_text="11.00")).to_be_visible()
    # typed before htmx arrived (a slow line): the options still come, the default follows
    with htmx_held_back(page):
        page.goto(f"{server}/o/quote_line/new", wait_until="commit")
        page.locator("#f-product").press_sequentially("gad")
    page.locator(".lookup-option", has_text="Gadget").click()
    expect(page.locator("#f-unit_price")).to_have_value("99.00")
