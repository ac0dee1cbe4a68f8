"""Flow actions of every kind in the builder's approval-flow and automation forms: each kind's
keys as form fields, shown in the diagram, saved through the plan, problems beside their
action; and a flow opened and saved again unchanged keeps every action as it was."""

from __future__ import annotations

import html
import re
from pathlib import Path

from builder_client import confirm, signed_in

from metabiz.app import create_app
from metabiz.flows.worker import run_worker
from metabiz.objects import installer
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import writer

BUNDLED = Path(__file__).resolve().parents[2] / "metabiz" / "templates_bundled"

EVERY_KIND = {
    "api_name": "won_followup", "kind": "automation", "object": "opportunity",
    "label": {"en": "Won follow-up", "zh": "赢单跟进"},
    "trigger": {"field_changed": ["stage"]}, "condition": 'ISPICKVAL(stage, "closed_won")',
    "actions": [
        {"update": {"probability": "100"}},
        {"create": {"object": "line_item", "values": {
            "product": {"en": '"Kick-off " & name', "zh": '"启动 " & name'},
            "opportunity": "id"}}},
        {"assign": {"role": "sales_rep", "strategy": "least_loaded"}},
        {"notify": {"to": [{"role": "sales_rep"}, {"manager_of": "owner"}],
                    "subject": {"en": '"Won"', "zh": '"赢单"'},
                    "message": {"en": '"Deal " & name & " was won"',
                                "zh": '"商机 " & name & " 已赢单"'},
                    "email_to": "contact_email"}},
        {"webhook": {"url": "https://hooks.example.com/won", "payload": {"deal": "name"},
                     "secret": "s3cret", "fields": ["stage"]}},
    ]}


def test_an_automation_rule_takes_actions_of_every_kind(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    page = client.get("/builder/flows/new?kind=automation&object=opportunity")
    text = page.get_data(as_text=True)
    for kind in ("update", "create", "assign", "notify", "webhook", "return_to_pool"):
        assert f'<option value="{kind}">' in text
    data = {"csrf_token": token, "kind": "automation", "api_name": "won_followup",
            "object": "opportunity", "label_en": "Won follow-up", "label_zh": "赢单跟进",
            "active": "1", "trigger": "field_changed", "trigger_fields": ["stage"],
            "condition": 'ISPICKVAL(stage, "closed_won")', "timing": "after_save",
            "actions_count": "6",
            "actions0_kind": "update", "actions0_update_field": ["probability", ""],
            "actions0_update_value": ["100", ""],
            "actions1_kind": "create", "actions1_create_object": "line_item",
            "actions1_create_field": ["product", "opportunity", ""],
            "actions1_create_value": ['"Kick-off " & name', "id", ""],
            "actions1_create_value_zh": ['"启动 " & name', "", ""],
            "actions2_kind": "assign", "actions2_assign_by": "role",
            "actions2_assign_value": "sales_rep", "actions2_assign_strategy": "least_loaded",
            "actions3_kind": "notify", "actions3_notify_to_kind": ["role", "manager_of", "user"],
            "actions3_notify_to_value": ["sales_rep", "owner", ""],
            "actions3_notify_subject_en": '"Won"', "actions3_notify_subject_zh": '"赢单"',
            "actions3_notify_message_en": '"Deal " & name & " was won"',
            "actions3_notify_message_zh": '"商机 " & name & " 已赢单"',
            "actions3_notify_email_to": "contact_email",
            "actions4_kind": "webhook", "actions4_webhook_url": "https://hooks.example.com/won",
            "actions4_webhook_key": ["deal", ""], "actions4_webhook_value": ["name", ""],
            "actions4_webhook_secret": "s3cret", "actions4_webhook_fields": ["stage"],
            "actions5_kind": ""}
    plan = client.post("/builder/flows/new", data=data)
    assert plan.status_code == 200 and "add flow won_followup" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    stored = client.get("/api/v1/meta/versions/2").get_json()["documents"]
    assert stored["custom/flows/won_followup.json"] == {**EVERY_KIND, "timing": "after_save"} \
        or stored["custom/flows/won_followup.json"] == EVERY_KIND
    # the diagram names each action
    page = client.get("/builder/flows/won_followup").get_data(as_text=True)
    diagram = page[page.index("data-diagram"):page.index("</ol>", page.index("data-diagram"))]
    for words in ("Set", "Create a record", "Assign", "Notify", "Call a webhook"):
        assert words in diagram
    assert "line_item: product = " in html.unescape(diagram)
    # it runs: winning the deal creates the kick-off line item
    deal = client.post("/api/v1/records/opportunity", json={"name": "Acme"},
                       headers={"X-CSRF-Token": token}).get_json()
    won = client.patch(f"/api/v1/records/opportunity/{deal['id']}", json={
        "stage": "closed_won", "close_date": "2026-12-01"}, headers={"X-CSRF-Token": token})
    assert won.status_code == 200
    app = client.application
    run_worker(app.extensions["metabiz"].engine, runtime=app.extensions["metabiz"].runtime,
               secret="test", once=True)
    items = client.get("/api/v1/records/line_item").get_json()["records"]
    assert [i["product"] for i in items] == ["Kick-off Acme"]
    # in Chinese
    zh = client.get("/builder/flows/won_followup?lang=zh").get_data(as_text=True)
    assert "新建记录（任务、跟进等）" in zh and "调用 Webhook" in zh


def test_a_flow_saved_again_unchanged_keeps_every_action(client, browser_session, posted):
    token = signed_in(client, "admin", browser_session)
    flow = {**EVERY_KIND, "actions": [*EVERY_KIND["actions"],
                                      {"return_to_pool": {"pool": "lead_pool",
                                                          "reason": "no_answer"}}]}
    documents = client.get("/api/v1/meta/versions/1").get_json()["documents"]
    pooled = next(d for k, d in documents.items() if k.endswith("objects/opportunity.json"))
    pooled["pools"] = [{"api_name": "lead_pool", "members": ["sales_rep"],
                        "return_reasons": ["no_answer"]}]
    assert client.put("/api/v1/meta/objects/opportunity", json=pooled,
                      headers={"X-CSRF-Token": token}).status_code == 200
    assert client.put("/api/v1/meta/flows/won_followup", json=flow,
                      headers={"X-CSRF-Token": token}).status_code == 200
    page = client.get("/builder/flows/won_followup").get_data(as_text=True)
    again = client.post("/builder/flows/won_followup", data=posted(page))
    text = again.get_data(as_text=True)
    assert again.status_code == 200, text
    assert "No changes: the metadata already says this." in text


APPROVAL = {
    "api_name": "discount", "kind": "approval", "object": "opportunity",
    "label": {"en": "Discount", "zh": "折扣"}, "entry_condition": "discount > 10",
    "lock_record": True, "lock_after_approval": True, "resubmit_on_change": ["discount"],
    "submitter_approver": "manager",
    "steps": [{"api_name": "manager", "label": {"en": "Manager", "zh": "经理"},
               "approvers": [{"manager_of": "owner"}], "mode": "any"},
              {"api_name": "finance", "condition": "discount > 20",
               "approvers": [{"role": "sales_rep"}, {"user": "admin"}], "mode": "all"}],
    "on_submit": [{"notify": {"to": [{"field": "owner"}], "message": '"Submitted"'}}],
    "on_approve": [{"update": {"stage": '"negotiation"'}},
                   {"webhook": {"url": "https://hooks.example.com/ok"}}],
    "on_reject": [{"update": {"discount": "0"}}],
    "on_recall": [{"assign": {"user": "alice"}}]}


def test_an_approval_flow_saved_again_unchanged_keeps_every_key(client, browser_session,
                                                                posted):
    token = signed_in(client, "admin", browser_session)
    assert client.put("/api/v1/meta/flows/discount", json=APPROVAL,
                      headers={"X-CSRF-Token": token}).status_code == 200
    page = client.get("/builder/flows/discount").get_data(as_text=True)
    again = client.post("/builder/flows/discount", data=posted(page))
    assert again.status_code == 200, again.get_data(as_text=True)
    assert "No changes: the metadata already says this." in again.get_data(as_text=True)


def test_action_problems_show_beside_their_action(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    data = {"csrf_token": token, "kind": "automation", "api_name": "broken",
            "object": "opportunity", "active": "1", "trigger": "created",
            "actions_count": "3",
            "actions0_kind": "update", "actions0_update_field": ["probability"],
            "actions0_update_value": ["50"],
            "actions1_kind": "webhook", "actions1_webhook_url": "ftp://nowhere",
            "actions2_kind": ""}

    def problem(changes, slot):
        response = client.post("/builder/flows/new", data={**data, **changes})
        assert response.status_code == 422
        page = html.unescape(response.get_data(as_text=True))
        found = re.search(rf'id="e-{slot}" role="alert"><p>([^<]*)</p>', page)
        assert found, page[page.find("form-errors"):][:800]
        return found[1], page

    message, page = problem({}, "actions1")
    assert "ftp://nowhere" in message and 'value="ftp://nowhere"' in page  # kept as typed
    message, _ = problem({"actions1_kind": "create", "actions1_create_object": "ghost",
                          "actions1_create_field": ["name"],
                          "actions1_create_value": ['"x"']}, "actions1")
    assert "ghost" in message
    message, _ = problem({"actions1_kind": "return_to_pool", "actions1_pool": "no_pool"},
                         "actions1")
    assert "no_pool" in message
    message, _ = problem({"actions0_update_value": ["amount +"], "actions1_kind": ""},
                         "actions0")
    assert "1:" in message  # where the formula breaks
    fixed = client.post("/builder/flows/new", data={
        **data, "actions1_webhook_url": "https://ok.example.com"})
    assert fixed.status_code == 200 and "add flow broken" in fixed.get_data(as_text=True)


def test_an_approval_flow_runs_actions_on_submit_approval_and_rejection(client,
                                                                       browser_session):
    token = signed_in(client, "admin", browser_session)
    data = {"csrf_token": token, "api_name": "discount", "object": "opportunity",
            "label_en": "Discount", "active": "1", "entry_condition": "discount > 10",
            "lock_record": "1", "lock_after_approval": "1", "step_count": "1",
            "resubmit_on_change": ["amount", "discount"], "submitter_approver": "manager",
            "step0_api_name": "manager", "step0_mode": "any",
            "step0_approver_kind": ["manager_of"], "step0_approver_value": ["owner"],
            "on_submit_count": "1", "on_submit0_kind": "notify",
            "on_submit0_notify_to_kind": ["role"], "on_submit0_notify_to_value": ["sales_rep"],
            "on_submit0_notify_message_en": '"Please review " & name',
            "on_approve_count": "1", "on_approve0_kind": "update",
            "on_approve0_update_field": ["stage"],
            "on_approve0_update_value": ['"negotiation"'],
            "on_reject_count": "1", "on_reject0_kind": "update",
            "on_reject0_update_field": ["discount"], "on_reject0_update_value": ["0"],
            "on_recall_count": "1", "on_recall0_kind": ""}
    plan = client.post("/builder/flows/new", data=data)
    assert plan.status_code == 200, plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    doc = client.get("/api/v1/meta/versions/2").get_json()["documents"][
        "custom/flows/discount.json"]
    assert doc["on_submit"] == [{"notify": {"to": [{"role": "sales_rep"}],
                                            "message": '"Please review " & name'}}]
    assert doc["on_reject"] == [{"update": {"discount": "0"}}]
    assert doc["lock_after_approval"] is True and "on_recall" not in doc
    assert doc["resubmit_on_change"] == ["amount", "discount"]
    assert doc["submitter_approver"] == "manager"
    page = client.get("/builder/flows/discount").get_data(as_text=True)
    assert "flow-rejected" in page and "discount = 0" in page
    assert "Please review" in html.unescape(page)


def test_every_bundled_flow_saved_again_unchanged_has_no_changes(db_url, tmp_path,
                                                                 browser_session, posted):
    # an admin who opens a template's flow and saves it without touching it changes nothing
    # (a formula on several lines once came back from its one-line input as another text)
    url = db_url
    app = create_app(Config(database_url=url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    runtime = app.extensions["metabiz"].runtime
    installer.install(runtime, "crm")
    installer.install(runtime, "service")
    with writer(app.extensions["metabiz"].engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
    client = app.test_client()
    signed_in(client, "admin", browser_session)
    names = [path.stem for template in ("crm", "service")
             for path in sorted((BUNDLED / template / "flows").glob("*.json"))]
    assert len(names) > 20
    changed = []
    for name in names:
        page = client.get(f"/builder/flows/{name}").get_data(as_text=True)
        again = client.post(f"/builder/flows/{name}", data=posted(page))
        if "No changes: the metadata already says this." not in again.get_data(as_text=True):
            changed.append(name)
    assert changed == [], changed
    app.extensions["metabiz"].engine.dispose()
