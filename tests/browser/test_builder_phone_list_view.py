"""The builder's list view page on a 375 px phone: a long column label and API name wrap
inside their row instead of widening the page (a contract's `approval_status` row pushed
the page 10 px sideways)."""

from __future__ import annotations

from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_the_list_view_columns_fit_a_phone(phone: Any, server: str, sign_in: Any) -> None:
    sign_in(phone, "admin")
    phone.goto(f"{server}/builder/objects/opportunity/views/all")
    rows = phone.locator("li.column-row")
    expect(rows.filter(has_text="approval_status")).to_have_count(1)
    # as long as an admin may name a field: 63 characters of API name after its label
    phone.locator("li.column-row code").first.evaluate(
        "code => { code.textContent = 'estimated_annual_recurring_revenue_in_the_customers_currency_x'; }")
    for row in rows.all():
        box = row.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 375, row.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
