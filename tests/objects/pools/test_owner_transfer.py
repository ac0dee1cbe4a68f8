"""Owner transfer through the REST API on SQLite and PostgreSQL: one record or many, all or
nothing, only records one may edit, only to active users; and its history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Call = Callable[..., Any]


def lead(call: Call, name: str, user: str) -> int:
    created = call("POST", "/records/lead", user=user, body={"name": name})
    assert created.status_code == 201, created.get_json()
    return int(created.get_json()["id"])


def owner(call: Call, record_id: int) -> str | None:
    return call("GET", f"/records/lead/{record_id}").get_json()["owner"]


def test_transfer_one_record_to_a_colleague(call: Call) -> None:
    mine = lead(call, "Acme", "rita")
    done = call("POST", f"/records/lead/{mine}/transfer", user="rita", body={"owner": "ron"})
    assert done.status_code == 200 and done.get_json()["owner"] == "ron"
    # rita no longer sees it; ron does, with the transfer in its history
    assert call("GET", f"/records/lead/{mine}", user="rita").status_code == 404
    history = call("GET", f"/records/lead/{mine}/history", user="ron").get_json()["history"]
    assert [(h["field"], h["old"], h["new"], h["by"], h.get("kind")) for h in history] == [
        ("owner", "rita", "ron", "rita", "transfer")]


def test_a_rep_never_transfers_another_reps_record(call: Call) -> None:
    rons = lead(call, "Ron's", "ron")
    refused = call("POST", f"/records/lead/{rons}/transfer", user="rita", body={"owner": "rita"})
    assert refused.status_code == 404
    assert owner(call, rons) == "ron"
    # their manager may: the team's records are hers to edit
    assert call("POST", f"/records/lead/{rons}/transfer", user="mia",
                body={"owner": "rita"}).status_code == 200
    assert owner(call, rons) == "rita"


def test_unknown_or_deactivated_users_are_422(call: Call) -> None:
    mine = lead(call, "Acme", "rita")
    for target in ("nobody", "gone", "", None, 7):
        refused = call("POST", f"/records/lead/{mine}/transfer", user="rita",
                       body={"owner": target})
        assert refused.status_code == 422, target
        assert refused.get_json()["error"]["fields"]["owner"]
    assert owner(call, mine) == "rita"


def test_bulk_transfer_is_all_or_nothing(call: Call) -> None:
    mine = [lead(call, f"Lead {i}", "rita") for i in range(3)]
    rons = lead(call, "Ron's", "ron")
    refused = call("POST", "/records/lead/transfer", user="rita",
                   body={"ids": [*mine, rons], "owner": "ron"})
    assert refused.status_code == 404
    assert [owner(call, i) for i in mine] == ["rita"] * 3  # none moved
    done = call("POST", "/records/lead/transfer", user="rita", body={"ids": mine, "owner": "ron"})
    assert done.status_code == 200
    assert [r["owner"] for r in done.get_json()["records"]] == ["ron"] * 3
    empty = call("POST", "/records/lead/transfer", user="ron", body={"ids": [], "owner": "rita"})
    assert empty.status_code == 422 and "ids" in empty.get_json()["error"]["fields"]


def test_a_pooled_record_is_claimed_or_assigned_not_transferred(call: Call, pooled) -> None:
    in_pool = pooled("Acme")
    refused = call("POST", f"/records/lead/{in_pool}/transfer", user="mia", body={"owner": "ron"})
    assert refused.status_code == 409 and "pool" in refused.get_json()["error"]["message"]
