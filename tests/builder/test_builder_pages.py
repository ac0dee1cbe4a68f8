"""The builder's pages as an admin's browser sees them (without JavaScript): every save shows
the plan first and applies only when confirmed; problems show next to their control."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

from builder_client import confirm, signed_in


def test_only_admins_see_the_builder(client, browser_session):
    signed_in(client, "alice", browser_session)
    assert client.get("/builder").status_code == 404
    assert client.get("/builder/objects/account").status_code == 404
    assert 'href="/builder"' not in client.get("/").get_data(as_text=True)
    signed_in(client, "admin", browser_session)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/builder"' in home
    page = client.get("/builder").get_data(as_text=True)
    assert "Opportunity" in page and "/builder/objects/opportunity" in page
    assert client.get("/builder?lang=zh").get_data(as_text=True).count("设计器") >= 2


def test_new_object_shows_the_plan_then_applies_on_confirmation(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    plan = client.post("/builder/objects/new", data={
        "csrf_token": token, "label_en": "Ticket", "label_zh": "工单", "api_name": "ticket",
        "app": "custom"})
    assert plan.status_code == 200
    text = plan.get_data(as_text=True)
    assert "create object ticket" in text and "Apply changes" in text
    assert client.get("/o/ticket").status_code == 404  # nothing applied yet
    applied = confirm(client, text)
    assert applied.status_code == 302 and applied.headers["Location"].endswith(
        "/builder/objects/ticket")
    page = client.get("/builder/objects/ticket").get_data(as_text=True)
    assert "Applied as metadata version 2." in page and "Ticket" in page
    assert client.get("/o/ticket").status_code == 200


def test_field_problems_show_next_to_their_control(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    response = client.post("/builder/objects/account/fields/new", data={
        "csrf_token": token, "type": "formula", "api_name": "score", "label_en": "Score",
        "return_type": "number", "formula": "credit_limt * 2"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(r'<div class="field-error" id="e-formula" role="alert"><p>([^<]+)</p>',
                      page)
    assert error and "credit_limt" in error[1]
    assert 'aria-describedby="e-formula"' in page
    fixed = client.post("/builder/objects/account/fields/new", data={
        "csrf_token": token, "type": "formula", "api_name": "score", "label_en": "Score",
        "return_type": "number", "formula": "credit_limit * 2"})
    assert fixed.status_code == 200 and "add field account.score" in fixed.get_data(as_text=True)


def test_picklist_values_keep_the_posted_order_and_a_rename_keeps_data(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    client.post("/api/v1/records/account", json={"name": "Acme", "industry": "retail"},
                headers={"X-CSRF-Token": token})
    client.post("/api/v1/records/opportunity", json={"name": "Deal",
                                                     "contact_email": "a@example.com"},
                headers={"X-CSRF-Token": token})
    picklist = {"csrf_token": token, "type": "picklist", "api_name": "sector",
                "label_en": "Sector", "value_value": ["retail", "tech", "health"],
                "value_en": ["Retail", "Technology", "Health"], "value_zh": ["零售", "", "医疗"]}
    refused = client.post("/builder/objects/account/fields/industry", data=picklist)
    assert refused.status_code == 422  # an opportunity formula reads account.industry
    assert "this change renames account.industry to sector: rename it here too" in \
        refused.get_data(as_text=True).replace("&#39;", "'")
    plan = client.post("/builder/objects/account/fields/industry",
                       data={**picklist, "api_name": "industry"})
    text = plan.get_data(as_text=True)
    assert "add picklist values &#39;health&#39;" in text
    confirm(client, text)
    field = client.get("/api/v1/meta/objects/account").get_json()["fields"][1]
    assert [v["value"] for v in field["values"]] == ["retail", "tech", "health"]
    assert field["values"][0]["label"] == {"en": "Retail", "zh": "零售"}
    renamed = client.post("/builder/objects/opportunity/fields/contact_email", data={
        "csrf_token": token, "type": "email", "api_name": "email_address",
        "label_en": "Email"})
    text = renamed.get_data(as_text=True)
    assert "rename field opportunity.contact_email → email_address (data kept)" in text
    confirm(client, text)
    record = client.get("/api/v1/records/opportunity").get_json()["records"][0]
    assert record["email_address"] == "a@example.com" and "contact_email" not in record
    assert client.get("/api/v1/records/account").get_json()["records"][0]["industry"] == \
        "retail"


def test_formula_check_fragment_shows_line_column_and_caret(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    client.post("/api/v1/records/opportunity", json={"name": "Deal", "amount": 10,
                                                     "probability": 50},
                headers={"X-CSRF-Token": token})
    bad = client.post("/builder/formula-check", data={
        "fc_source": "formula", "fc_object": "opportunity", "fc_context": "field",
        "formula": "amount *\n  amout"}, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    text = bad.get_data(as_text=True)
    assert "Line 2, column 3" in text and "amout" in text and "^" in text
    good = client.post("/builder/formula-check", data={
        "fc_source": "formula", "fc_object": "opportunity", "formula": "amount * 2",
        "return_type": "currency"}, headers={"X-CSRF-Token": token})
    text = good.get_data(as_text=True)
    assert "result type: Number" in text and "Deal" in text and "20" in text


def test_versions_page_shows_the_diff_and_revert_asks_first(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    plan = client.post("/builder/objects/account/rules/new", data={
        "csrf_token": token, "api_name": "limit_positive", "error_condition": "credit_limit < 0",
        "message_en": "No negative limits", "active": "1"})
    confirm(client, plan.get_data(as_text=True))
    listed = client.get("/builder/versions").get_data(as_text=True)
    assert "Version 2" in listed and "admin" in listed
    shown = client.get("/builder/versions/2").get_data(as_text=True)
    assert "limit_positive" in shown and 'class="ins"' in shown
    revert = client.post("/builder/versions/1/revert", data={"csrf_token": token})
    assert "change object account: validation rules" in revert.get_data(as_text=True)
    assert client.get("/api/v1/meta/versions").get_json()["versions"][0]["version"] == 2


def test_an_approval_flow_with_two_steps_is_built_in_a_form(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    form = client.get("/builder/flows/new?kind=approval&object=opportunity")
    assert form.status_code == 200 and "Step 1" in form.get_data(as_text=True)
    data = {"csrf_token": token, "api_name": "big_deal", "object": "opportunity",
            "label_en": "Big deal", "active": "1", "entry_condition": "amount > 1000",
            "lock_record": "1", "step_count": "3",
            "step0_api_name": "manager", "step0_mode": "any",
            "step0_approver_kind": ["user", "manager_of", "user"],
            "step0_approver_value": ["alice", "owner", ""],
            "step1_api_name": "finance", "step1_condition": "amount > 5000",
            "step1_mode": "all", "step1_approver_kind": ["role", "user"],
            "step1_approver_value": ["sales_rep", "admin"],
            "step2_api_name": "",
            "on_approve_count": "2", "on_approve0_kind": "update",
            "on_approve0_update_field": ["stage", ""],
            "on_approve0_update_value": ['"negotiation"', ""], "on_approve1_kind": ""}
    wrong = client.post("/builder/flows/new", data={**data, "step1_condition": "amount > \"x\""})
    assert wrong.status_code == 422
    step = re.search(r'data-step="1">.*?<div class="field-error" id="e-step1" role="alert">'
                     r'<p>([^<]+)</p>', wrong.get_data(as_text=True), re.S)
    assert step and "1:" in step[1]
    plan = client.post("/builder/flows/new", data=data)
    assert "add flow big_deal" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    page = client.get("/builder/flows/big_deal").get_data(as_text=True)
    assert page.count('class="flow-box') == 4  # entry, two steps, approved
    flow = client.get("/api/v1/meta/apps").get_json()
    assert "big_deal" in next(a for a in flow["apps"] if a["name"] == "custom")["documents"][
        "flows"]
    deal = client.post("/api/v1/records/opportunity", json={"name": "Big", "amount": 2000},
                       headers={"X-CSRF-Token": token}).get_json()
    submitted = client.post(f"/api/v1/records/opportunity/{deal['id']}/approvals", json={},
                            headers={"X-CSRF-Token": token})
    assert submitted.status_code == 201, submitted.get_json()
    assert submitted.get_json()["status"] == "pending"


def test_an_automation_rule_reads_like_the_rule(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    plan = client.post("/builder/flows/new", data={
        "csrf_token": token, "kind": "automation", "api_name": "won_prob", "object":
        "opportunity", "active": "1", "trigger": "field_changed", "trigger_fields": ["stage"],
        "condition": 'ISPICKVAL(stage, "closed_won")', "actions_count": "1",
        "actions0_kind": "update", "actions0_update_field": ["probability", ""],
        "actions0_update_value": ["100", ""]})
    assert "add flow won_prob" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    deal = client.post("/api/v1/records/opportunity", json={"name": "D", "probability": 20},
                       headers={"X-CSRF-Token": token}).get_json()
    client.patch(f"/api/v1/records/opportunity/{deal['id']}", json={"stage": "closed_won"},
                 headers={"X-CSRF-Token": token})
    page = client.get("/builder/flows/won_prob").get_data(as_text=True)
    assert "probability = 100" in page and 'value="field_changed" selected' in page


def test_a_list_view_with_columns_filter_and_sort_previews_before_it_is_saved(
        client, browser_session):
    token = signed_in(client, "admin", browser_session)
    for name, amount in (("Small", 10), ("Big", 5000), ("Bigger", 9000)):
        client.post("/api/v1/records/opportunity", json={"name": name, "amount": amount},
                    headers={"X-CSRF-Token": token})
    form = {"csrf_token": token, "api_name": "big_deals", "label_en": "Big deals",
            "columns": ["name", "amount"], "filter": "amount > 1000", "sort": "-amount"}
    preview = client.post("/builder/objects/opportunity/views/preview", data=form,
                          headers={"X-CSRF-Token": token}).get_data(as_text=True)
    assert "The first 2 of 2 records" in preview
    assert preview.index("Bigger") < preview.index(">Big<") and "Small" not in preview
    broken = client.post("/builder/objects/opportunity/views/preview",
                         data={**form, "filter": "amount >"},
                         headers={"X-CSRF-Token": token}).get_data(as_text=True)
    assert 'data-preview-status="error"' in broken
    plan = client.post("/builder/objects/opportunity/views/new", data=form)
    assert "change object opportunity: list views" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    listed = client.get("/o/opportunity?view=big_deals").get_data(as_text=True)
    assert "Bigger" in listed and "Small" not in listed


def test_a_role_is_a_matrix_of_object_rights_and_a_grid_of_field_rules(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    page = client.get("/builder/roles/sales_rep").get_data(as_text=True)
    assert 'name="right_opportunity" value="edit" aria-label="Opportunity: Edit" checked' in page
    plan = client.post("/builder/roles/new", data={
        "csrf_token": token, "api_name": "auditor", "label_en": "Auditor",
        "record_access": "all", "right_opportunity": ["read", "export"],
        "right_account": ["read"], "fr_opportunity.amount": "read_only",
        "fr_account.credit_limit": "hidden"})
    assert "add role auditor" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    page = client.get("/builder/roles/auditor").get_data(as_text=True)
    assert 'name="right_opportunity" value="export" aria-label="Opportunity: Export" checked' \
        in page
    assert re.search(r'id="f-fr_account.credit_limit".*?<option value="hidden" selected>',
                     page, re.S)


def test_export_a_template_then_import_it_changed(client, browser_session):
    import io
    import zipfile

    token = signed_in(client, "admin", browser_session)
    download = client.get("/builder/export")
    assert download.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    names = set(archive.namelist())
    assert {"app.json", "objects/account.json", "roles/sales_rep.json"} <= names
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as out:
        for name in names:
            out.writestr(f"sales/{name}", archive.read(name))
        out.writestr("sales/objects/visit.json", json.dumps({
            "api_name": "visit", "label": "Visit", "name_field": "name",
            "fields": [{"api_name": "name", "type": "text"}]}))
    plan = client.post("/builder/import", data={
        "csrf_token": token, "file": (io.BytesIO(changed.getvalue()), "sales.zip")},
        content_type="multipart/form-data")
    text = plan.get_data(as_text=True)
    assert "create object visit" in text and "account" not in text.split("data-plan")[1][:400]
    confirm(client, text)
    assert client.get("/o/visit").status_code == 200
    bad = client.post("/builder/import", data={
        "csrf_token": token, "file": (io.BytesIO(b"not a zip"), "x.zip")},
        content_type="multipart/form-data")
    assert bad.status_code == 422 and "not a zip archive" in bad.get_data(as_text=True)


def test_deleting_an_object_keeps_its_records_and_the_builder_restores_it(
        client, browser_session):
    token = signed_in(client, "admin", browser_session)
    confirm(client, client.post("/builder/objects/new", data={
        "csrf_token": token, "label_en": "Visit", "api_name": "visit"}).get_data(as_text=True))
    client.post("/api/v1/records/visit", json={"name": "Monday"},
                headers={"X-CSRF-Token": token})
    plan = client.post("/builder/objects/visit/delete", data={"csrf_token": token})
    assert "remove object visit (data kept" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    assert client.get("/o/visit").status_code == 404
    overview = client.get("/builder").get_data(as_text=True)
    assert "Removed objects" in overview and "/builder/objects/visit/restore" in overview
    plan = client.post("/builder/objects/visit/restore", data={"csrf_token": token})
    assert "restore object visit with its data" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    records = client.get("/api/v1/records/visit").get_json()["records"]
    assert [r["name"] for r in records] == ["Monday"]


def test_any_other_document_is_edited_as_json_with_its_problems_by_pointer(
        client, browser_session):
    token = signed_in(client, "admin", browser_session)
    assert "/builder/documents/flows/new" in client.get("/builder").get_data(as_text=True)
    broken = client.post("/builder/documents/flows/new", data={
        "csrf_token": token, "document": "{not json"})
    assert broken.status_code == 422 and "This is not valid JSON" in broken.get_data(
        as_text=True)
    rule = {"api_name": "round_robin", "kind": "assignment", "object": "account",
            "entries": [{"assignee": {"role": "sales_rep", "strategy": "sideways"}}]}
    wrong = client.post("/builder/documents/flows/new", data={
        "csrf_token": token, "document": json.dumps(rule)})
    assert wrong.status_code == 422
    assert "/entries/0/assignee/strategy: " in wrong.get_data(as_text=True)
    rule["entries"][0]["assignee"]["strategy"] = "round_robin"
    plan = client.post("/builder/documents/flows/new", data={
        "csrf_token": token, "document": json.dumps(rule)})
    assert "add flow round_robin" in plan.get_data(as_text=True)
    confirm(client, plan.get_data(as_text=True))
    page = client.get("/builder/documents/flows/round_robin").get_data(as_text=True)
    assert "&#34;round_robin&#34;" in page or "&quot;round_robin&quot;" in page


def test_a_type_change_rows_cannot_take_lists_them_in_the_form_and_changes_nothing(
        client, browser_session):
    token = signed_in(client, "admin", browser_session)
    bad = client.post("/api/v1/records/opportunity", json={"name": "D", "code": "A-1"},
                      headers={"X-CSRF-Token": token}).get_json()
    response = client.post("/builder/objects/opportunity/fields/code", data={
        "csrf_token": token, "type": "number", "api_name": "code", "label_en": "Code",
        "unique": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "These records cannot take the change; nothing was changed" in page
    assert re.search(rf'<td>#{bad["id"]}</td><td><code>A-1</code></td>', page)
    assert client.get("/api/v1/meta/versions").get_json()["versions"][0]["version"] == 1


def test_indexed_is_offered_to_types_that_take_it_and_the_plan_shows_the_index(
        client, browser_session, posted):
    token = signed_in(client, "admin", browser_session)
    form = client.get("/builder/objects/account/fields/industry").get_data(as_text=True)
    box = re.search(r'<fieldset class="type-keys" data-types="([^"]+)">\s*<label class="check-row">'
                    r'<input type="checkbox" name="indexed"', form)
    assert box and "picklist" in box[1].split() and "rollup" in box[1].split()
    assert not {"formula", "long_text", "multi_picklist"} & set(box[1].split())
    assert "建立索引" in client.get("/builder/objects/account/fields/industry?lang=zh") \
        .get_data(as_text=True)
    data = {**posted(form), "csrf_token": [token], "indexed": ["1"]}
    plan = client.post("/builder/objects/account/fields/industry", data=data)
    text = plan.get_data(as_text=True)
    assert plan.status_code == 200 and "index account.industry" in text
    confirm(client, text)
    field = client.get("/api/v1/meta/objects/account").get_json()["fields"][1]
    assert field["api_name"] == "industry" and field["indexed"] is True
    form = client.get("/builder/objects/account/fields/industry").get_data(as_text=True)
    assert re.search(r'name="indexed" value="1" aria-describedby="h-indexed" checked', form)
    data = {**posted(form), "csrf_token": [token]}
    data.pop("indexed")
    text = client.post("/builder/objects/account/fields/industry", data=data) \
        .get_data(as_text=True)
    assert "drop the index on account.industry" in text
    # a type that has no column to index: a ticked box (hidden by the page) is not saved
    plan = client.post("/builder/objects/account/fields/new", data={
        "csrf_token": token, "type": "long_text", "api_name": "notes2", "label_en": "Notes",
        "indexed": "1"})
    assert plan.status_code == 200 and "add field account.notes2" in plan.get_data(as_text=True)
    assert "index account.notes2" not in plan.get_data(as_text=True)


def test_versions_show_their_time_in_the_users_time_zone(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    client.post("/settings", data={"csrf_token": token, "language": "en",
                                   "timezone": "Asia/Shanghai"})
    listed = client.get("/builder/versions").get_data(as_text=True)
    when = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', listed)
    assert when is not None and when[1].endswith("Z")
    stamp = dt.datetime.fromisoformat(when[1].replace("Z", "+00:00"))
    local = stamp.astimezone(ZoneInfo("Asia/Shanghai"))
    assert when[2] == f"{local:%Y-%m-%d %H:%M} CST"  # as every other page writes times
    assert " UTC" not in listed
    shown = client.get("/builder/versions/1").get_data(as_text=True)
    assert re.search(r'<time datetime="[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d CST</time>', shown)


def test_a_condition_previews_as_yes_and_no_in_the_users_language(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    for name, amount in (("Small", 10), ("Large", 5000)):
        client.post("/api/v1/records/opportunity", json={"name": name, "amount": amount},
                    headers={"X-CSRF-Token": token})
    check = {"fc_source": "formula", "fc_object": "opportunity", "fc_context": "condition",
             "formula": "amount > 1000"}
    text = client.post("/builder/formula-check", data=check,
                       headers={"X-CSRF-Token": token}).get_data(as_text=True)
    cells = re.findall(r"<tr><td>(\w+)</td><td>([^<]*)</td></tr>", text)
    assert cells == [("Large", "Yes"), ("Small", "No")]
    zh = client.post("/builder/formula-check?lang=zh", data=check,
                     headers={"X-CSRF-Token": token}).get_data(as_text=True)
    assert re.findall(r"<tr><td>(\w+)</td><td>([^<]*)</td></tr>", zh) == \
        [("Large", "是"), ("Small", "否")]
