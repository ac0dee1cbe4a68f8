"""The builder in a real headless Chromium: an admin builds a small object from nothing
through the pages only — a lookup, a formula written in the editor with a mistake that is
shown and fixed, a layout reordered by drag and drop — then uses it as a user would.

Runs its own server (the metadata changes would leak into the other browser tests).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def sign_in_admin(page: Any, server: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page.locator(".user-menu")).to_be_visible()


def review_and_apply(page: Any, expected_line: str) -> None:
    """Every save shows the plan first; nothing changes until "Apply changes"."""
    page.click("button:has-text('Review changes')")
    expect(page.locator("h1")).to_have_text("Review the changes")
    expect(page.locator("[data-plan]")).to_contain_text(expected_line)
    page.click("[data-apply]")
    expect(page.locator(".alert-success")).to_contain_text("Applied as metadata version")


def test_admin_builds_an_object_then_a_user_creates_a_record(page, own_server, password,
                                                            screenshot):
    server = own_server
    sign_in_admin(page, server, password)
    page.click("nav.sidebar a:has-text('Builder')")
    expect(page.locator("h1")).to_have_text("Builder")
    screenshot(page, "builder-overview")

    # a new object: the API name follows the label
    page.click("a:has-text('New object')")
    page.fill("#f-label_en", "Project")
    page.fill("#f-label_zh", "项目")
    expect(page.locator("#f-api_name")).to_have_value("project")
    page.check("input[name=icon][value=folder]")  # its icon, from the builder's set
    review_and_apply(page, "create object project")
    expect(page.locator("h1")).to_have_text("Project")
    expect(page.locator("nav.sidebar a[href='/o/project'] svg.object-icon use")).to_have_attribute(
        "href", re.compile(r"object-icons\.svg#folder$"))

    # a lookup to accounts
    page.click("a:has-text('New field')")
    page.select_option("#f-type", "lookup")
    expect(page.locator("#f-max_length")).to_be_hidden()  # only the lookup's own keys
    page.fill("#f-label_en", "Client")
    expect(page.locator("#f-api_name")).to_have_value("client")
    page.select_option("#f-target", "account")
    page.select_option("#f-on_delete", "set_null")
    review_and_apply(page, "add field project.client (lookup)")

    # a formula across the lookup, with a mistake shown as the admin types, then fixed
    page.click("a:has-text('New field')")
    page.select_option("#f-type", "formula")
    page.fill("#f-label_en", "Title")
    page.select_option("#f-return_type", "text")
    page.fill("#f-formula", 'name & " / " & client.nmae')
    status = page.locator("#fc-formula [data-formula-status]")
    expect(status).to_have_attribute("data-formula-status", "error")
    expect(status).to_contain_text(re.compile(r"Line 1, column \d+: .*nmae"))
    expect(page.locator("#fc-formula .caret")).to_contain_text("^")
    screenshot(page, "builder-formula-error")
    page.fill("#f-formula", 'name & " / " & ')
    page.select_option(".formula-picker >> nth=0", "client.name")  # the field picker
    expect(page.locator("#f-formula")).to_have_value('name & " / " & client.name')
    expect(status).to_have_attribute("data-formula-status", "ok")
    expect(status).to_contain_text("result type: Text")
    screenshot(page, "builder-formula-ok")
    review_and_apply(page, "add field project.title (formula, computed on read)")

    # the layout: drag the lookup above the name
    page.click("a:has-text('Edit layout')")
    fields = page.locator(".layout-section[data-section='0'] .layout-field")
    expect(fields.first).to_have_attribute("data-field", "name")
    page.locator(".layout-field[data-field='client']").drag_to(
        page.locator(".layout-field[data-field='name']"))
    expect(fields.first).to_have_attribute("data-field", "client")
    screenshot(page, "builder-layout")
    review_and_apply(page, "change object project: layouts")

    # a validation rule, checked live as it is typed
    page.click("a:has-text('New validation rule')")
    page.fill("#f-api_name", "name_long_enough")
    page.fill("#f-error_condition", "LEN(name) < 3")
    expect(page.locator("#fc-error_condition [data-formula-status]")).to_have_attribute(
        "data-formula-status", "ok")
    page.fill("#f-message_en", "Give the project a longer name")
    page.select_option("#f-field", "name")
    review_and_apply(page, "change object project: validation rules")

    # an approval flow with two steps, read as a diagram
    page.click("a:has-text('New approval flow')")
    page.fill("#f-label_en", "Project approval")
    expect(page.locator("#f-api_name")).to_have_value("project_approval")
    page.fill("#f-step0_api_name", "lead")
    page.fill("#f-step0_label_en", "Team lead")
    page.locator("[data-step='0'] select[name=step0_approver_kind]").first.select_option("user")
    page.locator("[data-step='0'] input[name=step0_approver_value]").first.fill("bob")
    page.fill("#f-step1_api_name", "director")
    page.select_option("#f-step1_mode", "all")
    page.locator("[data-step='1'] input[name=step1_approver_value]").first.fill("admin")
    review_and_apply(page, "add flow project_approval")
    expect(page.locator("[data-diagram] .flow-box")).to_have_count(4)
    screenshot(page, "builder-flow")

    # the sales reps' role may read every project (the matrix)
    page.goto(f"{server}/builder")
    page.click("a:has-text('Sales rep')")
    page.check("input[name=right_project][value=read]")
    page.select_option("#f-record_access", "all")
    review_and_apply(page, "change role sales_rep")

    # versions: the latest one names who applied it
    page.goto(f"{server}/builder/versions")
    expect(page.locator("tbody tr").first).to_contain_text("admin")

    # as a user: the new object's form, the rule, the lookup's type-ahead, the formula's value
    page.goto(f"{server}/o/project/new")
    labels = page.locator(".record-form label")
    expect(labels.first).to_contain_text("Client")
    page.fill("#f-name", "Ab")
    page.locator("#f-client").fill("acm")
    page.locator(".lookup-option", has_text="Acme Corp").click()
    page.click("button:has-text('Save')")
    expect(page.locator("#form-errors, .field-error").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Give the project a longer name")
    page.fill("#f-name", "Website")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Website")
    expect(page.locator("main")).to_contain_text("Website / Acme Corp")
    screenshot(page, "builder-record")

    # submitted, then approved by both steps' approvers
    page.click("summary:has-text('Submit for approval')")
    page.click("form button:has-text('Submit for approval')")
    expect(page.locator(".alert-success")).to_have_text("Submitted for approval.")
    record_url = page.url
    page.click(".user-menu summary")
    page.click(".user-menu-panel button[type=submit]")
    page.fill("#username", "bob")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.click("nav a:has-text('Approvals')")
    page.click(".row-link:has-text('Website')")
    page.click("#approval button:has-text('Approve')")
    expect(page.locator(".alert-success")).to_have_text("You approved the request.")
    page.click(".user-menu summary")
    page.click(".user-menu-panel button[type=submit]")
    sign_in_admin(page, server, password)
    page.goto(record_url)
    page.click("#approval button:has-text('Approve')")
    expect(page.locator(".record-status")).to_contain_text("Approved")


@pytest.mark.parametrize("path", [
    "/builder", "/builder/objects/opportunity", "/builder/objects/opportunity/fields/stage",
    "/builder/objects/opportunity/layout", "/builder/objects/opportunity/views/new",
    "/builder/flows/discount_approval", "/builder/roles/sales_rep", "/builder/versions",
    "/builder/versions/1", "/builder/reports/deals_by_stage", "/builder/dashboards/sales_desk",
    "/builder/objects/opportunity/pools/new"])
def test_builder_pages_read_at_phone_width_and_in_chinese(phone, own_server, password,
                                                          path, screenshot):
    sign_in_admin(phone, own_server, password)
    phone.goto(f"{own_server}{path}?lang=zh")
    expect(phone.locator("h1")).to_be_visible()
    expect(phone.locator(".breadcrumbs, .eyebrow").first).to_contain_text(
        re.compile("设计器|元数据版本|商机|折扣审批|审批流|角色"))
    phone.wait_for_load_state("load")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width}px wide"
    screenshot(phone, "builder-phone" + path.replace("/builder", "").replace("/", "-"))
