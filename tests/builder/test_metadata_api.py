"""The Metadata API as an admin's script or the builder sees it, on SQLite and PostgreSQL:
plans, applies, errors by JSON pointer, renames that keep data, refused conversions,
versions and reverts, conflicts between two admins, and 404 for everyone else."""

from __future__ import annotations

import json

from builder_client import call

from metabiz.app import create_app
from metabiz.platform.config import Config

TICKET = {"api_name": "ticket", "label": {"en": "Ticket", "zh": "工单"}, "name_field": "subject",
          "fields": [{"api_name": "subject", "type": "text", "label": "Subject",
                      "required": True},
                     {"api_name": "hours", "type": "text", "label": "Hours"},
                     {"api_name": "account", "type": "lookup", "target": "account"}]}


def version_now(client) -> int:
    return call(client, "GET", "/meta/apps").get_json()["metadata_version"]


def test_apps_list_installed_apps_and_their_documents(client):
    body = call(client, "GET", "/meta/apps").get_json()
    sales = next(app for app in body["apps"] if app["name"] == "sales")
    assert sales["version"] == "1.0.0" and sales["label"] == {"en": "Sales", "zh": "销售"}
    assert sales["documents"]["objects"] == ["account", "line_item", "opportunity"]
    assert sales["documents"]["roles"] == ["sales_rep"] and "flows" in sales["documents"]
    assert body["metadata_version"] == 1


def test_dry_run_plans_and_changes_nothing_then_apply_creates_the_object(client):
    planned = call(client, "PUT", "/meta/objects/ticket?dry_run=1", body=TICKET)
    assert planned.status_code == 200, planned.get_json()
    body = planned.get_json()
    assert "+ create object ticket (table obj_ticket)" in body["plan"]
    assert "version" not in body and body["dry_run"] is True
    assert call(client, "GET", "/records/ticket").status_code == 404
    applied = call(client, "PUT", "/meta/objects/ticket", body=TICKET)
    assert applied.status_code == 200 and applied.get_json()["version"] == 2
    created = call(client, "POST", "/records/ticket", body={"subject": "Printer", "hours": "3"})
    assert created.status_code == 201
    apps = call(client, "GET", "/meta/apps").get_json()["apps"]
    custom = next(app for app in apps if app["name"] == "custom")
    assert custom["documents"]["objects"] == ["ticket"]


def test_invalid_metadata_is_422_with_every_problem_by_json_pointer(client):
    bad = {**TICKET, "fields": [*TICKET["fields"],
                                {"api_name": "due", "type": "formula", "return_type": "date",
                                 "formula": "TODAY() + hourz"},
                                {"api_name": "size", "type": "text", "scale": 2}]}
    response = call(client, "PUT", "/meta/objects/ticket", body=bad)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_metadata"
    assert error["fields"] == {"/fields/4/scale": ["'scale' does not apply to a text field"]}
    assert call(client, "GET", "/records/ticket").status_code == 404
    formula = dict(bad, fields=bad["fields"][:4])
    response = call(client, "PUT", "/meta/objects/ticket", body=formula)
    assert response.status_code == 422
    messages = response.get_json()["error"]["fields"]["/fields/3/formula"]
    assert any("hourz" in m and "1:" in m for m in messages)


def test_name_in_the_address_must_match_the_document(client):
    response = call(client, "PUT", "/meta/objects/case", body=TICKET)
    assert response.status_code == 422
    assert "/api_name" in response.get_json()["error"]["fields"]


def test_rename_keeps_the_data(client):
    call(client, "PUT", "/meta/objects/ticket", body=TICKET)
    record = call(client, "POST", "/records/ticket", body={"subject": "Printer",
                                                           "hours": "3"}).get_json()
    renamed = json.loads(json.dumps(TICKET))
    renamed["fields"][1] = {"api_name": "effort", "type": "text", "label": "Effort",
                            "renamed_from": "hours"}
    plan = call(client, "PUT", "/meta/objects/ticket", body=renamed).get_json()
    assert "→ rename field ticket.hours → effort (data kept)" in plan["plan"]
    got = call(client, "GET", f"/records/ticket/{record['id']}").get_json()
    assert got["effort"] == "3" and "hours" not in got


def test_a_conversion_rows_cannot_take_is_a_409_naming_them_and_changes_nothing(client):
    call(client, "PUT", "/meta/objects/ticket", body=TICKET)
    good = call(client, "POST", "/records/ticket", body={"subject": "a", "hours": "2"}).get_json()
    bad = call(client, "POST", "/records/ticket", body={"subject": "b",
                                                        "hours": "two"}).get_json()
    before = version_now(client)
    converted = json.loads(json.dumps(TICKET))
    converted["fields"][1] = {"api_name": "hours", "type": "number", "label": "Hours"}
    response = call(client, "PUT", "/meta/objects/ticket", body=converted)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict"
    assert error["details"]["records"] == [{"id": bad["id"], "value": "two",
                                            "reason": "not a number"}]
    assert "'two'" in error["message"] and "/fields/1/type" in error["fields"]
    assert version_now(client) == before
    assert call(client, "GET", f"/records/ticket/{good['id']}").get_json()["hours"] == "2"


def test_versions_list_show_a_diff_and_revert_brings_fields_back_with_their_data(client):
    call(client, "PUT", "/meta/objects/ticket", body=TICKET)  # version 2
    record = call(client, "POST", "/records/ticket", body={"subject": "Printer",
                                                           "hours": "3"}).get_json()
    changed = json.loads(json.dumps(TICKET))
    changed["fields"] = [dict(changed["fields"][0], api_name="title", renamed_from="subject"),
                         changed["fields"][2]]
    changed["name_field"] = "title"
    assert call(client, "PUT", "/meta/objects/ticket", body=changed).status_code == 200  # v3
    listed = call(client, "GET", "/meta/versions").get_json()["versions"]
    assert [v["version"] for v in listed] == [3, 2, 1]
    assert listed[0]["by"] == "admin" and listed[0]["at"].endswith("Z")
    shown = call(client, "GET", "/meta/versions/3").get_json()
    assert shown["diff"][0]["document"] == "custom/objects/ticket.json"
    assert shown["diff"][0]["change"] == "changed"
    assert any(line.startswith("-") and "hours" in line for line in shown["diff"][0]["lines"])
    assert "custom/objects/ticket.json" in shown["documents"]
    planned = call(client, "POST", "/meta/versions/2/revert?dry_run=1").get_json()
    assert "→ rename field ticket.title → subject (data kept)" in planned["plan"]
    reverted = call(client, "POST", "/meta/versions/2/revert")
    assert reverted.status_code == 200 and reverted.get_json()["version"] == 4
    got = call(client, "GET", f"/records/ticket/{record['id']}").get_json()
    assert got["subject"] == "Printer" and got["hours"] == "3" and "title" not in got
    assert call(client, "GET", "/meta/versions/99").status_code == 404


def test_delete_removes_an_object_and_keeps_its_data(client):
    call(client, "PUT", "/meta/objects/ticket", body=TICKET)
    call(client, "POST", "/records/ticket", body={"subject": "Printer"})
    plan = call(client, "DELETE", "/meta/objects/ticket").get_json()
    assert any(line.startswith("- remove object ticket (data kept") for line in plan["plan"])
    assert call(client, "GET", "/records/ticket").status_code == 404
    assert call(client, "DELETE", "/meta/objects/ticket").status_code == 404
    back = call(client, "PUT", "/meta/objects/ticket", body=TICKET).get_json()
    assert "+ restore object ticket with its data" in back["plan"]
    assert call(client, "GET", "/records/ticket").get_json()["total"] == 1


def test_flows_and_roles_are_documents_too(client):
    flow = {"api_name": "big_deal", "kind": "approval", "object": "opportunity",
            "entry_condition": "amount > 1000",
            "steps": [{"api_name": "boss", "approvers": [{"user": "admin"}], "mode": "any"}]}
    response = call(client, "PUT", "/meta/flows/big_deal", body=flow)
    assert response.status_code == 200, response.get_json()
    assert "+ add flow big_deal" in response.get_json()["plan"]
    bad = dict(flow, entry_condition="amount > \"x\"")
    response = call(client, "PUT", "/meta/flows/big_deal", body=bad)
    assert response.status_code == 422
    assert "/entry_condition" in response.get_json()["error"]["fields"]
    role = {"api_name": "support", "label": "Support", "objects": {"account": ["read"]},
            "record_access": "all"}
    assert call(client, "PUT", "/meta/roles/support", body=role).status_code == 200
    assert call(client, "PUT", "/meta/widgets/x", body={"api_name": "x"}).status_code == 404


def test_two_admins_saving_the_same_document_conflict(client):
    call(client, "PUT", "/meta/objects/ticket", body=TICKET)
    loaded = version_now(client)
    first = json.loads(json.dumps(TICKET))
    first["label"] = "Case"
    second = json.loads(json.dumps(TICKET))
    second["fields"].append({"api_name": "notes", "type": "long_text"})
    ok = call(client, "PUT", "/meta/objects/ticket", body=first,
              headers={"If-Match": str(loaded)})
    assert ok.status_code == 200
    lost = call(client, "PUT", f"/meta/objects/ticket?base_version={loaded}", body=second)
    assert lost.status_code == 409 and lost.get_json()["error"]["code"] == "conflict"
    assert call(client, "GET", "/meta/objects/ticket").get_json()["label"] == "Case"
    # another document changed since: no conflict for this one
    other = call(client, "PUT", "/meta/objects/ticket", body=dict(first, label="Case 2"),
                 headers={"If-Match": str(version_now(client))})
    assert other.status_code == 200


def test_everyone_but_admins_gets_404(client):
    for method, path, body in (("GET", "/meta/apps", None), ("GET", "/meta/versions", None),
                               ("GET", "/meta/versions/1", None),
                               ("PUT", "/meta/objects/ticket", TICKET),
                               ("DELETE", "/meta/objects/account", None),
                               ("POST", "/meta/versions/1/revert", None)):
        response = call(client, method, path, user="alice", body=body)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    assert call(client, "GET", "/records/account", user="alice").status_code == 200


def test_formula_check_gives_the_type_or_the_error_with_its_position(client):
    call(client, "POST", "/records/opportunity", body={"name": "Deal", "amount": 100,
                                                       "probability": 50})
    ok = call(client, "POST", "/formulas/check", body={
        "object": "opportunity", "formula": "amount * 2", "return_type": "currency"})
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["type"] == "number" and body["preview"][0]["value"] == 200
    bad = call(client, "POST", "/formulas/check",
               body={"object": "opportunity", "formula": "amount +\n amout"})
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    assert error["errors"][0]["line"] == 2 and error["errors"][0]["column"] == 2
    assert (error["line"], error["column"]) == (2, 2)
    assert "amout" in error["errors"][0]["message"] and error["errors"][0]["caret"].endswith("^")
    wrong_type = call(client, "POST", "/formulas/check", body={
        "object": "opportunity", "formula": "name", "return_type": "number"})
    assert wrong_type.status_code == 400
    assert call(client, "POST", "/formulas/check", body={"object": "nope",
                                                         "formula": "1"}).status_code == 404


def test_another_server_process_sees_the_change_on_its_next_request(client, db_url, tmp_path):
    other = create_app(Config(database_url=db_url, secret_key="test",
                              instance_path=tmp_path / "other", testing=True))
    try:
        headers = {"Authorization": f"Bearer {client.tokens['admin']}"}
        seen = other.test_client().get("/api/v1/records/ticket", headers=headers)
        assert seen.status_code == 404  # its schema is cached now
        assert call(client, "PUT", "/meta/objects/ticket", body=TICKET).status_code == 200
        seen = other.test_client().get("/api/v1/records/ticket", headers=headers)
        assert seen.status_code == 200 and seen.get_json()["total"] == 0
    finally:
        other.extensions["metabiz"].engine.dispose()
