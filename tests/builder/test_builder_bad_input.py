"""The builder's pages and the Metadata API read numbers through the request-input checks:
digits that are not ASCII, huge row counts or text where a number goes are a typed error or
are ignored, never a 500 and never a loop over a billion rows."""

from __future__ import annotations

import pytest
from builder_client import signed_in


@pytest.mark.parametrize("count", ["²", "abc", "-1", "999999999999", "1e3", "١٢"])
def test_row_counts_that_are_not_small_whole_numbers_post_no_rows(client, browser_session,
                                                                 count):
    token = signed_in(client, "admin", browser_session)
    flow = client.post("/builder/flows/new", data={
        "csrf_token": token, "kind": "approval", "api_name": "f", "object": "opportunity",
        "step_count": count, "step0_api_name": "s", "on_approve_count": count,
        "base_version": count})
    # no steps (the schema says so, by the form), or no such base version: a typed error
    assert flow.status_code in (400, 422)
    assert 'role="alert"' in flow.get_data(as_text=True) or flow.status_code == 400
    rule = client.post("/builder/flows/new", data={
        "csrf_token": token, "kind": "assignment", "api_name": "r", "object": "opportunity",
        "entry_count": count, "entry0_value": "alice"})
    # no entries (a typed error by the form), or at most MAX_ROWS of them read
    assert rule.status_code == (200 if count == "999999999999" else 422)
    layout = client.post("/builder/objects/opportunity/layout", data={
        "csrf_token": token, "section_count": count, "s0_fields": ["name"]})
    assert layout.status_code == 200  # a layout of no sections: the plan page
    applied = client.post("/builder/apply", data={
        "csrf_token": token, "op": "revert", "version": count, "base_version": count,
        "document": "", "done": "/builder"})
    assert applied.status_code in (302, 404, 409, 422)


def test_numbers_typed_into_forms_go_to_the_schema_as_typed(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    for raw in ("²", "inf", "nan", "1e999", "١٢"):
        response = client.post("/builder/objects/account/fields/new", data={
            "csrf_token": token, "type": "number", "api_name": "score", "scale": raw,
            "min": raw})
        assert response.status_code == 422, raw
        assert 'id="e-scale"' in response.get_data(as_text=True)
    days = client.post("/builder/flows/new", data={
        "csrf_token": token, "kind": "automation", "api_name": "later",
        "object": "opportunity", "trigger": "after_date", "trigger_date_field": "close_date",
        "trigger_days": "²", "actions_count": "1", "actions0_kind": "update",
        "actions0_update_field": ["probability"], "actions0_update_value": ["1"]})
    assert days.status_code == 422 and "²" in days.get_data(as_text=True)


def test_the_metadata_api_refuses_a_version_that_is_not_a_number(client, browser_session):
    token = signed_in(client, "admin", browser_session)
    for version in ("²", "١", "99999999999999999999999", "1.5"):
        response = client.put("/api/v1/meta/roles/auditor", json={
            "api_name": "auditor", "objects": {}}, headers={"X-CSRF-Token": token,
                                                           "If-Match": version})
        assert response.status_code == 400, version
        assert response.get_json()["error"]["fields"] == {"base_version": [
            "not a version number"]}
