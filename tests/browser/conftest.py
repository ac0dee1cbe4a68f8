"""A real metabiz server and a headless Chromium for the browser tests (Playwright, sync API).

The server runs the sales test app (with a layout, list views and an approval flow) on a
temporary SQLite file in a background thread (browser_server.serving, which tests with an
app of their own use too); a missing Chromium skips locally, fails in CI.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_server import serving
from flask import Flask
from sqlalchemy.engine import make_url

from metabiz.app import build_extensions, build_runtime, create_app, prepare_database
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PASSWORD = "demo-pw"
#: how many deals alice owns, so that her list has two pages of 25
DEALS = 30

LAYOUT = {"sections": [
    {"label": {"en": "Deal", "zh": "商机信息"}, "columns": 2,
     "fields": ["name", "account", "stage", "close_date", "amount", "probability", "discount",
                "contact_email", "weighted_amount"]}]}
LIST_VIEWS = [
    {"api_name": "all", "label": {"en": "All deals", "zh": "全部商机"},
     "columns": ["name", "account", "stage", "amount", "close_date", "owner"], "sort": "name"},
    {"api_name": "big", "label": {"en": "Big deals", "zh": "大单"},
     "columns": ["name", "account", "amount"], "filter": "amount >= 2000", "sort": "-amount"}]
APPROVAL_FLOW = {
    "api_name": "discount_approval", "kind": "approval", "object": "opportunity",
    "label": {"en": "Discount approval", "zh": "折扣审批"},
    "entry_condition": "discount > 10", "lock_record": True,
    "steps": [{"api_name": "manager", "label": "Sales manager",
               "approvers": [{"manager_of": "owner"}], "mode": "any"}]}

#: approved by carol, a rep who cannot otherwise see alice's deals
LARGE_DEAL_FLOW = {
    "api_name": "large_deal_approval", "kind": "approval", "object": "opportunity",
    "label": {"en": "Large deal", "zh": "大额商机审批"},
    "entry_condition": "amount >= 50000", "lock_record": True,
    "steps": [{"api_name": "finance", "label": {"en": "Finance", "zh": "财务"},
               "approvers": [{"user": "carol"}]}]}
#: a report and a dashboard (the sales rep's home) for tests/browser/test_report_pages.py
REPORT = {"api_name": "deals_by_stage", "label": {"en": "Deals by stage", "zh": "各阶段商机"},
          "object": "opportunity", "group_by": [{"field": "stage"}],
          "measures": [{"api_name": "deals", "function": "count"},
                       {"api_name": "amount", "function": "sum", "field": "amount"}],
          "chart": {"type": "bar", "x": "stage", "y": ["amount"]}}
DASHBOARD = {"api_name": "sales_desk", "label": {"en": "Sales desk", "zh": "销售看板"},
             "roles": ["sales_rep"],
             "components": [{"report": "deals_by_stage", "width": 6},
                            {"report": "deals_by_stage", "title": "Share",
                             "chart": {"type": "pie", "y": ["deals"]}, "width": 6}]}


def chromium_path() -> str:
    return os.environ.get("METABIZ_CHROMIUM", "/usr/bin/chromium")


def _app_folder(root: Path) -> Path:
    folder = root / "sales"
    shutil.copytree(SALES, folder)
    path = folder / "objects" / "opportunity.json"
    doc = json.loads(path.read_text())
    doc.update(layouts={"default": LAYOUT}, list_views=LIST_VIEWS)
    path.write_text(json.dumps(doc))
    (folder / "flows").mkdir(exist_ok=True)
    (folder / "flows" / "discount_approval.json").write_text(json.dumps(APPROVAL_FLOW))
    (folder / "flows" / "large_deal_approval.json").write_text(json.dumps(LARGE_DEAL_FLOW))
    for kind, doc in (("reports", REPORT), ("dashboards", DASHBOARD)):
        (folder / kind).mkdir(exist_ok=True)
        (folder / kind / f"{doc['api_name']}.json").write_text(json.dumps(doc))
    return folder


def _seed(url: str, folder: Path) -> None:
    engine = make_engine(url)
    prepare_database(engine)
    apply_path(engine, folder, extensions=build_extensions())
    with writer(engine).begin() as conn:
        create_user(conn, "admin", PASSWORD, roles=["admin"], display_name="Ada Admin")
        create_user(conn, "bob", PASSWORD, roles=["sales_rep"], display_name="Bob Li")
        create_user(conn, "alice", PASSWORD, roles=["sales_rep"], manager="bob",
                    display_name="Alice Chen")
        create_user(conn, "carol", PASSWORD, roles=["sales_rep"], display_name="Carol Wu")
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        accounts = records.create_many(ctx, "account", [
            {"name": name, "industry": industry, "owner": "alice"}
            for name, industry in (("Acme Corp", "tech"), ("Globex", "retail"),
                                   ("Initech", "tech"))])
        records.create_many(ctx, "opportunity", [
            {"name": f"Deal {n:02d}", "owner": "alice", "amount": 100 * (n + 1),
             "account": accounts[n % 3]["id"], "close_date": f"2026-12-{n % 28 + 1:02d}",
             "stage": ("prospecting", "negotiation")[n % 2]} for n in range(DEALS)]
            + [{"name": "Discounted deal", "owner": "alice", "amount": 900, "discount": 15,
                "account": accounts[0]["id"], "close_date": "2026-12-20"},
               {"name": "Warehouse lease", "owner": "alice", "amount": 64000,
                "account": accounts[1]["id"], "close_date": "2027-01-15",
                "contact_email": "ops@globex.example"}],
            returning=False)
    engine.dispose()


def _sales_app(url: str, root: Path) -> Flask:
    """The app on a freshly seeded sales database at `url` (instance folder `root`)."""
    _seed(url, _app_folder(root))
    return create_app(Config(database_url=url, secret_key="browser-tests", instance_path=root))


@pytest.fixture(scope="session")
def seed_sales_app() -> Any:
    """`seed_sales_app(url, root)`: the sales app and its users in a database of its own
    (for tests that run a server of their own)."""
    return lambda url, root: _seed(url, _app_folder(root))


@pytest.fixture(scope="session")
def server_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the database the server runs on (tests may seed more into it)."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser')}/metabiz.db"


@pytest.fixture(scope="session")
def server(server_database: str) -> Iterator[str]:
    """The base URL of a running server with seeded data (one for the whole session)."""
    root = Path(make_url(server_database).database or "").parent
    with serving(_sales_app(server_database, root)) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (skipped locally, failing in CI, if missing)."""
    path = chromium_path()
    if not Path(path).exists():
        message = f"Chromium not found at {path} (set METABIZ_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, headless=True,
                                              args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


def _open_page(browser: Any, request: pytest.FixtureRequest, **options: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", timezone_id="UTC", **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    refused: list[str] = []  # what the Content-Security-Policy blocked on any page
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    report = getattr(request.node, "report_call", None)
    assert not refused, f"the pages broke their own Content-Security-Policy: {refused}"
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name)
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser tab (own cookies) at desktop size."""
    yield from _open_page(browser, request, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab 375 px wide, like a phone."""
    yield from _open_page(browser, request, viewport={"width": 375, "height": 812},
                          is_mobile=True, has_touch=True, device_scale_factor=2)


@pytest.fixture
def sign_in(server: str) -> Any:
    """`sign_in(page, "alice")`: signs that user in through the sign-in page."""
    from playwright.sync_api import expect

    def run(page: Any, user: str = "alice") -> None:
        page.goto(f"{server}/login")
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator(".user-menu")).to_be_visible()

    return run


@pytest.fixture
def screenshot() -> Any:
    """`screenshot(page, "home")`: a full-page PNG in tests/browser/screenshots/ for review."""

    def take(page: Any, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of the test module's own on a freshly seeded sales app (for tests whose
    metadata or data changes would leak into the other browser tests)."""
    root = tmp_path_factory.mktemp("own-server")
    with serving(_sales_app(f"sqlite:///{root}/metabiz.db", root)) as base:
        yield base


@pytest.fixture(scope="module")
def sheet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own (imports change the data) with a job worker polling every 0.2 s."""
    root = tmp_path_factory.mktemp("sheets-browser")
    app = _sales_app(f"sqlite:///{root}/metabiz.db", root)
    with serving(app, worker_poll_seconds=0.2) as base:
        yield base
