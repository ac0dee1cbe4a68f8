"""A field technician on a phone (375 px) attaches a photo and the customer's signature to a
work order of the service template and completes it; the thumbnails show on the record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_server import serving
from PIL import Image

from metabiz.app import build_runtime, create_app, prepare_database
from metabiz.objects import installer, records
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

PASSWORD = "field-pw-1"


@pytest.fixture(scope="module")
def service_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("service-browser")
    url = f"sqlite:///{root}/metabiz.db"
    engine = make_engine(url)
    prepare_database(engine)
    runtime = build_runtime(engine)
    installer.install(runtime, "crm")
    installer.install(runtime, "service")
    with writer(engine).begin() as conn:
        create_user(conn, "erin", PASSWORD, roles=["support_agent"])
        create_user(conn, "ken", PASSWORD, roles=["field_technician"])
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        account = records.create(ctx, "account", {"name": "Acme Printing"})["id"]
        order = records.create(ctx, "work_order", {
            "subject": "Replace the fuser", "account": account, "technician": "ken",
            "status": "in_progress", "owner": "erin"})["id"]
    engine.dispose()
    app = create_app(Config(database_url=url, secret_key="browser-tests", instance_path=root))
    with serving(app) as base:
        yield base, order


def picture(path: Path, colour: tuple[int, int, int]) -> str:
    Image.new("RGB", (1200, 900), colour).save(path, "JPEG")
    return str(path)


def test_a_technician_attaches_a_photo_and_signature_on_a_phone(phone, service_server,
                                                                 tmp_path, screenshot):
    from playwright.sync_api import expect

    base, order = service_server
    phone.set_default_timeout(30_000)  # a shared, busy test machine
    phone.goto(f"{base}/login")
    phone.fill("#username", "ken")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    expect(phone.locator(".user-menu")).to_be_visible()
    phone.goto(f"{base}/o/work_order/{order}/edit")
    # completing without a signature is refused, by the field
    phone.select_option("#f-status", "completed")
    phone.fill("#f-work_notes", "Fuser replaced, test page printed.")
    phone.set_input_files("#f-photo", picture(tmp_path / "fuser.jpg", (180, 40, 40)))
    phone.click("form.record-form button[type=submit]")
    expect(phone.locator('[data-field="signature"] .field-error')).to_contain_text(
        "Attach the customer's signature")
    # the browser forgets chosen files after a refused save: choose both again
    phone.set_input_files("#f-photo", picture(tmp_path / "fuser.jpg", (180, 40, 40)))
    phone.set_input_files("#f-signature", picture(tmp_path / "signed.jpg", (240, 240, 240)))
    phone.click("form.record-form button[type=submit]")
    expect(phone).to_have_url(f"{base}/o/work_order/{order}")
    photo = phone.locator('img.thumb[alt="fuser.jpg"]')
    signature = phone.locator('img.thumb[alt="signed.jpg"]')
    for image in (photo, signature):
        image.scroll_into_view_if_needed()
        expect(image).to_be_visible()
        phone.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                arg=image.element_handle())
    assert photo.evaluate("img => img.naturalWidth") == 320  # the thumbnail, not the photo
    assert photo.evaluate("img => img.getBoundingClientRect().right") <= 375
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone, "work-order-photo-phone")
