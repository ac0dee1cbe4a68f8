"""The kanban board (`/o/<object>?board=<picklist>`), moving cards and the stage path, on
SQLite and PostgreSQL: columns with counts and sums, validation and locks refused with a
message for people, access applied."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select, update

from metabiz.app import create_app
from metabiz.platform.config import Config
from metabiz.platform.db import field_history
from tests.objects.people_app import csrf, make, service


@pytest.fixture
def app(request, db_url, tmp_path):
    request.getfixturevalue("sales")
    application = create_app(Config(database_url=db_url, secret_key="test",
                                    instance_path=tmp_path, testing=True))
    yield application
    application.extensions["metabiz"].engine.dispose()


def column(page: str, value: str) -> str:
    match = re.search(rf'<section class="board-column" data-column="{value}".*?</section>',
                      page, re.S)
    assert match, f"no column {value!r}"
    return match[0]


def test_board_shows_a_column_per_value_with_counts_and_sums(app, client):
    make(app, "opportunity", "alice", name="Alpha", amount="1000.50")
    make(app, "opportunity", "alice", name="Beta", amount="250", stage="negotiation")
    make(app, "opportunity", "alice", name="Gamma", amount="99.50", stage="negotiation")
    make(app, "opportunity", "eve", name="Eve's deal", amount="5000", stage="negotiation")
    page = unescape(client.get("/o/opportunity?board=stage").get_data(as_text=True))
    assert [m for m in re.findall(r'data-column="([^"]*)"', page)] == \
        ["prospecting", "negotiation", "closed_won"]
    prospecting, negotiation = column(page, "prospecting"), column(page, "negotiation")
    assert "Alpha" in prospecting and 'data-count="1"' in prospecting
    assert "1,000.50" in prospecting
    assert "Beta" in negotiation and "Gamma" in negotiation and "Eve's deal" not in page
    assert 'data-count="2"' in negotiation and "349.50" in negotiation
    assert 'data-count="0"' in column(page, "closed_won")
    assert "Column totals: Amount" in page
    assert "vendor/sortablejs/Sortable.min.js" in page
    # the list page links to the board and back
    listing = client.get("/o/opportunity").get_data(as_text=True)
    assert 'href="/o/opportunity?board=stage"' in listing
    assert "初步接洽" in client.get("/o/opportunity?board=stage&lang=zh").get_data(as_text=True)


def test_board_search_and_bad_field(app, client):
    make(app, "opportunity", "alice", name="Alpha", amount="10")
    make(app, "opportunity", "alice", name="Beta", amount="20")
    page = client.get("/o/opportunity?board=stage&q=beta").get_data(as_text=True)
    assert "Beta" in page and "Alpha" not in page
    assert 'id="board-sum"' not in page  # amount is the one field a column can sum
    for not_summed in ("probability", "discount", "name"):  # percentages do not add up
        assert client.get(f"/o/opportunity?board=stage&sum={not_summed}").status_code == 400
    assert client.get("/o/opportunity?board=amount").status_code == 400
    assert client.get("/o/opportunity?board=nope").status_code == 400


def test_a_card_moves_through_the_record_service(app, client):
    deal = make(app, "opportunity", "alice", name="Alpha", amount="10")
    token = csrf(client, "/o/opportunity?board=stage")
    moved = client.post(f"/o/opportunity/{deal['id']}/move",
                        data={"field": "stage", "value": "negotiation", "version": "1",
                              "csrf_token": token},
                        headers={"Accept": "application/json"})
    assert moved.status_code == 200 and moved.get_json() == {"id": deal["id"], "version": 2}
    with service(app) as ctx:
        history = ctx.conn.execute(select(field_history.c.field, field_history.c.new_value))
        assert [tuple(row) for row in history] == [("stage", "negotiation")]
    # a validation rule refuses: the card gets the rule's message
    refused = client.post(f"/o/opportunity/{deal['id']}/move",
                          data={"field": "stage", "value": "closed_won", "version": "2",
                                "csrf_token": token}, headers={"Accept": "application/json"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"] == "A won deal needs a close date"
    # a stale version is a conflict, worded for people
    stale = client.post(f"/o/opportunity/{deal['id']}/move",
                        data={"field": "stage", "value": "prospecting", "version": "1",
                              "csrf_token": token}, headers={"Accept": "application/json"})
    assert stale.status_code == 409 and "reload the board" in stale.get_json()["error"]["message"]
    # without script: the form redirects back with a message
    plain = client.post(f"/o/opportunity/{deal['id']}/move",
                        data={"field": "stage", "value": "prospecting", "version": "2",
                              "next": "/o/opportunity?board=stage", "csrf_token": token})
    assert plain.status_code == 302 and plain.headers["Location"] == "/o/opportunity?board=stage"
    assert "“Alpha” was moved." in unescape(client.get(plain.headers["Location"])
                                            .get_data(as_text=True))


def test_locked_and_invisible_records_do_not_move(app, client):
    deal = make(app, "opportunity", "alice", name="Locked deal")
    theirs = make(app, "opportunity", "eve", name="Eve's deal")
    with service(app) as ctx:
        table = ctx.schema.object("opportunity").table
        ctx.conn.execute(update(table).where(table.c.id == deal["id"])
                         .values(locked=True, approval_status="pending"))
    page = client.get("/o/opportunity?board=stage").get_data(as_text=True)
    card = re.search(rf'<li class="board-card locked" data-id="{deal["id"]}".*?</li>', page, re.S)
    assert card and "board-move" not in card[0]
    token = csrf(client)
    locked = client.post(f"/o/opportunity/{deal['id']}/move",
                         data={"field": "stage", "value": "negotiation", "csrf_token": token},
                         headers={"Accept": "application/json"})
    assert locked.status_code == 409
    assert locked.get_json()["error"] == {
        "code": "record_locked", "message": "It cannot be changed while its approval is pending."}
    hidden = client.post(f"/o/opportunity/{theirs['id']}/move",
                         data={"field": "stage", "value": "negotiation", "csrf_token": token},
                         headers={"Accept": "application/json"})
    assert hidden.status_code == 404


def test_the_record_page_shows_a_stage_path_that_moves_the_record(app, client):
    deal = make(app, "opportunity", "alice", name="Alpha", stage="negotiation")
    page = unescape(client.get(f"/o/opportunity/{deal['id']}").get_data(as_text=True))
    path = re.search(r'<nav class="stage-path".*?</nav>', page, re.S)[0]
    assert re.findall(r'class="stage stage-(\w+)"', path) == ["done", "current", "todo"]
    assert '<span aria-current="step">Negotiation</span>' in path
    token = csrf(client)
    back = client.post(f"/o/opportunity/{deal['id']}/move",
                       data={"field": "stage", "value": "prospecting", "version": "1",
                             "next": f"/o/opportunity/{deal['id']}", "csrf_token": token})
    assert back.headers["Location"] == f"/o/opportunity/{deal['id']}"
    page = client.get(back.headers["Location"]).get_data(as_text=True)
    assert re.findall(r'class="stage stage-(\w+)"', page) == ["current", "todo", "todo"]
    # objects without a stage-like picklist show no path
    account = make(app, "account", name="Acme", owner="alice")
    assert "stage-path" not in client.get(f"/o/account/{account['id']}").get_data(as_text=True)
