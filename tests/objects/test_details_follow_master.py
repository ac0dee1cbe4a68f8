"""Controlled by parent: the records of a detail object follow their master's access — in
the API, lists, related lists and the master's roll-ups — within the role's object rights."""

from __future__ import annotations

import pytest

from metabiz.app import create_app
from metabiz.errors import NotFound, ValidationError
from metabiz.objects import query, records
from metabiz.platform.config import Config


@pytest.fixture
def deal(work):
    """Alice's opportunity with a line of hers and a line the admin made for Eve."""
    with work("alice") as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Lease Flat 4"})
        mine = records.create(ctx, "line_item", {"product": "Flat", "opportunity": opp["id"],
                                                 "quantity": 1, "unit_price": 900})
    with work() as ctx:
        eves = records.create(ctx, "line_item", {"product": "Parking", "owner": "eve",
                                                 "opportunity": opp["id"], "quantity": 1,
                                                 "unit_price": 50})
    return opp, mine, eves


def test_the_masters_owner_sees_and_edits_a_detail_someone_else_owns(work, deal):
    opp, _, eves = deal
    with work("alice") as ctx:
        seen = records.get(ctx, "line_item", eves["id"])
        assert seen["owner"] == "eve"
        changed = records.update(ctx, "line_item", eves["id"], {"quantity": 2})
        assert changed["total"] == 100
        page = query.list_records(ctx, "line_item")
        assert sorted(r["product"] for r in page.records) == ["Flat", "Parking"]
        related = query.list_records(ctx, "line_item", filter=f"opportunity = {opp['id']}")
        assert related.total == 2
        # the roll-up she reads adds up exactly the lines she can see
        total = records.get(ctx, "opportunity", opp["id"])["line_total"]
        assert total == sum(r["total"] for r in related.records) == 1000


def test_a_details_own_owner_gains_nothing_without_the_master(work, deal):
    _, mine, eves = deal
    with work("eve") as ctx:
        assert query.list_records(ctx, "line_item").total == 0
        for line in (mine, eves):
            with pytest.raises(NotFound):
                records.get(ctx, "line_item", line["id"])
            with pytest.raises(NotFound):
                records.update(ctx, "line_item", line["id"], {"quantity": 5})


def test_the_masters_team_follows_it_and_others_may_not_add_lines(work, deal):
    opp, _, _ = deal
    with work("bob") as ctx:  # alice reports to bob
        assert query.list_records(ctx, "line_item").total == 2
    with work("eve") as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "line_item", {"product": "Sneaky", "opportunity": opp["id"]})
    assert "opportunity" in caught.value.fields


def test_the_masters_page_lists_every_line_to_its_owner(sales, deal, db_url, tmp_path,
                                                       browser_session):
    opp, _, _ = deal
    app = create_app(Config(database_url=db_url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    client = app.test_client()
    browser_session(client, "alice")
    page = client.get(f"/o/opportunity/{opp['id']}").get_data(as_text=True)
    assert "Parking" in page and "Flat" in page
    browser_session(client, "eve")
    assert client.get("/o/line_item").get_data(as_text=True).count("Parking") == 0
    app.extensions["metabiz"].engine.dispose()
