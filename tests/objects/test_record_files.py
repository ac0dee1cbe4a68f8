"""File and image fields through the REST API: upload with size, extension and picture
checks, download with the record's read access, thumbnails, removal, deletion with the
record — in a folder and on an S3-compatible store (moto's server), on both databases."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from metabiz.app import create_app, prepare_database
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

DESK = Path(__file__).resolve().parents[1] / "fixtures" / "desk"


def picture(size=(800, 600), fmt="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def make_app(db_url, tmp_path, extensions, files_setting=""):
    engine = make_engine(db_url)
    prepare_database(engine)
    shutil.copytree(DESK, tmp_path / "desk")
    apply_path(engine, tmp_path / "desk", extensions=extensions)
    tokens = {}
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "erin", "erin-pw-1", roles=["agent"])
        create_user(conn, "ken", "ken-pw-12", roles=["technician"])
        create_user(conn, "nobody", "nobody-pw", roles=[])
        for name in ("admin", "erin", "ken", "nobody"):
            tokens[name] = create_token(conn, name)
    engine.dispose()
    app = create_app(Config(database_url=db_url, secret_key="k" * 32, testing=True,
                            instance_path=tmp_path / "instance", files=files_setting))
    return app, tokens


class Api:
    def __init__(self, app, tokens):
        self.client = app.test_client()
        self.tokens = tokens

    def __call__(self, method, path, user="erin", **kw):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return getattr(self.client, method)(f"/api/v1{path}", headers=headers, **kw)

    def upload(self, record, field, name, data, user="erin"):
        return self("post", f"/records/incident/{record}/files/{field}", user,
                    data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")


@pytest.fixture
def api(db_url, tmp_path, extensions):
    app, tokens = make_app(db_url, tmp_path, extensions)
    return Api(app, tokens)


def new_incident(api):
    answer = api("post", "/records/incident", json={"subject": "Pump leaks"})
    assert answer.status_code == 201
    return answer.get_json()["id"]


def stored_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_photo_upload_thumbnail_download_and_removal(api, tmp_path):
    record = new_incident(api)
    answer = api.upload(record, "photo", "leak.jpg", picture())
    assert answer.status_code == 201, answer.get_json()
    photo = answer.get_json()["photo"]
    assert photo["name"] == "leak.jpg" and photo["content_type"] == "image/jpeg"
    assert photo["url"] == f"/api/v1/records/incident/{record}/files/photo"
    assert photo["size"] == len(picture())
    assert api("get", f"/records/incident/{record}").get_json()["photo"] == photo
    full = api("get", photo["url"].removeprefix("/api/v1"))
    assert full.status_code == 200 and full.data == picture()
    assert full.headers["Content-Type"] == "image/jpeg"
    thumb = api("get", photo["thumbnail_url"].removeprefix("/api/v1"))
    with Image.open(io.BytesIO(thumb.data)) as small:
        assert max(small.size) == 320
    # the change is in the record's history
    history = api("get", f"/records/incident/{record}/history").get_json()["history"]
    assert [h["field"] for h in history] == ["photo"]
    root = tmp_path / "instance" / "files"
    assert len(stored_files(root)) == 2  # the picture and its thumbnail
    # replacing the photo deletes the old one once saved
    api.upload(record, "photo", "second.png", picture((100, 50), "PNG"))
    assert [Path(p).name for p in stored_files(root)] == ["second.png", "second.png.thumb.png"]
    removed = api("delete", f"/records/incident/{record}/files/photo")
    assert removed.status_code == 200 and removed.get_json()["photo"] is None
    assert stored_files(root) == []
    assert api("get", f"/records/incident/{record}/files/photo").status_code == 404


def test_size_extension_and_picture_checks(api):
    record = new_incident(api)
    big = api.upload(record, "photo", "huge.jpg", b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413
    assert big.get_json()["error"]["fields"] == {"photo": ["the file is larger than 1 MB"]}
    wrong = api.upload(record, "report", "report.exe", b"MZ")
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["fields"] == {"report": ["only these file types: pdf, .txt"]}
    fake = api.upload(record, "photo", "leak.jpg", b"not a picture at all")
    assert fake.status_code == 422
    assert fake.get_json()["error"]["fields"]["photo"] == ["not a picture (JPEG, PNG, GIF or WebP)"]
    ok = api.upload(record, "report", "visit.txt", b"all fixed\n")
    assert ok.status_code == 201
    download = api("get", f"/records/incident/{record}/files/report")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == b"all fixed\n"
    # JSON cannot set a file, nor a field that is not one
    patched = api("patch", f"/records/incident/{record}", json={"report": {"name": "x"}})
    assert patched.status_code == 422
    assert api.upload(record, "subject", "a.txt", b"x").status_code == 404
    missing = api("post", f"/records/incident/{record}/files/report", data={},
                  content_type="multipart/form-data")
    assert missing.status_code == 400


def test_downloads_need_the_records_read_access(api):
    record = new_incident(api)
    api.upload(record, "report", "visit.txt", b"secret\n")
    assert api("get", f"/records/incident/{record}/files/report", "ken").status_code == 200
    assert api("get", f"/records/incident/{record}/files/report", "nobody").status_code == 403
    # reading is not editing
    assert api.upload(record, "report", "x.txt", b"x", user="ken").status_code == 403


def test_files_go_with_their_record(api, tmp_path):
    record = new_incident(api)
    api.upload(record, "photo", "leak.jpg", picture())
    api.upload(record, "report", "visit.txt", b"done\n")
    assert len(stored_files(tmp_path / "instance" / "files")) == 3
    assert api("delete", f"/records/incident/{record}", "admin").status_code == 204
    assert stored_files(tmp_path / "instance" / "files") == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_server(monkeypatch):
    """moto's S3-compatible server on a free local port, with a bucket."""
    boto3 = pytest.importorskip("boto3")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ENDPOINT_URL_S3": endpoint}.items():
        monkeypatch.setenv(name, value)
    try:
        client = boto3.client("s3")
        for _ in range(100):
            try:
                client.create_bucket(Bucket="desk-files")
                break
            except Exception:
                time.sleep(0.1)
        yield client
    finally:
        server.terminate()
        server.wait(10)


def test_files_on_an_s3_compatible_store(db_url, tmp_path, extensions, s3_server):
    app, tokens = make_app(db_url, tmp_path, extensions, "s3://desk-files/tenant-a")
    api = Api(app, tokens)
    record = new_incident(api)
    assert api.upload(record, "photo", "leak.jpg", picture()).status_code == 201
    keys = sorted(o["Key"] for o in s3_server.list_objects_v2(
        Bucket="desk-files").get("Contents", []))
    assert len(keys) == 2 and all(k.startswith(f"tenant-a/incident/{record}/photo/")
                                  for k in keys)
    assert api("get", f"/records/incident/{record}/files/photo").data == picture()
    # a second server on the same database and bucket serves the same file
    other = Api(create_app(Config(database_url=db_url, secret_key="k" * 32, testing=True,
                                  instance_path=tmp_path / "other",
                                  files="s3://desk-files/tenant-a")), tokens)
    assert other("get", f"/records/incident/{record}/files/photo").data == picture()
    assert not (tmp_path / "instance" / "files").exists()
    assert api("delete", f"/records/incident/{record}", "admin").status_code == 204
    assert s3_server.list_objects_v2(Bucket="desk-files").get("KeyCount") == 0
