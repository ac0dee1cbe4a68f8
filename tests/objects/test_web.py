"""The generated pages through Flask's test client, on SQLite and PostgreSQL.

Sign-in, lists (search, sort, pages, list views), forms (inline errors, conflicts),
detail pages, 404/403 pages, role-hidden fields, Chinese labels and approvals.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, load_actor
from metabiz.platform.db import writer

EVERY_TYPE = Path(__file__).resolve().parents[1] / "fixtures" / "every_type"
PASSWORDS = {"admin": "admin-pw", "bob": "bob-pw", "alice": "alice-pw", "eve": "eve-pw"}

LIST_VIEWS = [
    {"api_name": "all", "label": {"en": "All deals", "zh": "全部商机"},
     "columns": ["name", "account", "stage", "amount", "owner"], "sort": "name"},
    {"api_name": "big", "label": "Big deals", "columns": ["name", "amount"],
     "filter": "amount >= 1000", "sort": "-amount"},
]
LAYOUT = {"sections": [
    {"label": {"en": "Deal", "zh": "商机信息"}, "columns": 2,
     "fields": ["name", "account", "stage", "amount", "discount", "close_date", "code",
                "contact_email", "weighted_amount"]}]}
APPROVAL_FLOW = {
    "api_name": "big_discount", "kind": "approval", "object": "opportunity",
    "label": "Big discount", "entry_condition": "discount > 10", "lock_record": True,
    "steps": [{"api_name": "manager", "approvers": [{"user": "bob"}], "mode": "any"}]}


@pytest.fixture
def sales_dir(sales_dir: Path) -> Path:
    """The sales app with list views, a layout and an approval flow on opportunities (the
    conftest's `app` serves it)."""
    path = sales_dir / "objects" / "opportunity.json"
    doc = json.loads(path.read_text())
    doc["list_views"] = LIST_VIEWS
    doc["layouts"] = {"default": LAYOUT}
    path.write_text(json.dumps(doc))
    (sales_dir / "flows").mkdir(exist_ok=True)
    (sales_dir / "flows" / "big_discount.json").write_text(json.dumps(APPROVAL_FLOW))
    return sales_dir


@pytest.fixture
def client(app):
    return app.test_client()


def service(app, user: str = "admin"):
    """`with service(app, "alice") as ctx:` — a committed unit of work outside the pages."""
    from contextlib import contextmanager

    runtime = build_runtime(app.extensions["metabiz"].engine)

    @contextmanager
    def unit():
        with writer(app.extensions["metabiz"].engine).begin() as conn:
            yield Context(conn, runtime.schema(conn), load_actor(conn, user),
                          listeners=app.extensions["metabiz"].runtime.listeners)

    return unit()


def token(client) -> str:
    """The session's CSRF token, as every page carries it (`<meta name="csrf-token">`)."""
    page = client.get("/login", follow_redirects=True).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def login(client, user: str = "admin", password: str | None = None):
    client.get("/login")
    return client.post("/login", data={"username": user, "password": password or PASSWORDS[user],
                                       "csrf_token": token(client)})


def post(client, path: str, data: dict[str, Any] | None = None, **kwargs: Any):
    body = {"csrf_token": token(client), **(data or {})}
    return client.post(path, data=body, **kwargs)


def html(response) -> str:
    """The page's text with entities decoded (escaping itself is tested on the raw bytes)."""
    return unescape(response.get_data(as_text=True))


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else None


def make_account(app, name: str = "Acme", user: str = "admin", **values: Any) -> dict:
    with service(app, user) as ctx:
        return records.create(ctx, "account", {"name": name, **values})


def make_deal(app, name: str, user: str = "admin", **values: Any) -> dict:
    with service(app, user) as ctx:
        return records.create(ctx, "opportunity", {"name": name, **values})


# -- signing in ----------------------------------------------------------------------------


def test_pages_need_a_signed_in_user(client):
    response = client.get("/o/opportunity?q=x")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    query = parse_qs(urlparse(response.headers["Location"]).query)
    assert query["next"] == ["/o/opportunity?q=x"]
    assert client.get("/").status_code == 302


def test_bad_password_shows_a_message_and_signs_nobody_in(client):
    page = login(client, "alice", "wrong")
    assert page.status_code == 200
    assert "Wrong user name or password." in html(page)
    assert 'value="alice"' in html(page)  # the user name is kept
    with client.session_transaction() as sess:
        assert "user" not in sess
    assert client.get("/").status_code == 302


def test_sign_in_goes_to_next_and_sign_out_needs_post_with_csrf(client):
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": "alice-pw",
                                           "next": "/o/opportunity",
                                           "csrf_token": token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/o/opportunity"
    assert client.get("/o/opportunity").status_code == 200
    assert "Do you want to sign out?" in html(client.get("/logout"))
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/o/opportunity").status_code == 200  # still signed in
    out = post(client, "/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert client.get("/o/opportunity").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "/\t/evil.example",
                                    "/\n/evil.example", "/ /evil.example", "https://evil.example",
                                    "/\r\nX-Injected: 1"])
def test_next_never_leaves_the_site(client, target):
    # browsers drop tabs and newlines inside URLs, so "/<tab>/evil.example" is "//evil.example"
    form = token(client)
    response = client.post("/login", data={"username": "alice", "password": "alice-pw",
                                           "next": target, "csrf_token": form})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "X-Injected" not in response.headers
    client.post("/logout", data={"csrf_token": token(client)})
    page = client.get("/login", query_string={"next": target})  # GET never 500s either
    assert page.status_code == 200


def test_home_shows_the_objects_the_user_may_read(client, app):
    login(client, "alice")
    page = html(client.get("/"))
    assert "Welcome, alice" in page
    for name in ("account", "opportunity", "line_item"):
        assert f'href="/o/{name}"' in page
    assert "Pending approvals" in page


# -- lists ---------------------------------------------------------------------------------


def test_list_searches_sorts_and_pages(client, app):
    account = make_account(app, "Globex")
    for n in range(30):
        make_deal(app, f"Deal {n:02d}", amount=n * 100, account=account["id"],
                  stage="negotiation" if n % 2 else "prospecting")
    login(client)
    first = html(client.get("/o/opportunity?view=all"))
    assert "1–25 of 30" in first
    assert first.count('class="row-link"') == 25
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Negotiation" in first and ">negotiation<" not in first  # labels, not values
    assert f'href="/o/account/{account["id"]}">Globex</a>' in first  # lookups by name
    second = html(client.get("/o/opportunity?view=all&page=2"))
    assert "26–30 of 30" in second and second.count('class="row-link"') == 5
    by_amount = html(client.get("/o/opportunity?view=all&sort=-amount"))
    names = re.findall(r'class="row-link"[^>]*>([^<]+)<', by_amount)
    assert names[:3] == ["Deal 29", "Deal 28", "Deal 27"]
    assert 'aria-sort="descending"' in by_amount
    ascending = html(client.get("/o/opportunity?view=all&sort=amount"))
    assert re.findall(r'class="row-link"[^>]*>([^<]+)<', ascending)[0] == "Deal 00"
    assert "sort=-amount" in ascending  # clicking the sorted header again reverses it
    found = html(client.get("/o/opportunity?view=all&q=deal 1"))
    assert "1–10 of 10" in found
    assert "Deal 15" in found and "Deal 25" not in found
    none = html(client.get("/o/opportunity?q=zzz"))
    assert "No records match “zzz”." in none


def test_saved_list_views_filter_and_sort(client, app):
    for n, amount in enumerate((500, 1500, 3000)):
        make_deal(app, f"Deal {n}", amount=amount)
    login(client)
    page = html(client.get("/o/opportunity?view=big"))
    assert "1–2 of 2" in page
    assert re.findall(r'class="row-link"[^>]*>([^<]+)<', page) == ["Deal 2", "Deal 1"]
    assert "All deals" in page and 'aria-current="page">Big deals' in page
    assert client.get("/o/opportunity?view=nope").status_code == 404


def test_list_columns_default_to_the_first_fields(client, app):
    make_account(app, "Initech", industry="retail")
    login(client)
    page = html(client.get("/o/account"))
    assert "Initech" in page and "Retail" in page and "Industry" in page


# -- create and edit -------------------------------------------------------------------------


def count(app, object_name: str) -> int:
    from metabiz.objects import query

    with service(app) as ctx:
        return query.list_records(ctx, object_name, limit=1).total


def test_create_with_errors_shows_them_inline_and_keeps_the_input(client, app):
    login(client, "alice")
    response = post(client, "/o/opportunity/new", {
        "name": "", "amount": "12x", "contact_email": "not-an-email", "code": "C-1"})
    page = html(response)
    assert response.status_code == 422
    assert "Please fix the errors below." in page
    assert re.search(r'id="e-name">\s*<p>This field is required</p>', page)
    assert re.search(r'id="e-contact_email">\s*<p>Not a valid email address.</p>', page)
    assert re.search(r'id="e-amount">\s*<p>Not a valid number.</p>', page)
    assert 'aria-invalid="true"' in page
    assert input_value(page, "contact_email") == "not-an-email"
    assert input_value(page, "code") == "C-1"
    assert count(app, "opportunity") == 0


def test_record_level_errors_show_on_top(client, app):
    login(client)
    response = post(client, "/o/opportunity/new", {"name": "Won deal", "stage": "closed_won"})
    assert response.status_code == 422
    assert "A won deal needs a close date" in html(response)
    assert count(app, "opportunity") == 0


def test_create_redirects_to_the_detail_page(client, app):
    account = make_account(app, owner="alice")  # a lookup may only point at a visible record
    login(client, "alice")
    form = html(client.get("/o/opportunity/new"))
    assert '<select id="f-stage" name="stage"' in form
    assert re.search(r'<option value="prospecting"\s+selected>', form)  # default shown
    assert 'type="number" id="f-amount" name="amount"' in form and 'step="0.01"' in form
    assert 'type="date" id="f-close_date"' in form
    assert 'hx-get="/o/account/lookup?field=account"' in form
    assert 'name="discount"' not in form  # read-only for sales reps: not on a new form
    response = post(client, "/o/opportunity/new", {
        "name": "Big deal", "account": str(account["id"]), "amount": "1200.50",
        "stage": "negotiation", "close_date": "2026-12-01", "probability": "50"})
    assert response.status_code == 302
    match = re.fullmatch(r"/o/opportunity/(\d+)", response.headers["Location"])
    assert match
    detail = html(client.get(response.headers["Location"]))
    assert "Opportunity “Big deal” was created." in detail
    assert "1,200.50" in detail and "Negotiation" in detail and "Acme" in detail
    with service(app) as ctx:
        saved = records.get(ctx, "opportunity", int(match.group(1)))
    assert saved["amount"] == 1200.5 and saved["owner"] == "alice"
    assert saved["close_date"] == "2026-12-01" and saved["account"] == account["id"]


def test_edit_saves_and_a_stale_version_shows_a_conflict(client, app):
    deal = make_deal(app, "Deal", user="alice", amount=10)
    login(client, "alice")
    form = html(client.get(f"/o/opportunity/{deal['id']}/edit"))
    assert input_value(form, "version") == "1"
    assert input_value(form, "name") == "Deal"
    saved = post(client, f"/o/opportunity/{deal['id']}/edit",
                 {"name": "Deal v2", "amount": "20", "version": "1"})
    assert saved.status_code == 302
    assert saved.headers["Location"] == f"/o/opportunity/{deal['id']}"
    detail = html(client.get(saved.headers["Location"]))
    assert "Deal v2" in detail and "History" in detail
    assert re.search(r"10\.00\s*→\s*20\.00", detail)
    with service(app, "alice") as ctx:
        records.update(ctx, "opportunity", deal["id"], {"amount": 30})  # someone else saves
    stale = post(client, f"/o/opportunity/{deal['id']}/edit",
                 {"name": "Deal v3", "amount": "40", "version": "2"})
    page = html(stale)
    assert stale.status_code == 409
    assert "Someone else changed this record" in page
    assert f'href="/o/opportunity/{deal["id"]}/edit">Reload the latest version' in page
    assert input_value(page, "name") == "Deal v3"  # the user's input is kept
    with service(app) as ctx:
        current = records.get(ctx, "opportunity", deal["id"])
    assert current["name"] == "Deal v2" and current["amount"] == 30


def test_every_widget_round_trips(client, app, extensions):
    apply_path(app.extensions["metabiz"].engine, EVERY_TYPE, extensions=extensions)
    with service(app) as ctx:
        parent = records.create(ctx, "parent", {"title": "P1"})
    login(client)
    form = html(client.get(f"/o/thing/new?master={parent['id']}"))
    for fragment in ('<textarea id="f-notes"', 'type="checkbox" id="f-flag"',
                     'type="datetime-local" id="f-moment"', 'type="email" id="f-mail"',
                     'type="tel" id="f-tel"', 'type="url" id="f-site"',
                     'name="tags" value="a"', 'step="0.001"', 'list="users-list"'):
        assert fragment in form, fragment
    assert input_value(form, "master") == str(parent["id"])  # prefilled from the query
    assert 'value="P1"' in form  # ...and shown by name
    response = post(client, "/o/thing/new", {
        "title": "T", "notes": "line 1\nline 2", "count": "7", "ratio": "1.25",
        "money": "9.99", "share": "12.5", "flag": ["", "true"], "day": "2026-02-28",
        "moment": "2026-11-23T08:30", "mail": "a@example.com", "tel": "+86 21 1234 5678",
        "site": "https://example.com", "colour": "red", "tags": ["", "a", "c"],
        "master": str(parent["id"]), "other": "", "assignee": "bob"})
    assert response.status_code == 302, html(response)
    thing_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with service(app) as ctx:
        thing = records.get(ctx, "thing", thing_id)
    assert thing["flag"] is True and thing["tags"] == ["a", "c"]
    assert thing["moment"] == "2026-11-23T08:30:00Z" and thing["day"] == "2026-02-28"
    assert thing["money"] == 9.99 and thing["ratio"] == 1.25 and thing["other"] is None
    assert thing["notes"] == "line 1\nline 2" and thing["ref"] == "T-001"
    edit = html(client.get(f"/o/thing/{thing_id}/edit"))
    assert input_value(edit, "moment") == "2026-11-23T08:30"
    assert input_value(edit, "ratio") == "1.250" and input_value(edit, "money") == "9.99"
    assert re.search(r'value="true"\s+checked', edit)
    assert re.search(r'name="tags" value="c"\s+checked', edit)
    assert not re.search(r'name="tags" value="b"\s+checked', edit)
    unticked = post(client, f"/o/thing/{thing_id}/edit", {"flag": [""], "tags": [""]})
    assert unticked.status_code == 302
    with service(app) as ctx:
        thing = records.get(ctx, "thing", thing_id)
    assert thing["flag"] is False and thing["tags"] is None and thing["title"] == "T"
    detail = html(client.get(f"/o/thing/{thing_id}"))
    assert "2026-11-23 08:30 UTC" in detail and "Red" in detail and "A, C" in detail
    assert 'href="mailto:a@example.com"' in detail


# -- detail, related lists, delete -------------------------------------------------------


def test_detail_shows_layout_sections_related_lists_and_new_child(client, app):
    account = make_account(app, "Acme")
    deal = make_deal(app, "Deal", account=account["id"], amount=100, probability=50)
    login(client)
    page = html(client.get(f"/o/opportunity/{deal['id']}"))
    assert "Deal" in page and "50.00" in page  # the weighted amount formula
    assert 'data-related="line_item"' in page
    back = f"%2Fo%2Fopportunity%2F{deal['id']}"
    new_child = f"/o/line_item/new?opportunity={deal['id']}&_back=/o/opportunity/{deal['id']}"
    assert f'href="{new_child}"' in page
    form = html(client.get(new_child))
    assert input_value(form, "opportunity") == str(deal["id"])
    # saving and cancelling go back to the deal the line was added from
    assert f'action="/o/line_item/new?_back={back}"' in form
    assert re.search(rf'<a class="btn" href="/o/opportunity/{deal["id"]}">Cancel</a>', form)
    created = post(client, f"/o/line_item/new?_back={back}", {
        "product": "Widget", "quantity": "2", "unit_price": "5",
        "opportunity": str(deal["id"])})
    assert created.status_code == 302
    assert created.headers["Location"] == f"/o/opportunity/{deal['id']}"
    off_site = post(client, "/o/line_item/new?_back=//evil.example", {
        "product": "Gadget", "quantity": "1", "unit_price": "5",
        "opportunity": str(deal["id"])})
    assert re.fullmatch(r"/o/line_item/\d+", off_site.headers["Location"])
    again = html(client.get(f"/o/opportunity/{deal['id']}"))
    assert "Widget" in again
    account_page = html(client.get(f"/o/account/{account['id']}"))
    assert f'href="/o/opportunity/new?account={account["id"]}&_back=/o/account/' \
        f'{account["id"]}"' in account_page
    related_all = html(client.get(f"/o/opportunity?account={account['id']}"))
    assert "Filtered by" in related_all and "1–1 of 1" in related_all


def test_delete_asks_first_and_restricting_lookups_refuse(client, app):
    account = make_account(app, "Acme")
    deal = make_deal(app, "Deal", account=account["id"])
    login(client)
    confirm = html(client.get(f"/o/account/{account['id']}/delete"))
    assert "Delete Acme?" in confirm and "cannot be undone" in confirm
    refused = post(client, f"/o/account/{account['id']}/delete")
    assert refused.status_code == 302
    assert "cannot be deleted" in html(client.get(refused.headers["Location"]))
    gone = post(client, f"/o/opportunity/{deal['id']}/delete")
    assert gone.status_code == 302 and gone.headers["Location"] == "/o/opportunity"
    assert "Opportunity “Deal” was deleted." in html(client.get("/o/opportunity"))
    assert client.get(f"/o/opportunity/{deal['id']}").status_code == 404


def test_lookup_search_returns_matching_records_by_name(client, app):
    make_account(app, "Acme Corp")
    make_account(app, "Globex")
    login(client)
    options = html(client.get("/o/account/lookup?q=ACM", headers={"HX-Request": "true"}))
    assert 'data-name="Acme Corp"' in options and "Globex" not in options
    typed = html(client.get("/o/account/lookup?_lookup_account=glob"))
    assert 'data-name="Globex"' in typed
    assert "No matching Account." in html(client.get("/o/account/lookup?q=zzz"))


# -- errors, permissions, languages --------------------------------------------------------


def test_unknown_and_invisible_records_show_a_404_page(client, app):
    deal = make_deal(app, "Alice's deal", user="alice")
    login(client, "eve")
    for path in (f"/o/opportunity/{deal['id']}", "/o/opportunity/99999", "/o/opportunity/abc",
                 "/o/nothing", "/no/such/page", f"/o/opportunity/{deal['id']}/edit"):
        response = client.get(path)
        assert response.status_code == 404, path
        page = html(response)
        assert "We couldn't find that page" in page and "Traceback" not in page
        assert response.mimetype == "text/html"


def test_forbidden_pages_and_missing_csrf_show_a_403_page(client, app):
    login(client, "alice")
    denied = client.get("/o/account/new")
    assert denied.status_code == 403 and "You don't have access to this" in html(denied)
    missing = client.post("/o/opportunity/new", data={"name": "No token"})
    assert missing.status_code == 403
    assert "The form has expired" in html(missing)
    wrong = client.post("/o/opportunity/new", data={"name": "Bad", "csrf_token": "nope"})
    assert wrong.status_code == 403
    assert count(app, "opportunity") == 0


def test_the_api_still_answers_in_json(client, app):
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        api_token = create_token(conn, "admin")
    headers = {"Authorization": f"Bearer {api_token}"}
    missing = client.get("/api/v1/records/nothing", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    unknown = client.get("/api/v1/no/such/endpoint", headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"


def test_role_hidden_fields_are_not_rendered_and_read_only_ones_cannot_be_set(client, app):
    account = make_account(app, "Acme", user="admin", credit_limit=5000)
    with service(app) as ctx:
        records.update(ctx, "account", account["id"], {"owner": "alice"})
    deal = make_deal(app, "Deal", user="alice", account=account["id"])
    with service(app) as ctx:
        records.update(ctx, "opportunity", deal["id"], {"discount": 5})
    login(client, "alice")
    for path in (f"/o/account/{account['id']}", "/o/account"):
        page = html(client.get(path))
        assert "Credit limit" not in page and "credit_limit" not in page and "5,000" not in page
    form = html(client.get(f"/o/opportunity/{deal['id']}/edit"))
    assert 'name="discount"' not in form and "Read-only for your role" in form
    assert "5.00%" in form
    post(client, f"/o/opportunity/{deal['id']}/edit", {"discount": "50", "version": "2"})
    with service(app) as ctx:
        assert records.get(ctx, "opportunity", deal["id"])["discount"] == 5
    client.get("/logout")
    login(client, "admin")
    assert "Credit limit" in html(client.get(f"/o/account/{account['id']}"))


def test_chinese_labels_with_lang_zh(client, app):
    make_deal(app, "Deal", stage="prospecting")
    login(client)
    page = html(client.get("/o/opportunity?lang=zh"))
    assert 'lang="zh-CN"' in page
    assert "商机" in page and "初步接洽" in page and "全部商机" in page
    assert "新建" in page and "搜索" in page
    assert "商机" in html(client.get("/o/opportunity"))  # the choice is kept
    form = html(client.get("/o/opportunity/new"))
    assert "商机信息" in form and "保存" in form
    errors = html(post(client, "/o/opportunity/new", {"name": "", "amount": "-1"}))
    assert "此字段为必填项" in errors
    assert "Opportunity" not in html(client.get("/"))
    english = html(client.get("/o/opportunity?lang=en"))
    assert "Prospecting" in english and "New" in english


def test_user_language_setting_and_accept_language(client, app):
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        from metabiz.platform.auth import create_user

        create_user(conn, "zhang", "zhang-pw", roles=["admin"], language="zh")
    login_page = html(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    assert "登录" in login_page
    login(client, "zhang", "zhang-pw")
    assert "首页" in html(client.get("/"))


def test_roll_ups_show_the_scale_of_what_they_add_up(client, app):
    with service(app) as ctx:
        account = records.create(ctx, "account", {"name": "Globex"})
    make_deal(app, "One", account=account["id"], amount=1000)
    make_deal(app, "Two", account=account["id"], amount=234)
    login(client)
    page = html(client.get(f"/o/account/{account['id']}"))
    assert "1,234.00" in page  # a sum of currency keeps its cents, even when they are .00
    deals = re.search(r"Deals</dt>\s*<dd[^>]*>\s*(\S+)", page)
    assert deals is not None and deals[1].startswith("2") and "2.0" not in deals[1]


# -- approvals -------------------------------------------------------------------------------


def test_submit_and_approve_through_the_pages(client, app):
    deal = make_deal(app, "Discounted", user="alice")
    with service(app) as ctx:
        records.update(ctx, "opportunity", deal["id"], {"discount": 15})
    login(client, "alice")
    detail = html(client.get(f"/o/opportunity/{deal['id']}"))
    assert "Submit for approval" in detail
    submitted = post(client, f"/o/opportunity/{deal['id']}/approvals", {"comment": "Please"})
    assert submitted.status_code == 302
    page = html(client.get(f"/o/opportunity/{deal['id']}"))
    assert "Submitted for approval." in page and "Pending" in page and "Recall" in page
    locked = post(client, f"/o/opportunity/{deal['id']}/edit", {"name": "Changed"})
    assert locked.status_code == 409 and "This record is locked" in html(locked)
    form = html(client.get(f"/o/opportunity/{deal['id']}/edit"))  # the form says so too
    assert "This record is locked" in form and "disabled" in form and ">Save<" not in form
    post(client, "/logout")
    login(client, "bob")
    inbox = html(client.get("/approvals"))
    assert "Discounted" in inbox
    assert "Pending approvals" in html(client.get("/"))
    detail = html(client.get(f"/o/opportunity/{deal['id']}"))
    request_id = re.search(r'action="/approvals/(\d+)/approve"', detail).group(1)
    approved = post(client, f"/approvals/{request_id}/approve",
                    {"comment": "OK", "next": f"/o/opportunity/{deal['id']}"})
    assert approved.headers["Location"] == f"/o/opportunity/{deal['id']}"
    after = html(client.get(f"/o/opportunity/{deal['id']}"))
    assert "You approved the request." in after and "Approved" in after
    assert "Discounted" not in html(client.get("/approvals"))
    with service(app) as ctx:
        assert records.get(ctx, "opportunity", deal["id"])["approval_status"] == "approved"


def test_submit_is_offered_only_when_a_flow_takes_the_record(client, app):
    deal = make_deal(app, "Full price", user="alice")  # no discount: the flow's entry fails
    login(client, "alice")
    detail = html(client.get(f"/o/opportunity/{deal['id']}"))
    assert "Submit for approval" not in detail
    assert 'id="approval"' in detail  # the card is there (the object has a flow), no button
    # a forged or stale submit is refused in words, not with the entry condition's formula
    refused = post(client, f"/o/opportunity/{deal['id']}/approvals")
    page = html(client.get(refused.headers["Location"]))
    assert "does not meet the conditions of any approval process" in page
    assert "discount > 10" not in page and "entry condition" not in page
    with service(app) as ctx:
        records.update(ctx, "opportunity", deal["id"], {"discount": 15})
    assert "Submit for approval" in html(client.get(f"/o/opportunity/{deal['id']}"))
    post(client, f"/o/opportunity/{deal['id']}/approvals")
    again = post(client, f"/o/opportunity/{deal['id']}/approvals")  # a second tab
    assert "already waiting for approval" in html(client.get(again.headers["Location"]))


def test_reject_from_the_inbox(client, app):
    deal = make_deal(app, "Too generous", user="alice")
    with service(app) as ctx:
        records.update(ctx, "opportunity", deal["id"], {"discount": 40})
    login(client, "alice")
    post(client, f"/o/opportunity/{deal['id']}/approvals")
    post(client, "/logout")
    login(client, "bob")
    inbox = html(client.get("/approvals"))
    request_id = re.search(r'action="/approvals/(\d+)/approve"', inbox).group(1)
    rejected = post(client, f"/approvals/{request_id}/reject",
                    {"comment": "Too much", "next": "/approvals"})
    assert rejected.headers["Location"] == "/approvals"
    page = html(client.get("/approvals"))
    assert "You rejected the request." in page and "Too generous" not in page
    assert "Too generous" in html(client.get("/approvals?status=rejected"))
    with service(app) as ctx:
        assert records.get(ctx, "opportunity", deal["id"])["approval_status"] == "rejected"


def test_values_are_escaped_everywhere(client, app):
    deal = make_deal(app, "<script>alert(1)</script>", code="<b>x</b>")
    login(client)
    for path in ("/o/opportunity", f"/o/opportunity/{deal['id']}",
                 f"/o/opportunity/{deal['id']}/edit"):
        raw = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in raw and "<b>x</b>" not in raw
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_static_files_are_served(client):
    assert client.get("/static/app.css").status_code == 200
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.data[:200]



def test_every_built_in_text_exists_in_both_languages():
    from metabiz.platform.web.i18n import TEXTS

    for key, texts in TEXTS.items():
        assert texts.get("en") and texts.get("zh"), key
        placeholders = [set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in ("en", "zh")]
        assert placeholders[0] == placeholders[1], key
