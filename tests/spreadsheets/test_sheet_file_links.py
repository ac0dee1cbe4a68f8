"""Files and images in exports and imports: an export writes each file as a link to its
download (absolute, a hyperlink in XLSX); importing that column leaves it out with a note,
so an exported file imports as it is — on both databases."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from openpyxl import load_workbook

from metabiz.flows.worker import run_worker
from metabiz.platform.auth import load_actor
from metabiz.spreadsheets.importer import import_file
from tests.objects.test_record_files import Api, make_app, new_incident, picture


def test_exports_link_files_and_imports_leave_them_out(db_url, tmp_path, extensions):
    app, tokens = make_app(db_url, tmp_path, extensions)
    api = Api(app, tokens)
    record = new_incident(api)
    assert api.upload(record, "photo", "leak.jpg", picture()).status_code == 201
    plain = new_incident(api)  # no photo: an empty cell

    exported = api("get", "/records/incident/export?fields=subject,photo&sort=id", "admin")
    assert exported.status_code == 200, exported.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    link = f"http://localhost/api/v1/records/incident/{record}/files/photo"
    assert rows == [["subject", "photo"], ["Pump leaks", link], ["Pump leaks", ""]]
    # the link downloads the photo for whoever may read the record
    assert api("get", link.removeprefix("http://localhost/api/v1")).data == picture()

    xlsx = api("get", "/records/incident/export?format=xlsx&fields=id,photo&sort=id", "admin")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet["B2"].value == link and sheet["B2"].hyperlink.target == link
    assert sheet["A3"].value == plain and sheet["B3"].value is None

    services = app.extensions["metabiz"]
    with services.engine.connect() as conn:
        admin = load_actor(conn, "admin")
    result = import_file(services.engine, services.runtime, admin, "incident", "incidents.csv",
                         exported.data)
    assert result.errors == [] and result.created == 2
    assert "column photo: not imported (files and images are attached on the record page)" \
        in result.notes
    listed = api("get", "/records/incident?sort=id&limit=10", "admin").get_json()["records"]
    assert [r["photo"] is None for r in listed] == [False, True, True, True]


def test_the_mapping_page_leaves_a_file_column_out_and_says_why(db_url, tmp_path, extensions,
                                                                browser_session):
    app, tokens = make_app(db_url, tmp_path, extensions)
    client = app.test_client()
    browser_session(client, "admin")
    page = client.get("/o/incident/import?lang=zh").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    content = "subject,Photo\nPump leaks,http://localhost/api/v1/records/incident/1/files/photo\n"
    sent = client.post("/o/incident/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "incidents.csv")},
        content_type="multipart/form-data")
    assert sent.status_code == 302
    mapping = client.get(sent.headers["Location"] + "?lang=zh").get_data(as_text=True)
    assert "文件和图片不会导入：请在记录页面上传" in mapping
    assert '<option value="subject" selected>' in mapping
    assert 'value="photo"' not in mapping  # not offered: it cannot be imported
    english = client.get(sent.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "files and images are not imported: attach them on the record page" in english
    # imported: the column is listed as left out, in the user's language (the API's import
    # of the same file says why: see the test above)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', english)[1]
    started = client.post(sent.headers["Location"] + "/start",
                          data={"csrf_token": token, "map-0": "subject", "map-1": ""})
    assert started.status_code == 302
    services = app.extensions["metabiz"]
    run_worker(services.engine, once=True, secret="k", runtime=services.runtime)
    done = client.get(sent.headers["Location"] + "/progress?lang=zh").get_data(as_text=True)
    assert "导入完成" in done and "未导入的列: Photo（未选择字段）" in done
    done = client.get(sent.headers["Location"] + "/progress?lang=en").get_data(as_text=True)
    assert "Left out: Photo (no field chosen)" in done


def test_a_file_with_a_bad_row_says_so_in_the_users_words(db_url, tmp_path, extensions,
                                                          browser_session):
    app, _ = make_app(db_url, tmp_path, extensions)
    client = app.test_client()
    browser_session(client, "admin")
    page = client.get("/o/incident/import").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)[1]
    content = "subject,amount\nPump leaks,120\nValve stuck,lots\nFan noise,80\n"
    sent = client.post("/o/incident/import", data={
        "csrf_token": token, "file": (io.BytesIO(content.encode()), "incidents.csv")},
        content_type="multipart/form-data")
    started = client.post(sent.headers["Location"] + "/start", data={
        "csrf_token": token, "map-0": "subject", "map-1": "amount"})
    assert started.status_code == 302
    services = app.extensions["metabiz"]
    run_worker(services.engine, once=True, secret="k", runtime=services.runtime)
    done = client.get(sent.headers["Location"] + "/progress").get_data(as_text=True)
    assert "Nothing was imported" in done and "Row 3, amount" in done
    assert "1 of 3 rows have problems, so nothing was written." in done
    assert "nothing written: 1 of 3 rows are bad" not in done
    zh = client.get(sent.headers["Location"] + "/progress?lang=zh").get_data(as_text=True)
    assert "3 行中有 1 行有问题，因此未写入任何数据。" in zh
    assert "'lots'：不是数字" in unescape(zh)  # the cell's problem in Chinese too
