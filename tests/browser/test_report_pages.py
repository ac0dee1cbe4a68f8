"""Reports and dashboards in a real headless Chromium: the charts draw under the strict
Content-Security-Policy, and clicking a bar or a row opens the matching records."""

from __future__ import annotations

import re
from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def click_first_bar(page: Any, chart: Any) -> None:
    """Click where ECharts drew the first bar (the chart exposes its instance on window)."""
    box = page.evaluate("""(id) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById(id));
        const at = chart.convertToPixel({seriesIndex: 0}, [0, chart.getOption().series[0].data[0].value]);
        const zero = chart.convertToPixel({seriesIndex: 0}, [0, 0]);
        return {x: at[0], y: zero[1] - 8};  // low on the bar, away from its tooltip
    }""", chart.get_attribute("id"))
    chart.hover(position={"x": box["x"], "y": box["y"]})  # as a hand moves to the bar first
    page.wait_for_timeout(200)
    chart.click(position={"x": box["x"], "y": box["y"]})


def test_open_a_report_and_click_a_bar_through_to_the_records(page, server, sign_in):
    sign_in(page)
    page.goto(f"{server}/reports/deals_by_stage")
    expect(page.locator("h1")).to_have_text("Deals by stage")
    chart = page.locator("[data-report-chart]")
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(page.locator(".report-table tbody tr")).to_have_count(2)
    expect(page.locator(".report-table tfoot")).to_contain_text("32")
    click_first_bar(page, chart)
    expect(page).to_have_url(re.compile(r"/o/opportunity\?filter="))
    expect(page.locator(".chip")).to_contain_text('ISPICKVAL(stage, "prospecting")')
    expect(page.locator(".list-count")).to_contain_text("17")


def test_a_table_row_opens_its_records(page, server, sign_in):
    sign_in(page)
    page.goto(f"{server}/reports/deals_by_stage")
    page.locator(".report-table tbody tr", has_text="Negotiation").locator("th").click()
    expect(page).to_have_url(re.compile(r"/o/opportunity\?filter="))
    expect(page.locator(".list-count")).to_contain_text("15")


def test_the_home_page_shows_the_role_dashboard(page, server, sign_in):
    sign_in(page)
    expect(page.locator(".report-home h2").first).to_have_text("Sales desk")
    expect(page.locator(".report-home [data-report-chart]")).to_have_count(2)
    for chart in page.locator(".report-home [data-report-chart]").all():
        expect(chart).to_have_attribute("data-drawn", "true")
    page.click(".report-home .link-more")
    expect(page).to_have_url(f"{server}/dashboards/sales_desk")
    expect(page.locator(".report-card")).to_have_count(2)


def test_a_dashboard_on_a_phone(phone, server, sign_in, screenshot):
    sign_in(phone)
    phone.goto(f"{server}/dashboards/sales_desk?lang=zh")
    expect(phone.locator("h1")).to_have_text("销售看板")
    expect(phone.locator("[data-report-chart]").first).to_have_attribute("data-drawn", "true")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page is {width}px wide"
    screenshot(phone, "dashboard-phone-zh")
    phone.goto(f"{server}/reports/deals_by_stage")
    expect(phone.locator("[data-report-chart]")).to_have_attribute("data-drawn", "true")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the report page is {width}px wide"
    screenshot(phone, "report-phone")


def test_chart_numbers_are_grouped_and_pie_percentages_fit_on_a_phone(phone, server, sign_in):
    sign_in(phone)
    phone.goto(f"{server}/dashboards/sales_desk")
    charts = phone.locator("[data-report-chart]")
    expect(charts).to_have_count(2)
    for chart in charts.all():
        expect(chart).to_have_attribute("data-drawn", "true")
    drawn = phone.evaluate("""() => [...document.querySelectorAll('[data-report-chart]')].map(el => {
        const option = window.echarts.getInstanceByDom(el).getOption();
        return {tooltip: option.tooltip[0].valueFormatter(2568000.5),
                type: option.series[0].type, label: option.series[0].label.position};
    })""")
    assert [d["tooltip"] for d in drawn] == ["2,568,000.5", "2,568,000.5"]
    pie = next(d for d in drawn if d["type"] == "pie")
    assert pie["label"] == "inside"  # outside, a 375 px card cuts "25%" down to "2..."
