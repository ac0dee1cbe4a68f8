"""An approver decides from the inbox: the record's fields are shown there, although the
record is outside her own record access (she is a rep; the deal is another rep's)."""

from __future__ import annotations

import pytest

expect = pytest.importorskip("playwright.sync_api").expect


def test_an_approver_decides_from_the_inbox_seeing_the_records_fields(page, server, sign_in):
    sign_in(page, "alice")
    page.goto(f"{server}/o/opportunity?q=Warehouse")
    page.locator(".row-link", has_text="Warehouse lease").first.click()
    page.click("summary:has-text('Submit for approval')")
    page.click("form button:has-text('Submit for approval')")
    expect(page.locator(".alert-success")).to_have_text("Submitted for approval.")
    page.click(".user-menu summary")
    page.click(".user-menu-panel button[type=submit]")
    expect(page.locator("#username")).to_be_visible()

    sign_in(page, "carol")
    page.click("nav a:has-text('Approvals')")
    row = page.locator("tbody tr", has_text="Warehouse lease")
    facts = row.locator(".inbox-fields")
    expect(facts).to_contain_text("64,000")
    expect(facts).to_contain_text("Globex")
    expect(facts).to_contain_text("2027")
    # the record itself opens too, while the request waits on her
    row.locator(".row-link").click()
    expect(page.locator("h1")).to_contain_text("Warehouse lease")
    expect(page.locator(".detail-section")).to_contain_text("ops@globex.example")
    page.go_back()
    row = page.locator("tbody tr", has_text="Warehouse lease")
    row.locator("input[name=comment]").fill("Within budget")
    row.locator("button:has-text('Approve')").click()
    expect(page.locator(".alert-success")).to_have_text("You approved the request.")
    expect(page.locator("tbody tr", has_text="Warehouse lease")).to_have_count(0)
