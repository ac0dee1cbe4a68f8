"""Files and images in related lists: a record's page lists its detail records with their
pictures as thumbnails (linking to the picture) and their files as download links."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from metabiz.app import create_app, prepare_database
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer
from tests.objects.test_record_files import DESK, picture

VISIT = {"api_name": "visit", "label": {"en": "Visit", "zh": "上门"}, "name_field": "note",
         "fields": [{"api_name": "note", "type": "text", "required": True},
                    {"api_name": "incident", "type": "master_detail", "target": "incident"},
                    {"api_name": "photo", "type": "image"},
                    {"api_name": "sheet", "type": "file"}],
         "list_views": [{"api_name": "all", "label": "All",
                         "columns": ["note", "photo", "sheet"]}]}


def test_a_related_list_shows_thumbnails_and_file_links(db_url, tmp_path: Path, extensions,
                                                        browser_session):
    shutil.copytree(DESK, tmp_path / "desk")
    (tmp_path / "desk" / "objects" / "visit.json").write_text(json.dumps(VISIT))
    engine = make_engine(db_url)
    prepare_database(engine)
    apply_path(engine, tmp_path / "desk", extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        token = create_token(conn, "admin")
    engine.dispose()
    app = create_app(Config(database_url=db_url, secret_key="k" * 32, testing=True,
                            instance_path=tmp_path / "instance"))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    incident = client.post("/api/v1/records/incident", json={"subject": "Pump leaks"},
                           headers=auth).get_json()["id"]
    visit = client.post("/api/v1/records/visit", json={"note": "First visit",
                                                       "incident": incident},
                        headers=auth).get_json()["id"]
    for field, name, data in (("photo", "pump.png", picture((60, 40), "PNG")),
                              ("sheet", "visit.txt", b"done\n")):
        sent = client.post(f"/api/v1/records/visit/{visit}/files/{field}", headers=auth,
                           data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
        assert sent.status_code == 201, sent.get_json()
    browser_session(client, "admin")
    page = client.get(f"/o/incident/{incident}").get_data(as_text=True)
    url = f"/api/v1/records/visit/{visit}/files"
    assert f'<a class="file-image" href="{url}/photo"><img class="thumb" ' \
           f'src="{url}/photo?thumbnail=1" alt="pump.png"' in page
    assert f'href="{url}/sheet">visit.txt</a>' in page
    app.extensions["metabiz"].engine.dispose()
