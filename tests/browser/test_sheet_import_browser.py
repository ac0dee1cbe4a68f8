"""The import page in a real browser: upload a file, fix the pre-filled column mapping, check
the preview, import, and watch the htmx progress bar finish (a job worker runs beside the
server); then the list's Export menu."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD, _app_folder, _seed
from werkzeug.serving import make_server

from metabiz.app import build_runtime, create_app
from metabiz.flows.worker import run_worker
from metabiz.platform.config import Config


@pytest.fixture(scope="module")
def sheet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own (imports change the data) with a job worker polling every 0.2 s."""
    root = tmp_path_factory.mktemp("sheets-browser")
    url = f"sqlite:///{root}/metabiz.db"
    _seed(url, _app_folder(root))
    app = create_app(Config(database_url=url, secret_key="browser-tests", instance_path=root))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    engine = app.extensions["metabiz"].engine
    stop = threading.Event()
    threads = [threading.Thread(target=httpd.serve_forever, daemon=True),
               threading.Thread(target=run_worker, daemon=True, args=(engine,), kwargs={
                   "runtime": build_runtime(engine), "secret": "browser-tests", "stop": stop,
                   "poll_seconds": 0.2})]
    for thread in threads:
        thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        stop.set()
        httpd.shutdown()
        for thread in threads:
            thread.join(timeout=10)
        engine.dispose()


def test_upload_map_preview_import_and_progress(page: Any, sheet_server: str,
                                                tmp_path: Path) -> None:
    page.goto(f"{sheet_server}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
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
