"""The report designer in a real headless Chromium: an admin builds a report in the form,
watches its live preview draw the chart on real records, saves it through the plan, adds it
to a dashboard for the sales reps, and opens that dashboard.

Runs its own server (the metadata changes would leak into the other browser tests).
"""

from __future__ import annotations

from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def review_and_apply(page: Any, expected: str) -> None:
    page.click("button:has-text('Review changes')")
    expect(page.locator("h1")).to_have_text("Review the changes")
    expect(page.locator("[data-plan]")).to_contain_text(expected)
    page.click("[data-apply]")
    expect(page.locator(".alert-success")).to_contain_text("Applied as metadata version")


def test_admin_builds_a_report_and_puts_it_on_a_dashboard(page, own_server,
                                                         password, screenshot):
    server = own_server
    page.goto(f"{server}/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.click("nav.sidebar a:has-text('Builder')")
    page.click("a:has-text('New report')")
    expect(page.locator("h1")).to_have_text("New report")

    # the object first: the form comes back with its fields
    page.select_option("#f-object", "opportunity")
    expect(page).to_have_url(f"{server}/builder/reports/new?object=opportunity")
    page.fill("#f-label_en", "Pipeline by stage")
    page.fill("#f-label_zh", "各阶段商机")
    expect(page.locator("#f-api_name")).to_have_value("pipeline_by_stage")
    page.select_option("#f-group0_field", "stage")
    row = page.locator("[data-measure='1']")
    row.locator("input[name=measure_api_name]").fill("amount")
    row.locator("select[name=measure_function]").select_option("sum")
    row.locator("select[name=measure_field]").select_option("amount")
    row.locator("input[name=measure_label_en]").fill("Amount")
    page.select_option("#f-chart_type", "bar")
    # the chart offers the grouping and the measures as they are typed
    expect(page.locator("#f-chart_x option[value=stage]")).to_have_count(1)
    page.check("[data-chart-y] input[value=amount]")

    # the live preview runs the report on the records and draws its chart
    preview = page.locator("#report-preview")
    expect(preview.locator("[data-report-chart][data-drawn=true]")).to_be_visible()
    expect(preview.locator("table")).to_contain_text("Prospecting")
    expect(preview.locator("table")).to_contain_text("Negotiation")
    expect(preview.locator("tfoot")).to_contain_text("Total")

    # a mistake in a measure is shown by the preview, naming the measure
    row.locator("select[name=measure_field]").select_option("name")
    expect(preview.locator("[data-preview-status=error]")).to_contain_text("Measure 2")
    expect(preview.locator("[data-preview-status=error]")).to_contain_text("sum needs a number")
    row.locator("select[name=measure_field]").select_option("amount")
    expect(preview.locator("[data-report-chart][data-drawn=true]")).to_be_visible()
    screenshot(page, "builder-report-form")
    review_and_apply(page, "add report pipeline_by_stage")
    expect(page.locator("h1")).to_have_text("Pipeline by stage")

    # a dashboard for the sales reps, with the report on it
    page.click("nav.breadcrumbs a:has-text('Builder')")
    page.click("a:has-text('New dashboard')")
    page.fill("#f-label_en", "Pipeline desk")
    page.fill("#f-label_zh", "商机看板")
    expect(page.locator("#f-api_name")).to_have_value("pipeline_desk")
    page.check("input[name=roles][value=sales_rep]")
    first = page.locator("[data-component='0']")
    first.locator("select[name=component_report]").select_option("pipeline_by_stage")
    first.locator("select[name=component_width]").select_option("12")
    second = page.locator("[data-component='1']")
    second.locator("select[name=component_report]").select_option("pipeline_by_stage")
    second.locator("select[name=component_chart]").select_option("pie")
    second.locator("input[name=component_title_en]").fill("Share by stage")
    review_and_apply(page, "add dashboard pipeline_desk")
    expect(page.locator("[data-grid-preview] .grid-w12")).to_contain_text("Pipeline by stage")
    screenshot(page, "builder-dashboard-form")

    page.click("a:has-text('Open dashboard')")
    expect(page.locator("h1")).to_have_text("Pipeline desk")
    expect(page.locator("[data-report-chart][data-drawn=true]")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("Share by stage")
    screenshot(page, "builder-dashboard-opened")


def test_grouping_and_measure_formulas_are_checked_as_they_are_typed(
        page, own_server, password):
    server = own_server
    page.goto(f"{server}/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.goto(f"{server}/builder/reports/new?object=opportunity")
    # a grouping formula: pickers insert at the cursor, the check names line and column
    group = page.locator("#f-group0_formula")
    group.fill("TEXT(")
    page.locator("[data-insert-into=f-group0_formula]").first.select_option("stage")
    group.press("End")
    group.type(")")
    expect(group).to_have_value("TEXT(stage)")
    expect(page.locator("#fc-group0_formula")).to_contain_text("Text")
    # each measure row checks its own formula, not the first row's
    third = page.locator("#f-measure_formula2")
    third.fill("amount /\n  amout")
    result = page.locator("#fc-measure_formula2")
    expect(result).to_contain_text("Line 2, column 3")
    expect(result).to_contain_text("amout")
    third.fill("amount / 2")
    expect(result).to_contain_text("Number")
    expect(page.locator("#fc-measure_formula0")).to_be_empty()
