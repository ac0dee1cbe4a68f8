"""Stored files travel with a backup: `metabiz backup` copies every file of the configured
store (a folder or an S3-compatible one) and `metabiz load-backup` puts them into the
target's store, so the restored database serves the same downloads — across database kinds
and from S3 to a folder and back. A store already holding files is refused."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from metabiz.app import create_app
from metabiz.platform.config import Config
from tests.objects.test_backup_load import cli, target_url  # noqa: F401 - fixture
from tests.objects.test_record_files import (  # noqa: F401 - s3_server is a fixture
    Api,
    make_app,
    new_incident,
    picture,
    s3_server,
)


def downloads(app, tokens, record: int) -> tuple[bytes, bytes, bytes]:
    api = Api(app, tokens)
    photo = api("get", f"/records/incident/{record}/files/photo")
    thumb = api("get", f"/records/incident/{record}/files/photo?thumbnail=1")
    report = api("get", f"/records/incident/{record}/files/report")
    assert [r.status_code for r in (photo, thumb, report)] == [200, 200, 200]
    return photo.data, thumb.data, report.data


def test_stored_files_round_trip_through_a_backup(db_url, target_url, tmp_path,  # noqa: F811
                                                  extensions, s3_server, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    source = "s3://desk-files/source"
    app, tokens = make_app(db_url, tmp_path, extensions, source)
    api = Api(app, tokens)
    record = new_incident(api)
    assert api.upload(record, "photo", "leak.jpg", picture()).status_code == 201
    assert api.upload(record, "report", "visit.txt", "修好了\n".encode()).status_code == 201
    before = downloads(app, tokens, record)
    assert before[0] == picture() and before[2] == "修好了\n".encode()
    app.extensions["metabiz"].engine.dispose()

    monkeypatch.setenv("METABIZ_FILES", source)
    written = cli(db_url, "backup", str(tmp_path / "snap"))
    assert written.exit_code == 0, written.output
    assert written.output.rstrip().endswith("3 files")  # the photo, its thumbnail, the report

    # S3 → a folder, on the other kind of database
    folder = tmp_path / "restored-files"
    monkeypatch.setenv("METABIZ_FILES", str(folder))
    loaded = cli(target_url, "load-backup", str(tmp_path / "snap"))
    assert loaded.exit_code == 0, loaded.output
    assert "3 files" in loaded.output
    restored = create_app(Config(database_url=target_url, secret_key="k" * 32, testing=True,
                                 instance_path=tmp_path / "t", files=str(folder)))
    assert downloads(restored, tokens, record) == before
    restored.extensions["metabiz"].engine.dispose()

    # a folder → S3: a backup of the restored site loads onto another bucket prefix
    written = cli(target_url, "backup", str(tmp_path / "snap2"))
    assert written.exit_code == 0 and "3 files" in written.output, written.output
    third = f"sqlite:///{tmp_path}/third.db"
    monkeypatch.setenv("METABIZ_FILES", "s3://desk-files/restored")
    assert cli(third, "load-backup", str(tmp_path / "snap2")).exit_code == 0
    again = create_app(Config(database_url=third, secret_key="k" * 32, testing=True,
                              instance_path=tmp_path / "u", files="s3://desk-files/restored"))
    assert downloads(again, tokens, record) == before
    again.extensions["metabiz"].engine.dispose()

    # a store that already holds files is refused, and the database is left empty
    fourth = f"sqlite:///{tmp_path}/fourth.db"
    monkeypatch.setenv("METABIZ_FILES", source)
    refused = cli(fourth, "load-backup", str(tmp_path / "snap"))
    assert refused.exit_code == 1
    assert "the file store is not empty" in refused.output
    engine = create_engine(fourth)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
