"""The import page in a real browser: upload a file, fix the pre-filled column mapping, check
the preview, import, and watch the htmx progress bar finish (a job worker runs beside the
server); then the list's Export menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_upload_map_preview_import_and_progress(page: Any, sheet_server: str, password: str,
                                                tmp_path: Path) -> None:
    page.goto(f"{sheet_server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.goto(f"{sheet_server}/o/opportunity")
    page.click("text=Import")
    assert page.url.endswith("/o/opportunity/import")
    rows = "".join(f"Imported {n},Acme Corp,Negotiation,{n * 10},2027-01-{n % 28 + 1:02d}\n"
                   for n in range(1, 301))
    sheet = tmp_path / "deals.csv"
    sheet.write_text("Name,Customer,Stage,Amount,Close date\n" + rows
                     + "Broken,Acme Corp,Negotiation,lots,2027-01-01\n", encoding="utf-8")
    page.set_input_files("#sheet-file", str(sheet))
    page.click("text=Upload and map columns")
    # pre-filled from the headers; "Customer" matches no field, so the user picks Account
    assert page.input_value("#map-0") == "name"
    assert page.input_value("#map-2") == "stage"
    assert page.input_value("#map-1") == ""
    page.select_option("#map-1", "account")
    page.click("text=Check the preview again")
    page.wait_for_selector("#sheet-mapping-body .sheet-preview")
    assert page.locator(".sheet-bad-row").count() == 0  # the bad row is past the preview
    page.check("input[name=skip_bad_rows]")
    page.click("text=Import all rows")
    page.wait_for_selector("#sheet-done", timeout=20_000)
    done = page.inner_text("#sheet-status")
    assert "300 created, 0 updated, 1 bad rows" in done
    assert "Row 302, Amount: 'lots': not a number" in done
    assert page.locator("progress.sheet-progress").get_attribute("value") == "1"
    with page.expect_download() as download:
        page.click("#sheet-report")
    assert download.value.suggested_filename == "deals-errors.csv"
    page.click("text=Back to the list")
    page.fill("#list-search", "Imported 3")
    page.click("button:has-text('Search')")
    assert "Imported 300" in page.inner_text("main")
    page.click("summary:has-text('Export')")
    with page.expect_download() as exported:
        page.click("text=Export Excel (.xlsx)")
    assert exported.value.suggested_filename == "opportunity.xlsx"
