"""The pool page, the record's owner card and bulk transfer, as a signed-in browser sees
them (server-rendered HTML, forms with CSRF tokens), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from metabiz.objects import records
from metabiz.platform.db import users, writer

Call = Callable[..., Any]


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def csrf(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]  # type: ignore[index]


def test_members_find_their_pool_in_the_navigation_and_claim_from_it(
        client: FlaskClient, browser_session, pooled, call: Call) -> None:
    lead = pooled("Acme Trading")
    browser_session(client, "rita")
    home = page(client, "/")
    assert 'href="/pools/lead/lead_pool"' in home and "Lead pool" in home
    pool = page(client, "/pools/lead/lead_pool")
    assert "Acme Trading" in pool and "You hold 0 of at most 2 records" in pool
    assert "No answer" in pool  # why it was returned, by its label
    assert 'form="bulk-assign"' not in pool  # members claim, admins assign
    done = client.post("/pools/lead/lead_pool/claim", data={"id": lead, "csrf_token": csrf(pool)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/o/lead/{lead}")
    detail = page(client, f"/o/lead/{lead}")
    assert "is yours now" in detail and "Owned by rita" in detail
    assert call("GET", f"/records/lead/{lead}").get_json()["owner"] == "rita"
    assert "Acme Trading" not in page(client, "/pools/lead/lead_pool")


def test_the_claim_limit_is_said_in_words(client: FlaskClient, browser_session, pooled) -> None:
    leads = [pooled(f"Lead {i}") for i in range(3)]
    browser_session(client, "rita")
    token = csrf(page(client, "/pools/lead/lead_pool"))
    for lead in leads[:2]:
        client.post("/pools/lead/lead_pool/claim", data={"id": lead, "csrf_token": token})
    refused = client.post("/pools/lead/lead_pool/claim", data={"id": leads[2], "csrf_token": token},
                          follow_redirects=True)
    assert "as many records from this pool as its limit allows (2)" in \
        refused.get_data(as_text=True)


def test_chinese_pool_page(client: FlaskClient, browser_session, pooled) -> None:
    pooled("Acme")
    browser_session(client, "rita")
    html = page(client, "/pools/lead/lead_pool?lang=zh")
    assert "线索公海" in html and "领取" in html and "退回原因" in html


def test_non_members_get_404_and_no_link(client: FlaskClient, browser_session, pooled) -> None:
    pooled("Acme")
    browser_session(client, "oscar")
    assert "/pools/lead/lead_pool" not in page(client, "/")
    assert client.get("/pools/lead/lead_pool").status_code == 404


def test_admins_assign_checked_records(client: FlaskClient, browser_session, pooled,
                                       call: Call) -> None:
    leads = [pooled(f"Lead {i}") for i in range(3)]
    browser_session(client, "mia")
    pool = page(client, "/pools/lead/lead_pool")
    assert 'form="bulk-assign"' in pool
    done = client.post("/pools/lead/lead_pool/assign", follow_redirects=True, data={
        "ids": leads[:2], "owner": "ron", "csrf_token": csrf(pool)})
    assert "2 record(s) assigned to ron" in done.get_data(as_text=True)
    assert [call("GET", f"/records/lead/{i}").get_json()["owner"] for i in leads] == \
        ["ron", "ron", None]
    nobody = client.post("/pools/lead/lead_pool/assign", follow_redirects=True, data={
        "ids": [leads[2]], "owner": "gone", "csrf_token": csrf(pool)})
    assert "no active user named &#39;gone&#39;" in nobody.get_data(as_text=True)


def test_return_with_a_reason_from_the_owner_card(client: FlaskClient, browser_session,
                                                   call: Call) -> None:
    lead = call("POST", "/records/lead", user="rita", body={"name": "Mine"}).get_json()["id"]
    browser_session(client, "rita")
    detail = page(client, f"/o/lead/{lead}")
    assert "Return to Lead pool" in detail and "Not interested" in detail
    done = client.post(f"/o/lead/{lead}/return", follow_redirects=True, data={
        "pool": "lead_pool", "reason": "not_interested", "csrf_token": csrf(detail)})
    html = done.get_data(as_text=True)
    assert "Returned to Lead pool" in html and "Not interested" in html  # on the pool page
    assert call("GET", f"/records/lead/{lead}").get_json()["pool"] == "lead_pool"


def test_transfer_from_the_detail_page_and_in_bulk_from_the_list(
        client: FlaskClient, browser_session, call: Call) -> None:
    ids = [call("POST", "/records/lead", user="rita", body={"name": f"L{i}"}).get_json()["id"]
           for i in range(3)]
    browser_session(client, "rita")
    detail = page(client, f"/o/lead/{ids[0]}")
    assert "Transfer owner" in detail
    moved = client.post(f"/o/lead/{ids[0]}/transfer", follow_redirects=True,
                        data={"owner": "ron", "csrf_token": csrf(detail)})
    assert "now belongs to ron" in moved.get_data(as_text=True)  # back on the list: not hers
    listing = page(client, "/o/lead")
    assert 'form="bulk-transfer"' in listing and 'name="ids"' in listing
    bulk = client.post("/o/lead/transfer", follow_redirects=True, data={
        "ids": ids[1:], "owner": "mia", "csrf_token": csrf(listing), "next": "/o/lead"})
    assert "2 record(s) now belong to mia" in bulk.get_data(as_text=True)
    assert [call("GET", f"/records/lead/{i}").get_json()["owner"] for i in ids] == \
        ["ron", "mia", "mia"]
    refused = client.post("/o/lead/transfer", follow_redirects=True, data={
        "ids": ids[1:], "owner": "gone", "csrf_token": csrf(listing)})
    assert "Nothing was transferred" in refused.get_data(as_text=True)


def test_a_locked_record_offers_no_transfer_and_a_refusal_is_worded_for_people(
        client: FlaskClient, browser_session, call: Call, work) -> None:
    lead = call("POST", "/records/lead", user="rita", body={"name": "Locked"}).get_json()["id"]
    browser_session(client, "rita")
    token = csrf(page(client, f"/o/lead/{lead}"))
    with work() as ctx:  # what a pending approval that locks the record does
        records.set_system(ctx, "lead", lead, locked=True, approval_status="pending")
    detail = page(client, f"/o/lead/{lead}")
    assert "Transfer owner" not in detail and "Return to Lead pool" not in detail
    refused = client.post(f"/o/lead/{lead}/transfer", follow_redirects=True,
                          data={"owner": "ron", "csrf_token": token}).get_data(as_text=True)
    assert "It cannot be changed while its approval is pending." in refused
    assert f"lead {lead} is locked" not in refused
    back = client.post(f"/o/lead/{lead}/return?lang=zh", follow_redirects=True,
                       data={"pool": "lead_pool", "reason": "no_answer", "csrf_token": token})
    assert "审批进行中，暂不能修改。" in back.get_data(as_text=True)
    assert call("GET", f"/records/lead/{lead}").get_json()["owner"] == "rita"


def test_people_show_by_their_display_names_on_the_owner_card_and_the_pool(
        client: FlaskClient, browser_session, call: Call, pool_app) -> None:
    with writer(pool_app.extensions["metabiz"].engine).begin() as conn:
        conn.execute(users.update().where(users.c.name == "rita")
                     .values(display_name="Rita Lin"))
    lead = call("POST", "/records/lead", user="rita", body={"name": "Acme"}).get_json()["id"]
    browser_session(client, "rita")
    detail = page(client, f"/o/lead/{lead}")
    assert "Owned by Rita Lin" in detail
    system = detail[detail.index('id="system-title"'):]
    assert re.search(r"<dt>Owner</dt><dd>\s*Rita Lin\s*</dd>", system)
    assert re.search(r"<dt>Created by</dt><dd>\s*Rita Lin\s*</dd>", system)
    back = call("POST", f"/records/lead/{lead}/return", user="rita", body={"reason": "no_answer"})
    assert back.status_code == 200
    pool = page(client, "/pools/lead/lead_pool")
    assert '<td data-label="Previous owner">Rita Lin</td>' in pool
    with writer(pool_app.extensions["metabiz"].engine).begin() as conn:
        conn.execute(users.update().where(users.c.name == "ron").values(display_name="Ron Gu"))
    other = call("POST", "/records/lead", user="rita", body={"name": "Globex"}).get_json()["id"]
    moved = client.post(f"/o/lead/{other}/transfer", follow_redirects=True,
                        data={"owner": "ron", "csrf_token": csrf(pool)})
    assert "now belongs to Ron Gu" in moved.get_data(as_text=True)
