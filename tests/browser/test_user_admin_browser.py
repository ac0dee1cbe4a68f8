"""The user admin page as an administrator sees it: every text box of the form looks like
the others (the display name and user name boxes had no type, so the stylesheet skipped them)."""

from __future__ import annotations

import pytest

from metabiz.platform.auth import create_user
from metabiz.platform.db import make_engine, writer

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def box(page, selector: str) -> dict:
    return page.eval_on_selector(selector, """el => {
        const s = getComputedStyle(el);
        return {height: el.getBoundingClientRect().height, radius: s.borderTopLeftRadius,
                padding: s.paddingLeft, border: s.borderTopColor};
    }""")


@pytest.mark.parametrize("path", ["/admin/users/new", "/admin/users/alice"])
def test_the_user_forms_text_boxes_look_alike(page, server, sign_in, path):
    sign_in(page, "admin")
    page.goto(f"{server}{path}")
    expect(page.locator("#u-display")).to_be_visible()
    email = box(page, "#u-email")
    assert box(page, "#u-display") == email
    if path.endswith("/new"):
        assert box(page, "#u-name") == email


def test_deactivating_a_user_asks_first(page, server, server_database, sign_in):
    engine = make_engine(server_database)
    with writer(engine).begin() as conn:
        create_user(conn, "quinn", "quinn-pw-1", roles=[], display_name="Quinn Hu")
    engine.dispose()
    sign_in(page, "admin")
    page.goto(f"{server}/admin/users/quinn")
    page.click("#deactivate summary")
    confirm = page.locator("#deactivate button[type=submit]")
    expect(confirm).to_have_text("Deactivate Quinn Hu")
    expect(page.locator("#deactivate")).to_contain_text("can no longer sign in")
    page.goto(f"{server}/admin/users")  # walking away changes nothing
    expect(page.locator("tr", has_text="quinn")).not_to_contain_text("Deactivated")
    page.goto(f"{server}/admin/users/quinn")
    page.click("#deactivate summary")
    page.click("#deactivate button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Quinn Hu was deactivated.")
