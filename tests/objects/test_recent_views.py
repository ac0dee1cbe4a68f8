"""Recently viewed records on home (Salesforce's Recent Items): newest first, at most ten
shown and fifty kept per user, only records the user may still read, on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

from sqlalchemy import func, select

from metabiz.app import build_runtime
from metabiz.objects import recent_views, records
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import load_actor
from metabiz.platform.db import recent_views as recent_table
from metabiz.platform.db import writer

START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def accounts(work, count: int, owner: str = "alice") -> list[int]:
    with work("admin") as ctx:
        return [records.create(ctx, "account", {"name": f"Account {n}", "owner": owner})["id"]
                for n in range(count)]


def listed(sales, user: str) -> list[tuple[str, int, str, str]]:
    runtime = build_runtime(sales)
    with sales.connect() as conn:
        ctx = runtime.context(conn, load_actor(conn, user))
        return [(r.object, r.record_id, r.name, r.object_label)
                for r in recent_views.recent(ctx)]


def view(sales, user: str, object_name: str, record_id: int, minutes: int) -> None:
    with writer(sales).begin() as conn:
        recent_views.record_view(conn, user, object_name, record_id, at(minutes))


def test_the_newest_views_come_first_and_ten_are_shown(sales, work):
    ids = accounts(work, 12)
    for minute, record_id in enumerate(ids):
        view(sales, "alice", "account", record_id, minute)
    view(sales, "alice", "account", ids[0], 100)  # opened again: one row, moved to the top
    shown = listed(sales, "alice")
    assert [r[1] for r in shown] == [ids[0], *reversed(ids[3:])]
    assert shown[0] == ("account", ids[0], "Account 0", "Account")
    with sales.connect() as conn:
        assert conn.execute(select(func.count()).select_from(recent_table)).scalar() == 12


def test_fifty_views_are_kept_per_user(sales, work):
    ids = accounts(work, 55)
    for minute, record_id in enumerate(ids):
        view(sales, "alice", "account", record_id, minute)
    view(sales, "bob", "account", ids[0], 0)
    with sales.connect() as conn:
        kept = conn.execute(select(recent_table.c.record_id)
                            .where(recent_table.c.user_name == "alice")).scalars().all()
        assert sorted(kept) == ids[5:]  # the five oldest went
        assert conn.execute(select(recent_table.c.record_id)
                            .where(recent_table.c.user_name == "bob")).scalars().all() == [ids[0]]


def test_a_record_the_user_can_no_longer_read_drops_out(sales, work):
    mine, moved = accounts(work, 2, owner="eve")
    view(sales, "eve", "account", mine, 1)
    view(sales, "eve", "account", moved, 2)
    assert [r[1] for r in listed(sales, "eve")] == [moved, mine]
    with work("admin") as ctx:  # given to someone else: eve (own records only) loses it
        records.update(ctx, "account", moved, {"owner": "admin"})
    assert [r[1] for r in listed(sales, "eve")] == [mine]
    assert [r[1] for r in listed(sales, "admin")] == []  # other users' views are their own


def test_a_record_whose_name_is_hidden_shows_by_its_id(sales, sales_dir, work, extensions):
    (mine,) = accounts(work, 1, owner="eve")
    view(sales, "eve", "account", mine, 1)
    role = sales_dir / "roles" / "sales_rep.json"
    role.write_text(role.read_text().replace('"account.credit_limit": "hidden"',
                                             '"account.name": "hidden"'))
    apply_path(sales, sales_dir, extensions=extensions)
    assert listed(sales, "eve") == [("account", mine, f"Account #{mine}", "Account")]
    assert listed(sales, "alice") == []


def test_a_deleted_record_drops_out_with_its_rows(sales, work):
    gone, kept = accounts(work, 2)
    view(sales, "alice", "account", gone, 1)
    view(sales, "alice", "account", kept, 2)
    view(sales, "bob", "account", gone, 3)
    runtime = build_runtime(sales)
    with writer(sales).begin() as conn:
        records.delete(runtime.context(conn, load_actor(conn, "admin")), "account", gone)
    assert [r[1] for r in listed(sales, "alice")] == [kept]
    with sales.connect() as conn:
        assert conn.execute(select(recent_table.c.record_id)).scalars().all() == [kept]


def home_panel(client) -> str:
    page = unescape(client.get("/").get_data(as_text=True))
    found = re.search(r'<section class="card" aria-labelledby="recent-title">.*?</section>',
                      page, re.S)
    assert found, page
    return found[0]


def test_home_lists_the_records_the_user_opened(app, work, browser_session):
    first, second = accounts(work, 2, owner="eve")
    with work("admin") as ctx:
        deal = records.create(ctx, "opportunity", {"name": "Big deal", "owner": "eve",
                                                   "account": first})["id"]
    eve = app.test_client()
    browser_session(eve, "eve")
    assert "Records you open will show here." in home_panel(eve)
    for path in (f"/o/account/{first}", f"/o/opportunity/{deal}", f"/o/account/{second}",
                 f"/o/account/{first}"):
        assert eve.get(path).status_code == 200
    assert eve.get("/o/account/999999").status_code == 404  # not recorded
    panel = home_panel(eve)
    assert "Recently viewed" in panel
    links = re.findall(r'<a href="([^"]+)"><strong>([^<]+)</strong></a>\s*'
                       r'<span class="muted">([^<]+)</span>', panel)
    assert links == [(f"/o/account/{first}", "Account 0", "Account"),
                     (f"/o/account/{second}", "Account 1", "Account"),
                     (f"/o/opportunity/{deal}", "Big deal", "Opportunity")]
    # in Chinese, and nobody else sees eve's views
    eve.set_cookie("lang", "zh")
    with eve.session_transaction() as session:
        session["lang"] = "zh"
    assert "最近查看" in home_panel(eve)
    bob = app.test_client()
    browser_session(bob, "bob")
    assert "Account 0" not in home_panel(bob)
