"""The record page's side cards: a detail record (a line of an opportunity) has no owner of
its own, so it offers no transfer and no follow-up and names its master instead; a locked
record still says who owns it, read-only."""

from __future__ import annotations

from html import unescape

from metabiz.objects import records
from tests.objects.people_app import make, service


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return unescape(response.get_data(as_text=True))


def test_a_detail_record_names_its_master_instead_of_an_owner(app, client):
    deal = make(app, "opportunity", "alice", name="Lease Flat 4")
    line = make(app, "line_item", "alice", product="Flat", opportunity=deal["id"],
                quantity=1, unit_price=900)
    shown = page(client, f"/o/line_item/{line['id']}")
    assert "Transfer owner" not in shown and "Owned by" not in shown
    assert "Log a follow-up" not in shown
    assert "Belongs to" in shown
    assert f'Opportunity: <a href="/o/opportunity/{deal["id"]}">Lease Flat 4</a>' in shown
    assert "Its owner and who may see it follow the Opportunity." in shown
    chinese = page(client, f"/o/line_item/{line['id']}?lang=zh")
    assert "所属记录" in chinese and "负责人和可见范围随所属商机。" in chinese
    master = page(client, f"/o/opportunity/{deal['id']}?lang=en")  # the master keeps both
    assert "Transfer owner" in master and "Log a follow-up" in master


def test_a_locked_record_shows_its_owner_read_only(app, client):
    deal = make(app, "opportunity", "alice", name="Pending deal")
    with service(app) as ctx:  # what a pending approval does
        records.set_system(ctx, "opportunity", deal["id"], locked=True,
                           approval_status="pending")
    shown = page(client, f"/o/opportunity/{deal['id']}?lang=en")
    assert 'class="card owner-card"' in shown and "Owned by alice" in shown
    assert "The owner cannot change while the record is locked." in shown
    assert "Transfer owner" not in shown
    assert "记录已锁定，暂不能更改负责人。" in page(client, f"/o/opportunity/{deal['id']}?lang=zh")
