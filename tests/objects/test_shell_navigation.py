"""The shell's navigation, whose links are kept per metadata version, roles and language and
whose markup is kept per set of links: every page shows the navigation of now — after a
metadata change, a change of the user's roles, a language switch, for another user — with
the current page's link marked, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from metabiz.objects.evolution import apply_path
from metabiz.platform import people
from metabiz.platform.db import writer

ACCOUNT_READER = {"api_name": "account_reader", "label": {"en": "Account reader", "zh": "客户查看"},
                  "objects": {"account": ["read"]}, "record_access": "all"}


@pytest.fixture
def sales_dir(sales_dir: Path) -> Path:
    """The sales app with a role that reads accounts only (the conftest's `app` serves it)."""
    (sales_dir / "roles" / "account_reader.json").write_text(json.dumps(ACCOUNT_READER))
    return sales_dir


def _links(page: str) -> dict[str, tuple[str, bool]]:
    """The sidebar's links: address → (label, marked as the current page)."""
    nav = re.search(r'<nav class="sidebar"[^>]*>(.*?)</nav>', page, re.S)
    assert nav is not None, "a signed-in page has the sidebar"
    found = re.findall(r'<li><a href="([^"]*)" (aria-current="page")?>(.*?)</a></li>',
                       nav[1], re.S)
    return {href: (re.sub(r"<[^>]+>", "", body).split()[-1] if body.strip() else "",
                   bool(current)) for href, current, body in found}


def _page(client, path: str) -> dict[str, tuple[str, bool]]:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return _links(response.get_data(as_text=True))


def test_each_user_sees_the_links_of_their_roles_and_the_current_one_marked(
        app, browser_session):
    admin, alice = app.test_client(), app.test_client()
    browser_session(admin, "admin")
    browser_session(alice, "alice")
    for _ in range(2):  # the second pages come from what the first ones kept
        mine = _page(alice, "/o/account")
        assert {"/o/opportunity", "/o/account", "/o/line_item"} <= set(mine)
        assert "/builder" not in mine and "/admin/users" not in mine
        assert [href for href, (_, current) in mine.items() if current] == ["/o/account"]
        theirs = _page(admin, "/o/opportunity")
        assert "/builder" in theirs and "/admin/users" in theirs
        assert [href for href, (_, current) in theirs.items() if current] == ["/o/opportunity"]
    # a record's page marks its object's list; home marks only home
    assert [h for h, (_, current) in _page(alice, "/o/opportunity/new").items() if current] == \
        ["/o/opportunity"]
    assert [h for h, (_, current) in _page(alice, "/").items() if current] == ["/"]


def test_a_language_switch_shows_the_other_language_at_once(app, browser_session):
    client = app.test_client()
    browser_session(client, "alice")
    assert _page(client, "/o/account")["/o/account"][0] == "Account"
    page = client.get("/o/account?lang=zh").get_data(as_text=True)
    assert _links(page)["/o/account"][0] == "客户"
    assert '<p class="nav-heading">' in page and "Your objects" not in page
    assert _page(client, "/o/account?lang=en")["/o/account"][0] == "Account"


def test_a_role_change_shows_on_the_next_page(app, browser_session):
    client = app.test_client()
    browser_session(client, "eve")
    assert "/o/opportunity" in _page(client, "/")
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        people.update_user(conn, "eve", display_name=None, email=None, manager=None,
                           roles=["account_reader"])
    links = _page(client, "/")
    assert "/o/account" in links and "/o/opportunity" not in links
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        people.update_user(conn, "eve", display_name=None, email=None, manager=None,
                           roles=["admin"])
    assert "/builder" in _page(client, "/")


def test_a_metadata_change_shows_on_the_next_page(app, browser_session, sales_dir, extensions):
    client = app.test_client()
    browser_session(client, "alice")
    assert _page(client, "/o/account")["/o/account"][0] == "Account"
    path = sales_dir / "objects" / "account.json"
    doc = json.loads(path.read_text())
    doc["plural_label"] = {"en": "Customers", "zh": "客户们"}
    path.write_text(json.dumps(doc))
    apply_path(app.extensions["metabiz"].engine, sales_dir, extensions=extensions)
    assert _page(client, "/o/account")["/o/account"] == ("Customers", True)
    assert _page(client, "/o/opportunity?lang=zh")["/o/account"] == ("客户们", False)


def test_the_top_bar_is_each_users_own_with_their_token(app, browser_session):
    """The kept top bar: each user's name and menu, their session's CSRF token in the sign-out
    form, the language links of the page they are on, a new display name at once."""
    admin, alice = app.test_client(), app.test_client()
    browser_session(admin, "admin")
    browser_session(alice, "alice")
    for _ in range(2):
        for client, name, is_admin in ((admin, "admin", True), (alice, "alice", False)):
            page = client.get("/o/account?q=x").get_data(as_text=True)
            meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
            signed_out = re.search(r'action="/logout">\s*<input type="hidden" '
                                   r'name="csrf_token" value="([^"]+)"', page)[1]
            assert signed_out == meta
            assert f'<span class="user-name">{name}</span>' in page
            assert ('href="/admin/users"' in page) is is_admin
            assert 'href="/o/account?q=x&amp;lang=zh"' in page
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        people.update_user(conn, "alice", display_name="Alice Liddell", email=None,
                           manager="bob", roles=["sales_rep"])
    page = alice.get("/").get_data(as_text=True)
    assert '<span class="user-name">Alice Liddell</span>' in page


def test_the_boards_move_form_returns_to_the_board(app, browser_session):
    """A card's move form (without script) comes back to the board it was on, not the list:
    the layout no longer sets a `here` of its own over the page's."""
    client = app.test_client()
    browser_session(client, "alice")
    page = client.get("/o/opportunity/new").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    made = client.post("/o/opportunity/new", data={"name": "Alpha", "stage": "prospecting",
                                                   "csrf_token": token})
    assert made.status_code == 302, made.get_data(as_text=True)[:300]
    board = client.get("/o/opportunity?board=stage&q=Alpha").get_data(as_text=True)
    assert 'name="next" value="/o/opportunity?board=stage&amp;q=Alpha"' in board
