"""The import page and the list page's Import/Export buttons, as a signed-in user sees them."""

from __future__ import annotations

import io
import re


def csrf(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def test_list_page_buttons_follow_the_rights(client, browser_session):
    browser_session(client, "alice")
    page = client.get("/o/opportunity?q=Al&sort=-amount").get_data(as_text=True)
    assert 'href="/o/opportunity/import"' in page
    assert "/o/opportunity/export?format=csv&amp;q=Al&amp;sort=-amount" in page
    assert "/o/opportunity/export?format=xlsx" in page
    accounts = client.get("/o/account").get_data(as_text=True)
    assert "/o/account/export?format=csv" in accounts and "/o/account/import" not in accounts
    browser_session(client, "bob")
    page = client.get("/o/opportunity").get_data(as_text=True)
    assert "/import" not in page and "/export" not in page
    assert client.get("/o/opportunity/import").status_code == 403
    assert client.get("/o/opportunity/export?format=csv").status_code == 403


def test_upload_map_preview_start_and_watch(count, client, browser_session, worker, engine):
    browser_session(client, "alice")
    page = client.get("/o/opportunity/import?lang=zh").get_data(as_text=True)
    assert "导入商机" in page and "上传并映射列" in page
    token = csrf(client.get("/o/opportunity/import?lang=en").get_data(as_text=True))
    content = (b"Name,Deal size,Stage,Close date\nAlpha,100,Negotiation,2026-01-02\n"
               b"Beta,x,Prospecting,2026-01-03\n")
    response = client.post("/o/opportunity/import", data={
        "csrf_token": token, "file": (io.BytesIO(content), "deals.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    detail = response.headers["Location"]
    page = client.get(detail).get_data(as_text=True)
    # the mapping is pre-filled from the headers; "Deal size" matches nothing
    assert '<option value="name" selected>' in page
    assert '<option value="stage" selected>' in page
    assert "matches no field: choose one, or leave it out" in page
    form = {"csrf_token": token, "map-0": "name", "map-1": "amount", "map-2": "stage",
            "map-3": "close_date"}
    preview = client.post(f"{detail}/preview", data=form, headers={"HX-Request": "true"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "<html" not in body
    assert "&#39;x&#39;: not a number" in body and "sheet-bad-row" in body
    assert count("obj_opportunity") == 0  # the preview wrote nothing
    started = client.post(f"{detail}/start", data={**form, "skip_bad_rows": "1"})
    assert started.status_code == 302
    page = client.get(detail).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in page and "Waiting for the job worker" in page
    worker()
    status = client.get(f"{detail}/progress", headers={"HX-Request": "true"})
    body = status.get_data(as_text=True)
    assert "hx-trigger" not in body and "Import finished" in body
    assert "1 created, 0 updated, 1 bad rows" in body
    assert "Row 3, Deal size: &#39;x&#39;: not a number" in body
    finished = client.get(detail).get_data(as_text=True)  # the heading does not say "Importing"
    assert "<h1>Import of deals.csv</h1>" in finished
    report = client.get(f"{detail}/report")
    assert report.status_code == 200
    assert report.get_data().decode("utf-8-sig").splitlines()[1].endswith(  # bad rows only
        "Deal size: 'x': not a number")
    assert count("obj_opportunity") == 1
    recent = client.get("/o/opportunity/import").get_data(as_text=True)
    assert "Your recent imports" in recent and "deals.csv" in recent


def test_a_bad_file_is_shown_on_the_upload_page(count, client, browser_session, engine):
    browser_session(client, "alice")
    token = csrf(client.get("/o/opportunity/import").get_data(as_text=True))
    response = client.post("/o/opportunity/import", data={
        "csrf_token": token, "file": (io.BytesIO(b"\x00\x01"), "x.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "not a CSV file" in response.get_data(as_text=True)
    response = client.post("/o/opportunity/import", data={"csrf_token": token})
    assert response.status_code == 422
    assert count("sheet_imports") == 0


def test_page_export_downloads_the_list(client, browser_session, worker):
    browser_session(client, "alice")
    response = client.get("/o/opportunity/export?format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="opportunity.xlsx"' in response.headers["Content-Disposition"]
