"""The generated pages in a real headless Chromium: what a user does, click by click.

Sign in, create with errors then fix, edit, conflicts, lists, related lists, delete,
approvals, a phone-sized run and screenshots of the main pages for review.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def sign_out(page: Any) -> None:
    page.click(".user-menu summary")
    page.click(".user-menu-panel button[type=submit]")
    expect(page.locator("#username")).to_be_visible()


def open_record(page: Any, server: str, name: str) -> None:
    page.goto(f"{server}/o/opportunity?view=all&q={name}")
    page.locator(".row-link", has_text=name).first.click()
    expect(page.locator("h1")).to_have_text(name)


def no_sideways_scroll(page: Any) -> None:
    page.wait_for_load_state("load")  # measure the page just navigated to, styled
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_sign_in_after_a_wrong_password_and_sign_out(page, server, password):
    page.goto(f"{server}/o/opportunity")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#username", "alice")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".alert-error")).to_have_text("Wrong user name or password.")
    expect(page.locator("#username")).to_have_value("alice")
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server}/o/opportunity")
    expect(page.locator(".user-name")).to_have_text("Alice Chen")
    sign_out(page)
    expect(page.locator(".alert-success")).to_have_text("You are signed out.")


def test_create_with_errors_then_fix_and_save(page, server, sign_in):
    sign_in(page)
    page.goto(f"{server}/o/opportunity/new")
    expect(page.locator("#f-stage")).to_have_value("prospecting")  # the default is shown
    page.fill("#f-amount", "2500")
    page.fill("#f-contact_email", "not-an-email")
    page.click("button:has-text('Save')")
    expect(page.locator("#form-errors")).to_contain_text("Please fix the errors below.")
    expect(page.locator("#e-name")).to_have_text("This field is required")
    expect(page.locator("#e-contact_email")).to_contain_text("Not a valid email")
    expect(page.locator("#f-amount")).to_have_value("2500")
    expect(page.locator("#f-contact_email")).to_have_value("not-an-email")
    page.fill("#f-name", "Browser deal")
    page.fill("#f-contact_email", "buyer@example.com")
    page.locator("#f-account").fill("glo")  # the lookup's type-ahead
    page.locator(".lookup-option", has_text="Globex").click()
    expect(page.locator("#f-account")).to_have_value("Globex")
    expect(page.locator("input[name=account]")).to_have_value(re.compile(r"^\d+$"))
    page.fill("#f-close_date", "2026-12-24")
    page.select_option("#f-stage", "negotiation")
    page.click("button:has-text('Save')")
    expect(page).to_have_url(re.compile(r"/o/opportunity/\d+$"))
    expect(page.locator(".alert-success")).to_have_text(
        "Opportunity “Browser deal” was created.")
    expect(page.locator("h1")).to_have_text("Browser deal")
    expect(page.locator("dd a", has_text="Globex")).to_be_visible()
    expect(page.locator("dd", has_text="2,500.00")).to_be_visible()
    expect(page.locator("dd .pill", has_text="Negotiation")).to_be_visible()


def test_edit_a_record_and_see_its_history(page, server, sign_in):
    sign_in(page)
    open_record(page, server, "Deal 05")
    page.click("a:has-text('Edit')")
    expect(page.locator("#f-amount")).to_have_value("600.00")
    page.fill("#f-amount", "777")
    page.click("button:has-text('Save')")
    expect(page.locator(".alert-success")).to_contain_text("was saved")
    expect(page.locator("dd", has_text="777.00")).to_be_visible()
    history = page.locator("#activity")
    expect(history).to_contain_text("Amount")
    expect(history).to_contain_text("600.00")


def test_a_stale_edit_shows_a_conflict_with_a_reload_link(page, server, sign_in):
    sign_in(page)
    open_record(page, server, "Deal 07")
    edit_url = page.url + "/edit"
    other = page.context.new_page()
    page.goto(edit_url)
    other.goto(edit_url)
    other.fill("#f-name", "Deal 07 (theirs)")
    other.click("button:has-text('Save')")
    expect(other.locator(".alert-success")).to_be_visible()
    page.fill("#f-next_step" if page.locator("#f-next_step").count() else "#f-name",
              "Deal 07 (mine)")
    page.click("button:has-text('Save')")
    expect(page.locator("#conflict")).to_contain_text("Someone else changed this record")
    expect(page.locator("#f-name")).to_have_value("Deal 07 (mine)")
    page.click("#conflict a:has-text('Reload the latest version')")
    expect(page.locator("#f-name")).to_have_value("Deal 07 (theirs)")
    page.fill("#f-name", "Deal 07")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Deal 07")


def test_search_sort_and_paginate_a_list(page, server, sign_in):
    sign_in(page)
    page.goto(f"{server}/o/opportunity")
    expect(page.locator(".view-tabs a[aria-current]")).to_have_text("All deals")
    expect(page.locator(".list-count")).to_contain_text(re.compile(r"1–25 of \d+"))
    expect(page.locator("tbody tr")).to_have_count(25)
    page.click("a[rel=next]")
    expect(page.locator(".list-count")).to_contain_text(re.compile(r"26–\d+ of \d+"))
    expect(page.locator(".pager-info")).to_have_text("Page 2 of 2")
    page.click("a[rel=prev]")
    page.fill("#list-search", "deal 1")
    page.press("#list-search", "Enter")
    expect(page.locator(".list-count")).to_have_text("1–10 of 10")
    page.click("th a:has-text('Amount')")
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Amount")
    expect(page.locator("tbody tr").first.locator(".row-link")).to_have_text("Deal 10")
    page.click("th a:has-text('Amount')")
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Amount")
    expect(page.locator("tbody tr").first.locator(".row-link")).to_have_text("Deal 19")
    expect(page.locator("#list-search")).to_have_value("deal 1")  # the search is kept
    page.click(".view-tabs a:has-text('Big deals')")
    expect(page.locator(".list-count")).to_contain_text(re.compile(r"1–\d+ of \d+"))
    first = page.locator("tbody tr").first.locator(".num").first
    expect(first).to_contain_text(",")  # amounts of at least 2,000, largest first


def test_create_a_child_from_a_related_list(page, server, sign_in):
    sign_in(page)
    open_record(page, server, "Deal 03")
    related = page.locator("[data-related=line_item]")
    related.locator("a:has-text('New')").click()
    expect(page).to_have_url(re.compile(r"/o/line_item/new\?opportunity=\d+"))
    expect(page.locator("#f-opportunity")).to_have_value("Deal 03")
    page.fill("#f-product", "Widget XL")
    page.fill("#f-quantity", "3")
    page.fill("#f-unit_price", "19.90")
    page.click("button:has-text('Save')")
    expect(page.locator(".alert-success")).to_contain_text("Widget XL")
    # back on the deal, ready for the next line
    expect(page.locator("h1")).to_have_text("Deal 03")
    expect(page.locator("[data-related=line_item]")).to_contain_text("Widget XL")
    expect(page.locator("[data-related=line_item]")).to_contain_text("59.70")


def test_delete_asks_for_confirmation(page, server, sign_in):
    sign_in(page, "admin")
    open_record(page, server, "Deal 11")
    page.click("a:has-text('Delete')")
    expect(page.locator("h1")).to_have_text("Delete Deal 11?")
    page.click("button:has-text('Delete')")
    expect(page).to_have_url(f"{server}/o/opportunity")
    expect(page.locator(".alert-success")).to_have_text("Opportunity “Deal 11” was deleted.")


def test_submit_and_approve_through_the_pages(page, server, sign_in):
    sign_in(page, "alice")
    open_record(page, server, "Discounted deal")
    page.click("summary:has-text('Submit for approval')")
    page.fill("#submit-comment", "Strategic customer")
    page.click("form button:has-text('Submit for approval')")
    expect(page.locator(".alert-success")).to_have_text("Submitted for approval.")
    expect(page.locator(".record-status")).to_contain_text("Pending")
    expect(page.locator(".record-header a:has-text('Edit')")).to_be_hidden()  # locked
    sign_out(page)
    sign_in(page, "bob")
    expect(page.locator(".count-badge").first).to_have_text("1")
    page.click("nav a:has-text('Approvals')")
    page.click(".row-link:has-text('Discounted deal')")
    page.fill("#approval textarea[name=comment]", "Fine by me")
    page.click("#approval button:has-text('Approve')")
    expect(page.locator(".alert-success")).to_have_text("You approved the request.")
    expect(page.locator(".record-status")).to_contain_text("Approved")
    page.click("#approval summary:has-text('Approval history')")
    expect(page.locator("#approval .timeline")).to_contain_text("Fine by me")


def test_a_phone_sized_run(phone, server, sign_in, screenshot):
    page = phone
    sign_in(page)
    expect(page.locator("#sidebar")).to_be_hidden()
    page.click("[data-menu-toggle]")
    expect(page.locator("#sidebar")).to_be_visible()
    page.locator("#sidebar a", has_text="Opportunity").click()
    page.wait_for_url("**/o/opportunity*")
    # rows became cards (waits for the page and its stylesheet; times out -> fails)
    page.wait_for_function("document.querySelector('tbody td') && "
                           "getComputedStyle(document.querySelector('tbody td')).display"
                           " === 'flex'", timeout=10_000)
    no_sideways_scroll(page)
    page.locator(".row-link", has_text="Deal 02").click()
    no_sideways_scroll(page)
    page.click("a:has-text('Edit')")
    no_sideways_scroll(page)
    page.fill("#f-next_step" if page.locator("#f-next_step").count() else "#f-contact_email",
              "phone@example.com")
    page.click("button:has-text('Save')")
    expect(page.locator(".alert-success")).to_contain_text("was saved")
    screenshot(page, "phone-detail")


def test_main_pages_in_both_languages(page, server, sign_in, screenshot):
    """Screenshots of the main pages (tests/browser/screenshots/) and the language switch."""
    sign_in(page, "admin")
    for name, path in (("home", "/"), ("list", "/o/opportunity"), ("form", "/o/opportunity/new"),
                       ("approvals", "/approvals")):
        page.goto(server + path)
        no_sideways_scroll(page)
        screenshot(page, name)
    open_record(page, server, "Deal 01")
    screenshot(page, "detail")
    page.click(".lang-switch a:has-text('中文')")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".detail-section h2").first).to_have_text("商机信息")
    expect(page.locator("a:has-text('编辑')")).to_be_visible()
    screenshot(page, "detail-zh")
    page.goto(f"{server}/nothing-here")
    expect(page.locator("h1")).to_have_text("找不到该页面")
    page.click(".lang-switch a:has-text('EN')")
    expect(page.locator("h1")).to_have_text("We couldn't find that page")
