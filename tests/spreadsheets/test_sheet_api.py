"""The import and export API: 202 then a status any process reads, rights, the error report,
exports that import back as the same records, and cells a spreadsheet would run."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook


def headers(client, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[user]}"}


def upload(client, user: str, name: str, content: bytes, **form: str):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post("/api/v1/imports/opportunity", data=data, headers=headers(client, user),
                       content_type="multipart/form-data")


def status(client, user: str, import_id: int) -> dict:
    response = client.get(f"/api/v1/imports/{import_id}", headers=headers(client, user))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


GOOD = ("name,account,stage,amount,close_date,code\n"
        "Alpha,Acme Corp,negotiation,\"1,000\",2026-11-23,A-1\n"
        "Beta,Globex,初步接洽,250.5,2026/11/24,A-2\n").encode()


def test_an_import_is_a_background_job_with_status(count, client, worker, rows, engine):
    response = upload(client, "alice", "deals.csv", GOOD)
    assert response.status_code == 202
    import_id = response.get_json()["id"]
    assert response.headers["Location"] == f"/api/v1/imports/{import_id}"
    queued = status(client, "alice", import_id)
    assert queued["status"] == "running" and queued["processed"] == 0
    assert count("obj_opportunity") == 0
    assert worker() == 1
    done = status(client, "alice", import_id)
    assert {k: done[k] for k in ("status", "total", "processed", "created", "updated",
                                 "errors", "written")} == {
        "status": "done", "total": 2, "processed": 2, "created": 2, "updated": 0,
        "errors": [], "written": True}
    deals = rows("opportunity")
    assert [(d["name"], d["owner"], d["amount"]) for d in deals] == [
        ("Alpha", "alice", 1000), ("Beta", "alice", 250.5)]
    # another user does not see it; an admin does
    assert client.get(f"/api/v1/imports/{import_id}",
                      headers=headers(client, "carol")).status_code == 404
    assert status(client, "admin", import_id)["status"] == "done"


def test_bad_rows_fail_the_import_with_every_error_and_a_report(count, client, worker, engine):
    content = GOOD + b"Gamma,Nobody,negotiation,x,2026-13-01,A-3\nDelta,,,-1,,A-1\n"
    import_id = upload(client, "alice", "deals.csv", content).get_json()["id"]
    worker()
    result = status(client, "alice", import_id)
    assert result["status"] == "failed" and result["written"] is False
    assert result["message"] == "nothing written: 2 of 4 rows are bad"
    assert [(e["row"], e["field"], e["message"]) for e in result["errors"]] == [
        (4, "account", "no account record named 'Nobody'"),
        (4, "amount", "'x': not a number"),
        (4, "close_date", "'2026-13-01': no such day: 2026-13-01"),
        (5, "amount", "Amount cannot be negative")]
    assert count("obj_opportunity") == 0
    report = client.get(f"/api/v1/imports/{import_id}/report", headers=headers(client, "alice"))
    assert report.status_code == 200
    assert 'filename="deals-errors.csv"' in report.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(report.get_data().decode("utf-8-sig"))))
    assert lines[0] == ["name", "account", "stage", "amount", "close_date", "code",
                        "Import errors"]
    assert lines[1][-1] == "" and lines[3][0] == "Gamma"
    assert lines[3][-1] == ("account: no account record named 'Nobody'; amount: 'x': not a "
                            "number; close_date: '2026-13-01': no such day: 2026-13-01")
    assert lines[4][3] == "'-1"  # written so a spreadsheet does not run it
    # the report, fixed, imports as it is (its own column is left out)
    out = io.StringIO()
    csv.writer(out).writerows([
        lines[0], lines[1], lines[2],
        ["Gamma", "Acme Corp", "negotiation", "5", "2026-12-01", "A-3", "old note"],
        ["Delta", "", "", "1", "", "A-4", ""]])
    fixed = out.getvalue().encode()
    again = upload(client, "alice", "deals-errors.csv", fixed).get_json()["id"]
    worker()
    assert status(client, "alice", again)["created"] == 4


def test_skip_bad_rows_and_dry_run_through_the_api(count, client, worker, engine):
    content = GOOD + b"Gamma,,,x,,A-3\n"
    dry = upload(client, "alice", "d.csv", content, dry_run="1", skip_bad_rows="1")
    worker()
    result = status(client, "alice", dry.get_json()["id"])
    assert result["status"] == "done" and result["written"] is False
    assert result["created"] == 2 and len(result["errors"]) == 1
    assert count("obj_opportunity") == 0
    skip = upload(client, "alice", "d.csv", content, skip_bad_rows="true")
    worker()
    result = status(client, "alice", skip.get_json()["id"])
    assert result["status"] == "done" and result["written"] is True
    assert result["errors"] == [{"row": 4, "column": "amount", "field": "amount",
                                 "message": "'x': not a number"}]
    assert count("obj_opportunity") == 2


def test_bad_uploads_are_refused_at_once(count, client, engine):
    cases = [
        (upload(client, "alice", "x.pdf", b"%PDF"), 422, "not a CSV or XLSX file (.pdf)"),
        (upload(client, "alice", "x.csv", b""), 422, "the file is empty"),
        (upload(client, "alice", "x.csv", b"nme,amount\n1,2\n"), 422,
         "row 1, column nme: 'nme' matches no field of opportunity"),
        (upload(client, "alice", "x.csv", GOOD, key="nothing"), 422,
         "the key 'nothing' is not a field of opportunity"),
        (upload(client, "bob", "x.csv", GOOD), 403, "may not import opportunity records"),
        (client.post("/api/v1/imports/opportunity", headers=headers(client, "alice")), 400,
         "multipart"),
        (client.post("/api/v1/imports/nothing", headers=headers(client, "alice"),
                     data={"file": (io.BytesIO(GOOD), "x.csv")}), 404, "nothing"),
    ]
    for response, code, message in cases:
        body = response.get_json()
        assert response.status_code == code, body
        assert message in body["error"]["message"] or \
            any(message in m for ms in body["error"].get("fields", {}).values() for m in ms), \
            body
    assert client.get("/api/v1/imports/999", headers=headers(client, "alice")).status_code == 404
    assert client.get("/api/v1/imports/99999999999999999999999",
                      headers=headers(client, "alice")).status_code == 404
    # `/imports/abc` is where object abc's imports are started (POST), not an import's number
    wrong = client.get("/api/v1/imports/abc", headers=headers(client, "alice"))
    assert wrong.status_code == 405 and "GET" not in wrong.headers["Allow"]
    assert client.post("/api/v1/imports/7", headers=headers(client, "alice")).status_code == 405
    assert count("sheet_imports") == 0


def test_export_needs_the_right_and_leaves_hidden_fields_out(client, worker):
    upload(client, "alice", "deals.csv", GOOD)
    worker()
    refused = client.get("/api/v1/records/opportunity/export", headers=headers(client, "bob"))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == \
        "your role may not export opportunity records"
    response = client.get("/api/v1/records/opportunity/export?format=csv",
                          headers=headers(client, "alice"))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert "contact_email" not in lines[0]  # hidden for alice's role
    assert [(r["id"], r["name"], r["account"], r["amount"], r["owner"]) for r in lines] == [
        ("1", "Alpha", "Acme Corp", "1000.00", "alice"), ("2", "Beta", "Globex", "250.50",
                                                          "alice")]
    assert lines[0]["weighted_amount"] == "100.00"
    hidden = client.get("/api/v1/records/opportunity/export?fields=name,contact_email",
                        headers=headers(client, "alice"))
    assert hidden.status_code == 403
    bad = client.get("/api/v1/records/opportunity/export?format=pdf",
                     headers=headers(client, "alice"))
    assert bad.status_code == 400
    bad_filter = client.get("/api/v1/records/opportunity/export?filter=amount%20%3E",
                            headers=headers(client, "alice"))
    assert bad_filter.status_code == 400
    only = client.get("/api/v1/records/opportunity/export?filter=amount%20%3E%20500"
                      "&fields=name,amount", headers=headers(client, "alice"))
    assert only.get_data().decode("utf-8-sig").splitlines() == ["name,amount", "Alpha,1000.00"]


def test_round_trip_csv_and_xlsx_and_formula_cells(client, worker, rows, engine):
    content = GOOD + b"Gamma,,closed_won,3,2026-01-31,=cmd|' /C calc'!A0\n" + \
        b"Delta,Initech,negotiation,4,,@SUM(A1)\n"
    import_id = upload(client, "admin", "deals.csv", content).get_json()["id"]
    worker()
    assert status(client, "admin", import_id)["created"] == 4
    before = rows("opportunity")
    assert before[2]["code"] == "=cmd|' /C calc'!A0"
    for fmt in ("csv", "xlsx"):
        exported = client.get(f"/api/v1/records/opportunity/export?format={fmt}",
                              headers=headers(client, "admin"))
        assert exported.status_code == 200
        data = exported.get_data()
        if fmt == "csv":
            text = data.decode("utf-8-sig")
            assert "'=cmd|' /C calc'!A0" in text and "'@SUM(A1)" in text
        else:
            sheet = load_workbook(io.BytesIO(data)).active
            cells = {c.value: c for row in sheet.iter_rows() for c in row}
            formula = cells["=cmd|' /C calc'!A0"]
            assert formula.data_type == "s" and formula.quotePrefix
        # delete everything, import the export: the same records
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM obj_opportunity")
        again = upload(client, "admin", f"export.{fmt}", data).get_json()["id"]
        worker()
        result = status(client, "admin", again)
        assert result["status"] == "done" and result["created"] == 4, result
        after = rows("opportunity")
        skip = {"id", "number", "created_at", "updated_at"}
        assert [{k: v for k, v in r.items() if k not in skip} for r in after] == \
            [{k: v for k, v in r.items() if k not in skip} for r in before], fmt


def test_export_of_a_list_view_in_labels(client, worker, app_dir, engine, extensions):
    import json

    from metabiz.objects.evolution import apply_path
    path = app_dir / "objects" / "opportunity.json"
    doc = json.loads(path.read_text())
    doc["list_views"] = [{"api_name": "big", "label": "Big deals", "filter": "amount >= 500",
                          "columns": ["name", "stage", "amount"], "sort": "-amount"}]
    path.write_text(json.dumps(doc))
    apply_path(engine, app_dir, extensions=extensions)
    upload(client, "alice", "deals.csv", GOOD)
    worker()
    response = client.get("/api/v1/records/opportunity/export?view=big&headers=labels"
                          "&format=xlsx", headers=headers(client, "alice"))
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["ID", "Name", "Stage", "Amount"], [1, "Alpha", "Negotiation", 1000]]


def test_export_is_not_a_record_id(client):
    """`…/export` is the object's download, so other methods are a 405 naming GET, not a
    search for a record "export"."""
    response = client.patch("/api/v1/records/opportunity/export", json={},
                            headers=headers(client, "alice"))
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
