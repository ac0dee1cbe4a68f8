"""The list's Export menu on a 375 px phone: it opens inside the screen, its two downloads
readable and tappable (it used to open to the right of its button, half off the screen)."""

from __future__ import annotations

from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_the_export_menu_opens_inside_a_phone_screen(phone: Any, server: str, sign_in: Any):
    sign_in(phone, "admin")
    phone.goto(f"{server}/o/opportunity")
    phone.click(".sheet-export > summary")
    panel = phone.locator(".sheet-export .popover-panel")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    for link in panel.locator("a").all():
        link_box = link.bounding_box()
        assert link_box is not None and link_box["x"] + link_box["width"] <= 375
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
