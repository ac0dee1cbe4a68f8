"""Stored files that no record names do not pile up: a save that rolls back takes its new
blobs with it (the old ones stay), and `metabiz files sweep` deletes the orphans older than
a few hours — never a file a record names, a removed field's kept files included — in a
folder and on an S3-compatible store, on both databases."""

from __future__ import annotations

import io
import json
import os
import re
import time

import pytest
from click.testing import CliRunner

from metabiz.cli import main
from metabiz.objects import files
from metabiz.objects.evolution import apply_path
from metabiz.objects.work import app_storage
from metabiz.platform.db import make_engine
from tests.objects.test_record_files import (  # noqa: F401 - s3_server is a fixture
    Api,
    make_app,
    new_incident,
    picture,
    s3_server,
    stored_files,
)
from tests.objects.test_record_files_pages import service


def csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]


def test_a_save_that_rolls_back_takes_its_new_files_with_it(db_url, tmp_path, extensions,
                                                            browser_session):
    app, tokens = make_app(db_url, tmp_path, extensions)
    root = tmp_path / "instance" / "files"
    client = app.test_client()
    browser_session(client, "erin")
    # a good photo and a refused report in one form: nothing saved, nothing stored
    sent = client.post("/o/incident/new", data={
        "csrf_token": csrf(client, "/o/incident/new"), "subject": "Pump leaks",
        "photo": (io.BytesIO(picture()), "leak.jpg"),
        "report": (io.BytesIO(b"MZ"), "tool.exe")}, content_type="multipart/form-data")
    assert sent.status_code == 422
    assert stored_files(root) == []
    # a record with a photo; a later save that fails keeps the photo it had
    api = Api(app, tokens)
    record = new_incident(api)
    api.upload(record, "photo", "first.jpg", picture())
    kept = stored_files(root)
    with pytest.raises(RuntimeError), service(app) as ctx:
        files.attach(ctx, app_storage(), "incident", record, "photo", "second.jpg",
                     picture((300, 200)))
        assert len(stored_files(root)) == 4  # stored before the save...
        raise RuntimeError("the rest of the save failed")
    assert stored_files(root) == kept  # ...and gone with its rollback
    assert api("get", f"/records/incident/{record}/files/photo").data == picture()


def sweep(db_url: str, *args: str):
    return CliRunner().invoke(main, ["files", "sweep", "--database-url", db_url, *args])


def test_sweep_deletes_old_orphans_only(db_url, tmp_path, extensions, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the CLI's instance/ is the app's
    app, tokens = make_app(db_url, tmp_path, extensions)
    api = Api(app, tokens)
    record = new_incident(api)
    api.upload(record, "photo", "leak.jpg", picture())
    api.upload(record, "report", "visit.txt", b"done\n")
    root = tmp_path / "instance" / "files"
    orphan = root / "incident" / "99" / "photo" / "dead" / "lost.jpg"
    young = root / "incident" / "98" / "photo" / "new" / "uploading.jpg"
    partial = root / "incident" / "97" / "report" / "cut" / "half.txt.part"
    for path in (orphan, young, partial):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
    two_days_ago = time.time() - 48 * 3600
    for path in [*root.rglob("*")]:
        if path.is_file() and path != young:
            os.utime(path, (two_days_ago, two_days_ago))
    # the report field is removed from the metadata: its column, and its file, are kept
    desk = tmp_path / "desk" / "objects" / "incident.json"
    doc = json.loads(desk.read_text())
    doc["fields"] = [f for f in doc["fields"] if f["api_name"] != "report"]
    desk.write_text(json.dumps(doc))
    engine = make_engine(db_url)
    apply_path(engine, tmp_path / "desk", extensions=extensions)
    engine.dispose()

    listed = sweep(db_url, "--dry-run")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == [
        "incident/97/report/cut/half.txt.part", "incident/99/photo/dead/lost.jpg"]
    assert lines[-1] == ("would delete 2 orphaned files (older than 24 hours); "
                         "3 stored files are in use")
    assert orphan.exists()
    done = sweep(db_url, "--older-than", "1")
    assert done.exit_code == 0 and "deleted 2 orphaned files" in done.output, done.output
    assert not orphan.exists() and not partial.exists() and young.exists()
    left = [p for p in stored_files(root) if not p.startswith("incident/98/")]
    assert len(left) == 3 and any(p.endswith("visit.txt") for p in left)
    assert api("get", f"/records/incident/{record}/files/photo").data == picture()
    # the young one goes once it is old enough
    assert "deleted 1 orphaned" in sweep(db_url, "--older-than", "0").output
    assert not young.exists()


def test_sweep_on_an_s3_compatible_store(db_url, tmp_path, extensions, s3_server,  # noqa: F811
                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METABIZ_FILES", "s3://desk-files/sweep")
    app, tokens = make_app(db_url, tmp_path, extensions, "s3://desk-files/sweep")
    api = Api(app, tokens)
    record = new_incident(api)
    api.upload(record, "photo", "leak.jpg", picture())
    s3_server.put_object(Bucket="desk-files", Key="sweep/incident/5/photo/x/lost.jpg", Body=b"x")
    s3_server.put_object(Bucket="desk-files", Key="other/keep.jpg", Body=b"x")
    assert "deleted 0 orphaned" in sweep(db_url).output  # all younger than a day
    done = sweep(db_url, "--older-than", "0")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0].startswith("incident/5/photo/x/lost.jpg\t")
    keys = sorted(o["Key"] for o in s3_server.list_objects_v2(
        Bucket="desk-files")["Contents"])
    assert "sweep/incident/5/photo/x/lost.jpg" not in keys
    assert "other/keep.jpg" in keys  # another prefix is another site's
    assert len([k for k in keys if k.startswith("sweep/")]) == 2  # the photo, its thumbnail
    assert api("get", f"/records/incident/{record}/files/photo").data == picture()
