"""Pages never show the name of a record the user may not read, whatever id the address or
the form holds (`?account=7` filter chips and prefilled lookups), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html import unescape

import pytest

from metabiz.objects import records


@pytest.fixture
def accounts(work) -> dict[str, int]:
    """An account of admin's that eve (a sales rep: her own records only) may not read, and
    one of eve's own."""
    with work("admin") as ctx:
        hidden = records.create(ctx, "account", {"name": "Secret Holdings"})["id"]
        mine = records.create(ctx, "account", {"name": "Eve Trading", "owner": "eve"})["id"]
    return {"hidden": hidden, "mine": mine}


def page(client, path: str, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return unescape(response.get_data(as_text=True))


def test_a_filter_chip_names_only_a_readable_record(app, accounts, browser_session):
    eve = app.test_client()
    browser_session(eve, "eve")
    hidden = page(eve, f"/o/opportunity?account={accounts['hidden']}")
    assert "Secret Holdings" not in hidden
    assert f"#{accounts['hidden']}" in hidden  # the chip says which id it filters by
    assert "Eve Trading" in page(eve, f"/o/opportunity?account={accounts['mine']}")
    admin = app.test_client()
    browser_session(admin, "admin")
    assert "Secret Holdings" in page(admin, f"/o/opportunity?account={accounts['hidden']}")


def test_a_prefilled_lookup_names_only_a_readable_record(app, accounts, browser_session):
    eve = app.test_client()
    browser_session(eve, "eve")
    form = page(eve, f"/o/opportunity/new?account={accounts['hidden']}")
    assert "Secret Holdings" not in form
    assert "Eve Trading" in page(eve, f"/o/opportunity/new?account={accounts['mine']}")
    # nor when a form posted with that id comes back with errors (a required name missing)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', form)[1]
    again = eve.post("/o/opportunity/new", data={"csrf_token": token, "name": "",
                                                  "account": str(accounts["hidden"])})
    assert again.status_code in (200, 422)
    assert "Secret Holdings" not in unescape(again.get_data(as_text=True))
    admin = app.test_client()
    browser_session(admin, "admin")
    assert "Secret Holdings" in page(admin, f"/o/opportunity/new?account={accounts['hidden']}")


def test_a_records_own_lookup_still_shows_its_name_when_editing(app, accounts, work,
                                                                 browser_session):
    """An opportunity of eve's pointing at admin's account: eve may read the opportunity,
    and its page names the account, as before; the edit form does too."""
    with work("admin") as ctx:
        deal = records.create(ctx, "opportunity", {"name": "Joint deal", "owner": "eve",
                                                   "account": accounts["hidden"]})
    eve = app.test_client()
    browser_session(eve, "eve")
    assert "Secret Holdings" in page(eve, f"/o/opportunity/{deal['id']}")
    assert "Secret Holdings" in page(eve, f"/o/opportunity/{deal['id']}/edit")
