"""Public pools in a real headless Chromium: a rep finds her pool in the navigation, claims
a lead, returns it with a reason and logs a follow-up; the pool page fits a phone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from browser_server import serving

from metabiz.app import build_extensions, build_runtime, create_app, prepare_database
from metabiz.objects import pools, records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

PASSWORD = "demo-pw-123"
LEAD = {
    "api_name": "lead", "label": {"en": "Lead", "zh": "线索"}, "name_field": "name",
    "fields": [{"api_name": "name", "type": "text", "required": True},
               {"api_name": "company", "type": "text"}],
    "pools": [{"api_name": "lead_pool", "label": {"en": "Lead pool", "zh": "线索公海"},
               "members": ["rep"], "admins": ["manager"], "claim_limit": 5,
               "return_reasons": [{"value": "no_answer",
                                   "label": {"en": "No answer", "zh": "联系不上"}}]}],
}
REP = {"api_name": "rep", "objects": {"lead": ["read", "create", "edit"]},
       "record_access": "own"}
MANAGER = {"api_name": "manager", "objects": {"lead": ["read", "create", "edit"]},
           "record_access": "own"}


@pytest.fixture(scope="module")
def pool_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("pools")
    folder = root / "app"
    for sub in ("objects", "roles"):
        (folder / sub).mkdir(parents=True)
    (folder / "app.json").write_text(json.dumps({"name": "pools", "version": "1.0.0"}))
    (folder / "objects" / "lead.json").write_text(json.dumps(LEAD))
    for role in (REP, MANAGER):
        (folder / "roles" / f"{role['api_name']}.json").write_text(json.dumps(role))
    url = f"sqlite:///{root}/metabiz.db"
    engine = make_engine(url)
    prepare_database(engine)
    apply_path(engine, folder, extensions=build_extensions())
    with writer(engine).begin() as conn:
        create_user(conn, "rita", PASSWORD, roles=["rep"], display_name="Rita Wu")
        create_user(conn, "mia", PASSWORD, roles=["manager"], display_name="Mia Sun")
    with writer(engine).begin() as conn:
        ctx = build_runtime(engine).context(conn, SYSTEM)
        for name, company in (("Lin Hao", "Hangzhou Optics"), ("Zhou Min", "Wuxi Sensors"),
                              ("Amy Park", "Seoul Logistics International Trading Co.")):
            created = records.create(ctx, "lead", {"name": name, "company": company})
            pools.return_to_pool(ctx, "lead", created["id"], automation="import")
    engine.dispose()
    app = create_app(Config(database_url=url, secret_key="pool-tests", instance_path=root))
    with serving(app) as base:
        yield base


def sign_in(page: Any, server: str, user: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".user-menu")).to_be_visible()


def test_claim_from_the_pool_then_return_it_with_a_reason(page, pool_server: str) -> None:
    sign_in(page, pool_server, "rita")
    page.click("nav.sidebar a:has-text('Lead pool')")
    expect(page.locator("h1")).to_have_text("Lead pool")
    row = page.locator("tr", has_text="Lin Hao")
    row.locator("button:has-text('Claim')").click()
    expect(page.locator(".alert-success")).to_contain_text("“Lin Hao” is yours now.")
    expect(page.locator("h1")).to_have_text("Lin Hao")
    expect(page.locator("#owner")).to_contain_text("Owned by Rita Wu")
    expect(page.locator("#activity")).to_contain_text("Claimed from Lead pool")

    page.fill("#follow-up-text", "Called, wants a quote")
    page.click("#activity button:has-text('Log a follow-up')")
    expect(page.locator(".alert-success")).to_contain_text("Follow-up logged.")
    expect(page.locator("#activity")).to_contain_text("Called, wants a quote")

    page.click("#owner summary:has-text('Return to Lead pool')")
    page.select_option("#reason-lead_pool", "no_answer")
    page.click("#owner button:has-text('Return to pool')")
    expect(page.locator(".alert-success")).to_contain_text("Returned to Lead pool.")
    returned = page.locator("tr", has_text="Lin Hao")
    expect(returned).to_contain_text("No answer")
    expect(returned).to_contain_text("Rita Wu")  # the previous owner, by name


def test_the_pool_page_fits_a_phone(phone, pool_server: str) -> None:
    sign_in(phone, pool_server, "rita")
    phone.goto(f"{pool_server}/pools/lead/lead_pool")
    expect(phone.locator("h1")).to_have_text("Lead pool")
    phone.wait_for_load_state("load")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= phone.viewport_size["width"], f"page is {width}px wide"


def test_transfer_from_the_list_loads_its_users_when_the_bar_is_used(
        page, pool_server: str) -> None:
    sign_in(page, pool_server, "rita")
    page.goto(f"{pool_server}/pools/lead/lead_pool")
    page.locator("tr", has_text="Zhou Min").locator("button:has-text('Claim')").click()
    expect(page.locator(".alert-success")).to_contain_text("“Zhou Min” is yours now.")
    page.goto(f"{pool_server}/o/lead")
    owner = page.locator("#bulk-owner")
    expect(owner.locator("option")).to_have_count(1)  # no user read with the page
    page.locator("tr", has_text="Zhou Min").locator("input[name=ids]").check()
    page.hover("#bulk-transfer label")
    expect(owner.locator("option[value=mia]")).to_have_text("Mia Sun (mia)")
    expect(owner.locator("option[value=rita]")).to_have_count(1)  # loaded once, not twice
    owner.focus()
    owner.select_option("mia")
    page.click("#bulk-transfer button:has-text('Transfer')")
    expect(page.locator(".alert-success")).to_contain_text("now belong to Mia Sun")
    expect(page.locator("tr", has_text="Zhou Min")).to_have_count(0)
