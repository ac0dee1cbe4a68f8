"""Files and images on the generated pages: chosen in the form (multipart), shown on the
detail page and in related lists, removed from the form; and a form save that leaves a
value as shown leaves it alone (no rewritten seconds, no history entry)."""

from __future__ import annotations

import io
import re

import pytest
from test_record_files import make_app, picture

from metabiz.objects import query, records
from metabiz.objects.work import unit_of_work
from metabiz.platform.auth import load_actor


@pytest.fixture
def app(db_url, tmp_path, extensions):
    app, _ = make_app(db_url, tmp_path, extensions)
    return app


@pytest.fixture
def client(app, browser_session):
    client = app.test_client()
    browser_session(client, "erin")
    return client


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def service(app, user="erin"):
    class Unit:
        def __enter__(self):
            self.ctx = app.app_context()
            self.ctx.push()
            engine = app.extensions["metabiz"].engine
            with engine.connect() as conn:
                actor = load_actor(conn, user)
            self.work = unit_of_work(actor, write=True)
            return self.work.__enter__()

        def __exit__(self, *exc):
            try:
                return self.work.__exit__(*exc)
            finally:
                self.ctx.pop()

    return Unit()


def test_a_photo_chosen_in_the_new_form_shows_on_the_record(client):
    form = client.get("/o/incident/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    assert 'type="file" id="f-photo" name="photo" accept="image/*"' in form
    assert 'accept=".pdf,.txt"' in form
    sent = client.post("/o/incident/new", data={
        "csrf_token": csrf(client, "/o/incident/new"), "subject": "Pump leaks",
        "photo": (io.BytesIO(picture()), "leak.jpg")}, content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    detail = client.get(sent.headers["Location"]).get_data(as_text=True)
    record_id = sent.headers["Location"].rsplit("/", 1)[1]
    url = f"/api/v1/records/incident/{record_id}/files/photo"
    assert f'<a class="file-image" href="{url}"><img class="thumb" src="{url}?thumbnail=1" ' \
           'alt="leak.jpg"' in detail
    assert client.get(f"{url}?thumbnail=1").headers["Content-Type"] == "image/png"


def test_a_refused_file_shows_by_its_field_and_saves_nothing(client, app):
    sent = client.post("/o/incident/new", data={
        "csrf_token": csrf(client, "/o/incident/new"), "subject": "Pump leaks",
        "report": (io.BytesIO(b"MZ"), "tool.exe")}, content_type="multipart/form-data")
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "only these file types: pdf, .txt" in page
    with service(app) as ctx:
        assert query.list_records(ctx, "incident").total == 0


def test_replace_and_remove_from_the_edit_form(client, app):
    with service(app) as ctx:
        record = records.create(ctx, "incident", {"subject": "Pump leaks"})
    path = f"/o/incident/{record['id']}/edit"
    client.post(path, data={"csrf_token": csrf(client, path), "version": "1",
                            "report": (io.BytesIO(b"first\n"), "first.txt")},
                content_type="multipart/form-data")
    form = client.get(path).get_data(as_text=True)
    assert ">first.txt</a>" in form and 'name="_remove_report"' in form
    detail = client.get(f"/o/incident/{record['id']}").get_data(as_text=True)
    assert f'href="/api/v1/records/incident/{record["id"]}/files/report">first.txt</a>' \
        in detail
    client.post(path, data={"csrf_token": csrf(client, path), "version": "2",
                            "_remove_report": "1"}, content_type="multipart/form-data")
    with service(app) as ctx:
        assert records.get(ctx, "incident", record["id"])["report"] is None


def test_an_untouched_datetime_keeps_its_seconds_and_logs_nothing(client, app):
    with service(app) as ctx:
        record = records.create(ctx, "incident", {"subject": "Pump leaks",
                                                  "visited_at": "2026-11-23T04:02:44Z",
                                                  "amount": "12.50"})
    path = f"/o/incident/{record['id']}/edit"
    form = client.get(path).get_data(as_text=True)
    assert re.search(r'name="visited_at"[^>]*value="2026-11-23T04:02"', form)
    saved = client.post(path, data={"csrf_token": csrf(client, path), "version": "1",
                                    "subject": "Pump leaks", "visited_at": "2026-11-23T04:02",
                                    "amount": "12.50"})
    assert saved.status_code == 302
    with service(app) as ctx:
        after = records.get(ctx, "incident", record["id"])
        assert after["visited_at"] == "2026-11-23T04:02:44Z" and after["version"] == 1
        assert records.history(ctx, "incident", record["id"]) == []
    # a value the user does change is saved as typed
    client.post(path, data={"csrf_token": csrf(client, path), "version": "1",
                            "subject": "Pump leaks", "visited_at": "2026-11-23T05:00"})
    with service(app) as ctx:
        assert records.get(ctx, "incident", record["id"])["visited_at"] == "2026-11-23T05:00:00Z"
        assert [h["field"] for h in records.history(ctx, "incident", record["id"])] == [
            "visited_at"]
