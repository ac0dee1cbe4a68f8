"""Assignment rules and public pools (公海) as the builder's forms instead of JSON: saved
through the plan, problems beside their control, usable by the people they name."""

from __future__ import annotations

import html

from builder_client import confirm, error_at, signed_in


def stored(client, rel: str):
    versions = client.get("/api/v1/meta/versions").get_json()["versions"]
    documents = client.get(f"/api/v1/meta/versions/{versions[0]['version']}").get_json()[
        "documents"]
    return next((doc for key, doc in documents.items() if key.endswith(rel)), None)


def test_an_assignment_rule_is_a_form_of_ordered_entries(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    overview = client.get("/builder").get_data(as_text=True)
    assert "New assignment rule" in overview
    form = client.get("/builder/flows/new?kind=assignment&object=opportunity")
    assert form.status_code == 200 and "Entry 1" in form.get_data(as_text=True)
    data = {"csrf_token": token, "kind": "assignment", "api_name": "deal_routing",
            "object": "opportunity", "label_en": "Deal routing", "label_zh": "商机分配",
            "active": "1", "on_create": "1", "entry_count": "3",
            "entry0_condition": "amount > 1000", "entry0_by": "user", "entry0_value": "alice",
            "entry1_condition": "", "entry1_by": "role", "entry1_value": "sales_rep",
            "entry1_strategy": "least_loaded", "entry2_value": ""}
    wrong = client.post("/builder/flows/new", data={**data, "entry0_condition": "amout > 1"})
    assert wrong.status_code == 422
    assert "amout" in error_at(wrong.get_data(as_text=True), "entry0")
    plan = client.post("/builder/flows/new", data=data)
    assert "add flow deal_routing" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    assert stored(client, "flows/deal_routing.json") == {
        "api_name": "deal_routing", "kind": "assignment", "object": "opportunity",
        "label": {"en": "Deal routing", "zh": "商机分配"}, "on_create": True,
        "entries": [{"condition": "amount > 1000", "assignee": {"user": "alice"}},
                    {"assignee": {"role": "sales_rep", "strategy": "least_loaded"}}]}
    page = html.unescape(client.get("/builder/flows/deal_routing").get_data(as_text=True))
    diagram = page[page.index("data-diagram"):]
    assert "amount > 1000" in diagram and "Otherwise" in diagram and "user: alice" in diagram
    assert "分配规则" in client.get("/builder/flows/deal_routing?lang=zh").get_data(as_text=True)
    # a new big deal goes to alice
    deal = client.post("/api/v1/records/opportunity", json={"name": "Big", "amount": 5000},
                       headers={"X-CSRF-Token": token}).get_json()
    assert deal["owner"] == "alice"
    empty = client.post("/builder/flows/new", data={**data, "api_name": "none_left",
                                                    "entry0_value": "", "entry1_value": ""})
    assert empty.status_code == 422 and 'id="e-entries"' in empty.get_data(as_text=True)


def pool_form(token, **changes):
    form = {"csrf_token": token, "api_name": "lead_pool", "label_en": "Deal pool",
            "label_zh": "商机公海", "members": ["sales_rep"], "admins": [],
            "claim_limit": "2", "reason_value": ["no_answer", ""],
            "reason_en": ["No answer", ""], "reason_zh": ["未接听", ""]}
    form.update(changes)
    return form


def test_a_public_pool_is_a_form_on_its_object(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    page = client.get("/builder/objects/opportunity").get_data(as_text=True)
    assert "Public pools" in page and "/builder/objects/opportunity/pools/new" in page
    plan = client.post("/builder/objects/opportunity/pools/new", data=pool_form(token))
    assert plan.status_code == 200, plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    assert stored(client, "objects/opportunity.json")["pools"] == [{
        "api_name": "lead_pool", "label": {"en": "Deal pool", "zh": "商机公海"},
        "members": ["sales_rep"], "claim_limit": 2,
        "return_reasons": [{"value": "no_answer", "label": {"en": "No answer", "zh": "未接听"}}]}]
    page = client.get("/builder/objects/opportunity/pools/lead_pool").get_data(as_text=True)
    assert 'value="no_answer"' in page and "/pools/opportunity/lead_pool" in page
    # a member sees the pool
    signed_in(client, "alice", browser_session)
    assert client.get("/pools/opportunity/lead_pool").status_code == 200
    # the admin changes it, then deletes it (through the plan)
    token = signed_in(client, "admin", browser_session)
    plan = client.post("/builder/objects/opportunity/pools/lead_pool",
                       data=pool_form(token, claim_limit=""))
    confirm(client, plan.get_data(as_text=True))
    assert "claim_limit" not in stored(client, "objects/opportunity.json")["pools"][0]
    plan = client.post("/builder/objects/opportunity/pools/lead_pool/delete",
                       data={"csrf_token": token})
    assert "Review the changes" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    assert "pools" not in stored(client, "objects/opportunity.json")
    assert client.get("/builder/objects/opportunity/pools/lead_pool").status_code == 404


def test_pool_problems_show_by_their_control(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    url = "/builder/objects/opportunity/pools/new"
    no_members = client.post(url, data=pool_form(token, members=[]))
    assert no_members.status_code == 422
    assert error_at(no_members.get_data(as_text=True), "members")
    zero = client.post(url, data=pool_form(token, claim_limit="0"))
    assert "0" in error_at(zero.get_data(as_text=True), "claim_limit")
    ghost = client.post(url, data=pool_form(token, members=["ghost"]))
    assert "ghost" in error_at(ghost.get_data(as_text=True), "members")
    bad_name = client.post(url, data=pool_form(token, api_name="Lead Pool"))
    assert error_at(bad_name.get_data(as_text=True), "api_name")
    assert "pools" not in stored(client, "objects/opportunity.json")
    signed_in(client, "alice", browser_session)
    assert client.get(url).status_code == 404


def test_pools_and_assignment_rules_saved_again_unchanged_keep_every_key(
        client, browser_session, posted):
    token = signed_in(client, "admin", browser_session)
    plan = client.post("/builder/objects/opportunity/pools/new", data=pool_form(
        token, admins=["sales_rep"], reason_value=["no_answer", "lost"],
        reason_en=["No answer", ""], reason_zh=["未接听", ""]))
    confirm(client, plan.get_data(as_text=True))
    rule = {"api_name": "routing", "kind": "assignment", "object": "opportunity",
            "label": "Routing", "active": False, "on_create": True,
            "entries": [{"condition": "amount > 10", "assignee": {"user": "alice"}},
                        {"assignee": {"role": "sales_rep", "strategy": "round_robin"}}]}
    assert client.put("/api/v1/meta/flows/routing", json=rule,
                      headers={"X-CSRF-Token": token}).status_code == 200
    for url in ("/builder/objects/opportunity/pools/lead_pool", "/builder/flows/routing"):
        again = client.post(url, data=posted(client.get(url).get_data(as_text=True)))
        assert again.status_code == 200, again.get_data(as_text=True)
        assert "No changes: the metadata already says this." in again.get_data(as_text=True)
