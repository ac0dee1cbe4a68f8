"""Business calendars in the builder: typed as lists of dates (checked, sorted, duplicates
refused), saved into the app's app.json after the plan, other keys of a calendar kept."""

from __future__ import annotations

import json
import re

from builder_client import call, confirm, error_at, signed_in

from metabiz.builder_ui.calendars import calendar_from_form, parse_dates
from metabiz.platform.metadata.store import load_documents


def manifest(engine) -> dict:
    with engine.connect() as conn:
        return load_documents(conn)["sales/app.json"]


def test_a_calendar_is_typed_as_dates_planned_then_saved_in_app_json(
        client, browser_session, sales):
    token = signed_in(client, "admin", browser_session)
    assert 'href="/builder/calendars"' in client.get("/builder").get_data(as_text=True)
    empty = client.get("/builder/calendars").get_data(as_text=True)
    assert "No business calendar yet" in empty and 'href="/builder/calendars/new"' in empty
    assert "工作日历" in client.get("/builder/calendars?lang=zh").get_data(as_text=True)
    client.get("/builder/calendars?lang=en")
    form = {"csrf_token": token, "name": "cn", "app": "sales",
            "holidays": "2026-10-02\n2026-10-01, 2026-02-30\n2026-10-02",
            "workdays": "2026-10-10 tomorrow"}
    refused = client.post("/builder/calendars/new", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "'2026-02-30' is not a date (YYYY-MM-DD)" in error_at(page, "holidays")
    assert "2026-10-02 is listed twice" in error_at(page, "holidays")
    assert "'tomorrow' is not a date" in error_at(page, "workdays")
    assert "2026-02-30" in page  # what was typed stays in the box
    assert "calendars" not in manifest(sales)
    plan = client.post("/builder/calendars/new", data={
        **form, "holidays": "2026-10-02\n2026-10-01", "workdays": "2026-10-10"})
    text = plan.get_data(as_text=True)
    assert plan.status_code == 200 and "change app sales" in text
    assert "calendar cn: holidays + 2026-10-01, 2026-10-02" in text
    assert "calendars" not in manifest(sales)  # nothing applied before the confirmation
    assert confirm(client, text).headers["Location"].endswith("/builder/calendars")
    assert manifest(sales)["calendars"] == {"cn": {"holidays": ["2026-10-01", "2026-10-02"],
                                                   "workdays": ["2026-10-10"]}}
    listed = client.get("/builder/calendars").get_data(as_text=True)
    assert 'href="/builder/calendars/cn"' in listed
    # formulas count with it
    check = client.post("/api/v1/formulas/check", json={
        "object": "opportunity", "formula": 'NETWORKDAYS(DATE(2026, 9, 30), TODAY(), "cn")',
        "preview": False}, headers={"X-CSRF-Token": token})
    assert check.status_code == 200 and check.get_json()["type"] == "number"
    # a second calendar of the same name is refused, and so is a bad name
    again = client.post("/builder/calendars/new", data={**form, "holidays": ""})
    assert "A calendar named cn exists already." in error_at(again.get_data(as_text=True),
                                                             "name")
    bad = client.post("/builder/calendars/new", data={**form, "name": "China!",
                                                      "holidays": ""})
    assert bad.status_code == 422 and error_at(bad.get_data(as_text=True), "name")


def test_editing_keeps_the_name_refuses_a_date_both_ways_and_delete_asks_first(
        client, browser_session, sales):
    token = signed_in(client, "admin", browser_session)
    confirm(client, client.post("/builder/calendars/new", data={
        "csrf_token": token, "name": "cn", "app": "sales", "holidays": "2026-10-01",
        "workdays": ""}).get_data(as_text=True))
    page = client.get("/builder/calendars/cn").get_data(as_text=True)
    assert "readonly" in page and ">2026-10-01</textarea>" in page
    version = re.search(r'name="base_version" value="(\d+)"', page)[1]
    both = client.post("/builder/calendars/cn", data={
        "csrf_token": token, "base_version": version, "holidays": "2026-10-01",
        "workdays": "2026-10-01"})
    assert both.status_code == 422
    assert "is both a holiday and a working day" in error_at(both.get_data(as_text=True),
                                                             "workdays")
    plan = client.post("/builder/calendars/cn", data={
        "csrf_token": token, "base_version": version, "holidays": "2026-10-03\n2026-10-02",
        "workdays": "2026-09-27"})
    text = plan.get_data(as_text=True)
    assert "calendar cn: holidays + 2026-10-02, 2026-10-03" in text
    assert "calendar cn: holidays − 2026-10-01" in text
    assert "calendar cn: workdays + 2026-09-27" in text
    confirm(client, text)
    assert manifest(sales)["calendars"]["cn"] == {"holidays": ["2026-10-02", "2026-10-03"],
                                                  "workdays": ["2026-09-27"]}
    # a copy loaded before that save is stale: nothing changes
    stale = client.post("/builder/calendars/cn", data={
        "csrf_token": token, "base_version": version, "holidays": "2026-12-25",
        "workdays": ""})
    assert stale.status_code == 422 and "Someone else changed this" in \
        stale.get_data(as_text=True)
    current = re.search(r'name="base_version" value="(\d+)"',
                        client.get("/builder/calendars/cn").get_data(as_text=True))[1]
    removed = client.post("/builder/calendars/cn/delete", data={"csrf_token": token,
                                                                "base_version": current})
    text = removed.get_data(as_text=True)
    assert "change app sales" in text and "calendars" in manifest(sales)
    confirm(client, text)
    assert "calendars" not in manifest(sales)
    assert client.get("/builder/calendars/cn").status_code == 404


def test_dates_are_sorted_and_other_keys_of_a_calendar_are_kept():
    assert parse_dates("2026-10-03，2026-10-01、2026-10-02") == (
        ["2026-10-01", "2026-10-02", "2026-10-03"], [])
    assert parse_dates("2026-1-5 2026-01-05 2026-01-05")[1] == [
        "'2026-1-5' is not a date (YYYY-MM-DD)", "2026-01-05 is listed twice"]
    original = {"holidays": ["2026-01-01"], "hours": {"start": "09:00", "end": "18:00"}}
    calendar, problems = calendar_from_form({"holidays": "", "workdays": "2026-01-04"},
                                            original)
    assert problems == {} and calendar == {"workdays": ["2026-01-04"],
                                           "hours": {"start": "09:00", "end": "18:00"}}
    assert original["holidays"] == ["2026-01-01"]  # the stored copy is not touched


def test_the_metadata_api_puts_and_deletes_one_calendar_of_an_app(client, sales):
    cn = {"holidays": ["2026-10-01"], "workdays": ["2026-10-10"]}
    assert call(client, "PUT", "/meta/apps/sales/calendars/cn", "alice", cn).status_code == 404
    dry = call(client, "PUT", "/meta/apps/sales/calendars/cn?dry_run=1", body=cn).get_json()
    assert dry["dry_run"] and "~ change app sales" in dry["plan"] and "version" not in dry
    assert dry["changes"][0]["details"] == ["calendar cn: holidays + 2026-10-01",
                                            "calendar cn: workdays + 2026-10-10"]
    assert "calendars" not in manifest(sales)
    done = call(client, "PUT", "/meta/apps/sales/calendars/cn", body=cn).get_json()
    assert done["version"] == dry["base"] + 1
    apps = call(client, "GET", "/meta/apps").get_json()["apps"]
    assert next(a for a in apps if a["name"] == "sales")["calendars"] == {"cn": cn}
    # bad input: typed errors by JSON pointer into app.json, never a 500
    bad = call(client, "PUT", "/meta/apps/sales/calendars/cn", body={"holidays": ["2026-02-30"]})
    assert bad.status_code == 422
    assert "/calendars/cn/holidays/0" in bad.get_json()["error"]["fields"]
    not_an_object = call(client, "PUT", "/meta/apps/sales/calendars/cn", body=["2026-01-01"])
    assert not_an_object.status_code == 400
    assert call(client, "PUT", "/meta/apps/sales/calendars/CN!", body=cn).status_code == 400
    assert call(client, "PUT", "/meta/apps/nowhere/calendars/cn", body=cn).status_code == 404
    stale = call(client, "PUT", "/meta/apps/sales/calendars/cn", body=cn,
                 headers={"If-Match": str(dry["base"])})
    assert stale.status_code == 409
    assert call(client, "DELETE", "/meta/apps/sales/calendars/us").status_code == 404
    with sales.connect() as conn:  # a formula naming the calendar holds it
        doc = load_documents(conn)["sales/objects/account.json"]
    doc["fields"].append({"api_name": "days_open", "type": "formula", "return_type": "number",
                          "formula": 'NETWORKDAYS(DATE(2026, 1, 1), TODAY(), "cn")'})
    assert call(client, "PUT", "/meta/objects/account", body=doc).status_code == 200
    held = call(client, "DELETE", "/meta/apps/sales/calendars/cn")
    assert held.status_code == 422 and "unknown calendar 'cn'" in json.dumps(held.get_json())
    doc["fields"].pop()
    assert call(client, "PUT", "/meta/objects/account", body=doc).status_code == 200
    gone = call(client, "DELETE", "/meta/apps/sales/calendars/cn").get_json()
    assert gone["changes"][0]["details"] == ["calendar cn: holidays − 2026-10-01",
                                             "calendar cn: workdays − 2026-10-10"]
    assert "calendars" not in manifest(sales)
