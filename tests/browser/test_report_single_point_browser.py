"""A line chart of one month (a new desk's first month of satisfaction scores) in a real
headless Chromium: its one point is drawn big enough to see, with its value beside it.

Runs its own server (the builder session changes nothing, but signs in as the admin).
"""

from __future__ import annotations

from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_a_line_chart_of_one_month_shows_its_point_and_value(page: Any, own_server: str,
                                                             password: str) -> None:
    page.goto(f"{own_server}/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.goto(f"{own_server}/builder/reports/new?object=opportunity")
    page.fill("#f-label_en", "Deals by month")
    page.select_option("#f-group0_field", "created_at")  # every deal was made this month
    page.select_option("#f-group0_bucket", "month")
    page.select_option("#f-chart_type", "line")
    box = page.locator("[data-chart-y] input").first
    if not box.is_checked():
        box.check()
    chart = page.locator("#report-preview [data-report-chart][data-drawn=true]")
    expect(chart).to_be_visible()
    expect(page.locator("#report-preview tbody tr")).to_have_count(1)
    drawn = page.evaluate("""(id) => {
        const option = window.echarts.getInstanceByDom(document.getElementById(id)).getOption();
        return {size: option.series[0].symbolSize, label: option.series[0].label.show};
    }""", chart.get_attribute("id"))
    assert drawn == {"size": 12, "label": True}
