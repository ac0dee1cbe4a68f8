"""An object's optional icon: picked in the builder from a small set of our own SVG symbols,
shown in the navigation and on the object's pages; any other name is refused by pointer."""

from __future__ import annotations

import re

from builder_client import confirm, signed_in

from metabiz.platform.metadata.validation import kernel_schemas


def test_every_icon_of_the_schema_is_a_symbol_of_the_sprite(client):
    sprite = client.get("/static/object-icons.svg").get_data(as_text=True)
    symbols = set(re.findall(r'<symbol id="([a-z_]+)"', sprite))
    assert set(kernel_schemas()["object"]["properties"]["icon"]["enum"]) == symbols
    assert len(symbols) >= 20


def test_an_icon_picked_in_the_builder_shows_in_navigation_and_headers(client,
                                                                       browser_session):
    token = signed_in(client, "admin", browser_session)
    page = client.get("/builder/objects/opportunity").get_data(as_text=True)
    assert 'name="icon" value="briefcase"' in page and 'name="icon" value=""' in page
    plan = client.post("/builder/objects/opportunity", data={
        "csrf_token": token, "label_en": "Opportunity", "label_zh": "商机",
        "name_field": "name", "icon": "briefcase"})
    assert plan.status_code == 200
    assert confirm(client, plan.get_data(as_text=True)).status_code == 302
    signed_in(client, "alice", browser_session)
    home = client.get("/").get_data(as_text=True)
    nav = home[home.index('class="sidebar"'):]
    assert re.search(r'href="/o/opportunity"[^>]*>\s*<svg class="object-icon"[^>]*><use '
                     r'href="/static/object-icons.svg#briefcase"', nav)
    assert client.get("/api/v1/meta/objects/opportunity").get_json()["icon"] == "briefcase"
    assert "icon" not in client.get("/api/v1/meta/objects/account").get_json()
    listed = client.get("/o/opportunity").get_data(as_text=True)
    assert re.search(r'<h1><svg class="object-icon"[^>]*><use href="/static/object-icons.svg'
                     r'#briefcase"/></svg>', listed)
    # an object without an icon keeps its initial
    assert re.search(r'href="/o/account"[^>]*>\s*<span class="nav-dot"', nav)
    # a new object with an icon, and taking it off again
    token = signed_in(client, "admin", browser_session)
    plan = client.post("/builder/objects/new", data={
        "csrf_token": token, "label_en": "Ticket", "api_name": "ticket", "icon": "ticket"})
    assert confirm(client, plan.get_data(as_text=True)).status_code == 302
    assert client.get("/api/v1/meta/versions/3").get_json()["documents"][
        "custom/objects/ticket.json"]["icon"] == "ticket"
    assert "#ticket" in client.get("/builder").get_data(as_text=True)
    plan = client.post("/builder/objects/opportunity", data={
        "csrf_token": token, "label_en": "Opportunity", "name_field": "name", "icon": ""})
    assert "change object opportunity" in plan.get_data(as_text=True)


def test_an_unknown_icon_is_refused_by_its_control(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    response = client.post("/builder/objects/opportunity", data={
        "csrf_token": token, "label_en": "Opportunity", "name_field": "name",
        "icon": "rocket"})
    assert response.status_code == 422
    assert re.search(r'id="e-icon" role="alert"><p>[^<]*rocket', response.get_data(
        as_text=True).replace("&#39;", "'"))
