"""Public pools through the REST API on SQLite and PostgreSQL: who sees a pool, claims,
the claim limit, returns with reasons, assignment by pool admins, and their history."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from metabiz.errors import ClaimLimitReached
from metabiz.objects import pools

Call = Callable[..., Any]


def ids(response: Any) -> list[int]:
    return sorted(r["id"] for r in response.get_json()["records"])


def test_members_see_pooled_records_whatever_their_record_access(call: Call, pooled) -> None:
    lead = pooled("Acme")
    # rita's record access is `own`, yet the pool's records are hers to see, in the pool…
    assert ids(call("GET", "/pools/lead/lead_pool", user="rita")) == [lead]
    # …in the ordinary list, and one by one, with no owner and the pool named
    assert lead in ids(call("GET", "/records/lead", user="rita"))
    record = call("GET", f"/records/lead/{lead}", user="rita").get_json()
    assert (record["owner"], record["pool"]) == (None, "lead_pool")
    narrow = call("GET", "/records/lead?fields=name,pool", user="rita").get_json()["records"]
    assert narrow == [{"id": lead, "name": "Acme", "pool": "lead_pool"}]
    pools = call("GET", "/pools", user="rita").get_json()["pools"]
    assert pools == [{"object": "lead", "pool": "lead_pool", "label": "Lead pool",
                      "admin": False}]


def test_a_non_member_never_sees_the_pool(call: Call, pooled) -> None:
    lead = pooled("Acme")
    assert call("GET", "/pools/lead/lead_pool", user="oscar").status_code == 404
    assert call("GET", "/records/lead", user="oscar").get_json()["records"] == []
    assert call("GET", f"/records/lead/{lead}", user="oscar").status_code == 404
    assert call("POST", f"/records/lead/{lead}/claim", user="oscar").status_code == 404
    assert call("GET", "/pools", user="oscar").get_json()["pools"] == []


def test_claim_gives_the_record_to_the_member_and_keeps_history(call: Call, pooled) -> None:
    lead = pooled("Acme")
    claimed = call("POST", f"/records/lead/{lead}/claim", user="rita")
    assert claimed.status_code == 200, claimed.get_json()
    assert (claimed.get_json()["owner"], claimed.get_json()["pool"]) == ("rita", None)
    assert ids(call("GET", "/pools/lead/lead_pool", user="ron")) == []
    # ron may not see rita's lead any more; a second claim finds nothing to claim
    assert call("POST", f"/records/lead/{lead}/claim", user="ron").status_code == 404
    again = call("POST", f"/records/lead/{lead}/claim", user="rita")
    assert again.status_code == 409 and "not in a public pool" in again.get_json()["error"]["message"]
    history = call("GET", f"/records/lead/{lead}/history", user="rita").get_json()["history"]
    kinds = [(h["field"], h.get("kind"), h["old"], h["new"], h.get("note")) for h in history]
    assert ("owner", "return", "admin", None, "no_answer") in kinds
    assert ("owner", "claim", None, "rita", None) in kinds
    assert ("pool", "claim", "lead_pool", None, None) in kinds


def test_claiming_past_the_limit_is_409_claim_limit_naming_the_limit(call: Call, pooled) -> None:
    leads = [pooled(f"Lead {i}") for i in range(4)]
    for lead in leads[:2]:
        assert call("POST", f"/records/lead/{lead}/claim", user="rita").status_code == 200
    refused = call("POST", f"/records/lead/{leads[2]}/claim", user="rita")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "claim_limit" and "limit is 2" in error["message"]
    # the limit is per user: ron may still claim
    assert call("POST", f"/records/lead/{leads[2]}/claim", user="ron").status_code == 200
    # returning one frees a place
    back = call("POST", f"/records/lead/{leads[0]}/return", user="rita",
                body={"reason": "not_interested"})
    assert back.status_code == 200, back.get_json()
    assert call("POST", f"/records/lead/{leads[3]}/claim", user="rita").status_code == 200
    # a record rita created herself does not count against the pool's limit
    assert call("POST", "/records/lead", user="rita", body={"name": "Own"}).status_code == 201


def test_return_needs_one_of_the_pools_reasons_and_the_owner(call: Call, pooled) -> None:
    lead = pooled("Acme")
    call("POST", f"/records/lead/{lead}/claim", user="rita")
    missing = call("POST", f"/records/lead/{lead}/return", user="rita", body={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["fields"]
    unknown = call("POST", f"/records/lead/{lead}/return", user="rita", body={"reason": "bored"})
    assert unknown.status_code == 422
    # mia (rita's manager) sees the lead; she is a pool admin, so she may return it
    ron_tries = call("POST", f"/records/lead/{lead}/return", user="ron",
                     body={"reason": "no_answer"})
    assert ron_tries.status_code == 404
    done = call("POST", f"/records/lead/{lead}/return", user="rita",
                body={"reason": "not_interested"})
    assert done.status_code == 200 and done.get_json()["pool"] == "lead_pool"
    twice = call("POST", f"/records/lead/{lead}/return", user="admin",
                 body={"reason": "no_answer"})
    assert twice.status_code == 409


def test_only_pool_admins_assign_and_only_to_active_users(call: Call, pooled) -> None:
    lead = pooled("Acme")
    as_member = call("POST", f"/records/lead/{lead}/assign", user="rita", body={"owner": "ron"})
    assert as_member.status_code == 403
    for owner in ("nobody", "gone", None):
        bad = call("POST", f"/records/lead/{lead}/assign", user="mia", body={"owner": owner})
        assert bad.status_code == 422, owner
        assert "owner" in bad.get_json()["error"]["fields"]
    assigned = call("POST", f"/records/lead/{lead}/assign", user="mia", body={"owner": "ron"})
    assert assigned.status_code == 200
    assert (assigned.get_json()["owner"], assigned.get_json()["pool"]) == ("ron", None)
    history = call("GET", f"/records/lead/{lead}/history", user="ron").get_json()["history"]
    assert [h["by"] for h in history if h.get("kind") == "assign"] == ["mia", "mia"]


def test_bad_requests_are_typed_errors(call: Call, pooled) -> None:
    lead = pooled("Acme")
    assert call("POST", "/records/lead/999999/claim", user="rita").status_code == 404
    assert call("POST", "/records/task/1/claim", user="rita").status_code == 404
    assert call("GET", "/pools/lead/nope", user="rita").status_code == 404
    body = call("POST", f"/records/lead/{lead}/assign", user="mia", body=[1, 2])
    assert body.status_code == 400
    reason = call("POST", f"/records/lead/{lead}/claim", user="rita")
    assert reason.status_code == 200
    not_text = call("POST", f"/records/lead/{lead}/return", user="rita", body={"reason": 5})
    assert not_text.status_code == 422


def test_the_openapi_document_lists_the_pool_and_transfer_endpoints(call: Call) -> None:
    paths = call("GET", "/openapi.json", user="rita").get_json()["paths"]
    for path in ("/records/lead/{id}/claim", "/records/lead/{id}/return",
                 "/records/lead/{id}/assign", "/records/lead/{id}/transfer",
                 "/records/lead/transfer", "/records/lead/{id}/timeline",
                 "/records/lead/{id}/follow-ups"):
        assert path in paths, path
    assert "/records/task/{id}/claim" not in paths  # tasks have no pool
    assert "/records/task/{id}/transfer" in paths


def test_simultaneous_claims_never_pass_the_limit(call: Call, pooled, work) -> None:
    """Two claims by one user at the same moment, on two connections: the second waits for
    the first to commit, then counts it (on PostgreSQL too, where rows are locked one by
    one and both would otherwise count one held record and pass a limit of two)."""
    held, first, second = pooled("Held"), pooled("First"), pooled("Second")
    assert call("POST", f"/records/lead/{held}/claim", user="rita").status_code == 200
    outcome: dict[str, Any] = {}

    def claim_second() -> None:
        try:
            with work("rita") as ctx:
                outcome["record"] = pools.claim(ctx, "lead", second)
        except Exception as err:  # handed to the test's thread
            outcome["error"] = err

    racer = threading.Thread(target=claim_second)
    with work("rita") as ctx:
        assert pools.claim(ctx, "lead", first)["owner"] == "rita"
        racer.start()
        racer.join(1.0)
        assert racer.is_alive(), "the second claim did not wait for the first"
    racer.join(30)
    assert not racer.is_alive()
    assert isinstance(outcome.get("error"), ClaimLimitReached), outcome
    mine = call("GET", "/records/lead?filter=owner%20%3D%20%22rita%22", user="rita")
    assert sorted(r["id"] for r in mine.get_json()["records"]) == sorted([held, first])
    assert call("GET", f"/records/lead/{second}", user="rita").get_json()["pool"] == "lead_pool"
