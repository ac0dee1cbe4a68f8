"""The OpenAPI document lists the reports' endpoints (through the kernel's `add_openapi`), with
the reports and dashboards the caller may open and the errors each path gives; the flows'
and spreadsheets' endpoints are there as well."""

from __future__ import annotations


def document(call, user: str) -> dict:
    response = call(user, "/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def name_values(path_item: dict) -> list[str] | None:
    (name,) = [p for p in path_item["parameters"] if p["name"] == "name"]
    return name["schema"].get("enum")


def test_the_document_lists_the_reports_a_user_may_run_and_their_errors(call):
    paths = document(call, "alice")["paths"]
    assert name_values(paths["/reports/{name}"]) == ["by_month", "costs", "pipeline", "totals"]
    assert name_values(paths["/dashboards/{name}"]) == ["sales_home"]
    run = paths["/reports/{name}"]["get"]
    assert {"200", "400", "401", "403", "404"} <= set(run["responses"])
    assert [p["name"] for p in run["parameters"]] == ["filter"]
    download = paths["/reports/{name}/export"]["get"]["responses"]["200"]["content"]
    assert set(download) == {"text/csv", "application/vnd.openxmlformats-officedocument."
                                         "spreadsheetml.sheet"}
    assert "/reports" in paths and "/dashboards" in paths
    # a support agent reads no deal: no report to name, and no dashboard of hers
    paths = document(call, "sam")["paths"]
    assert name_values(paths["/reports/{name}"]) is None
    assert name_values(paths["/dashboards/{name}"]) is None


def test_the_document_lists_the_flows_and_spreadsheets_endpoints(call):
    paths = document(call, "alice")["paths"]
    assert {"/approvals", "/approvals/{request}", "/approvals/{request}/{action}",
            "/notifications", "/notifications/read", "/imports/{import}",
            "/imports/{import}/report", "/imports/deal", "/records/deal/export"} <= set(paths)
    assert "400" in paths["/records/deal/export"]["get"]["responses"]
    assert "422" in paths["/imports/deal"]["post"]["responses"]
    # dealapp has no approval flow: no record has approvals to submit
    assert not [p for p in paths if p.endswith("/approvals") and p.startswith("/records/")]
