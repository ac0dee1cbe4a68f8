"""Numbers beyond what a currency field holds are a 422 naming the field, not a database
error, on SQLite and PostgreSQL; within it PostgreSQL keeps all 18 digits."""

from __future__ import annotations

import json
import re
import shutil
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect
from test_reference_rules import desk, unit  # noqa: F401 - the desk app's fixtures

from metabiz.app import create_app, prepare_database
from metabiz.cli import main
from metabiz.errors import MetadataError, ValidationError
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer
from metabiz.platform.migrations import VERSION_TABLE


@pytest.mark.parametrize("amount", [1e30, "1e30", "12345678901234567", -1e16])
def test_a_number_too_large_for_the_field_is_refused(unit, amount):  # noqa: F811
    with pytest.raises(ValidationError) as caught, unit() as ctx:
        records.create(ctx, "incident", {"subject": "x", "amount": amount})
    assert caught.value.fields == {
        "amount": ["too large: at most 16 digits before the decimal point"]}


def test_the_largest_amount_is_kept(unit, db_url):  # noqa: F811
    with unit() as ctx:
        made = records.create(ctx, "incident", {"subject": "x", "amount": "9999999999999999"})
        assert records.get(ctx, "incident", made["id"])["amount"] == 9999999999999999


# -- the ledger app: every place SQL reads an exact column ---------------------------------

LEDGER = Path(__file__).resolve().parents[1] / "fixtures" / "ledger"
BIG = "1234567890123456.78"  # 18 significant digits: what a double cannot hold


@pytest.fixture
def ledger(db_url, tmp_path, extensions):
    engine = make_engine(db_url)
    prepare_database(engine)
    shutil.copytree(LEDGER, tmp_path / "ledger")
    apply_path(engine, tmp_path / "ledger", extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        token = create_token(conn, "admin")
    app = create_app(Config(database_url=db_url, secret_key="test",
                            instance_path=tmp_path / "instance", testing=True))
    client = app.test_client()

    def call(method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = client.open(f"/api/v1{path}", method=method, json=body,
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_data(as_text=True)

    yield SimpleNamespace(engine=engine, call=call, folder=tmp_path / "ledger",
                          extensions=extensions, client=client, token=token)
    app.extensions["metabiz"].engine.dispose()
    engine.dispose()


def amounts(text: str, field: str = "amount") -> list[Decimal]:
    return [r[field] for r in json.loads(text, parse_float=Decimal)["records"]]


def test_every_digit_comes_back_through_the_api(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    made = json.loads(ledger.call("POST", "/records/entry", {
        "name": "e", "book": book, "amount": BIG, "weight": "123456789012.345678",
        "qty": "-9999999999999999.99", "share": "12.34"}, 201), parse_float=Decimal)
    got = json.loads(ledger.call("GET", f"/records/entry/{made['id']}"), parse_float=Decimal)
    assert got["amount"] == Decimal(BIG)
    assert got["weight"] == Decimal("123456789012.345678")
    assert got["qty"] == Decimal("-9999999999999999.99")
    assert got["share"] == Decimal("12.34")
    assert got["doubled"] == Decimal("2469135780246913.56")


def test_a_json_number_keeps_every_digit(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    response = ledger.client.post(
        "/api/v1/records/entry", headers={"Authorization": f"Bearer {ledger.token}",
                                          "Content-Type": "application/json"},
        data=f'{{"name": "e", "book": {book}, "amount": {BIG}, "qty": 0.1}}')
    assert response.status_code == 201, response.get_data(as_text=True)
    assert f'"amount":{BIG},' in response.get_data(as_text=True)
    got = json.loads(ledger.call("GET", f"/records/entry/{response.get_json()['id']}"),
                     parse_float=Decimal)
    assert (got["amount"], got["qty"]) == (Decimal(BIG), Decimal("0.1"))


def test_a_value_beyond_is_a_422_naming_the_field(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    refused = json.loads(ledger.call("POST", "/records/entry", {
        "name": "e", "book": book, "weight": "1234567890123.5"}, 422))
    assert refused["error"]["fields"] == {
        "weight": ["too large: at most 12 digits before the decimal point"]}


def test_filters_and_sorting_tell_apart_the_last_cent(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    for name, amount in (("low", BIG), ("high", "1234567890123456.79"),
                         ("neg", "-1234567890123456.78")):
        ledger.call("POST", "/records/entry", {"name": name, "book": book, "amount": amount},
                    201)

    def names(query: str) -> list[str]:
        return [r["name"] for r in json.loads(ledger.call("GET", "/records/entry?" + query))[
            "records"]]

    assert names("filter=" + quote(f"amount > {BIG}")) == ["high"]
    assert names("filter=" + quote(f"amount = {BIG}")) == ["low"]
    assert names("filter=" + quote(f"amount >= -{BIG} && amount < 0")) == ["neg"]
    # arithmetic reads the real value (SQLite: the integer divided by 10^scale)
    assert sorted(names("filter=" + quote("amount * 2 > 2000000000000000"))) == ["high", "low"]
    assert names("filter=" + quote("doubled < -1000")) == ["neg"]
    assert names("sort=-amount") == ["high", "low", "neg"]
    assert names("sort=amount") == ["neg", "low", "high"]


def test_reports_sum_and_average_exactly(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    for amount in (BIG, "1234567890123456.79"):
        ledger.call("POST", "/records/entry", {"name": "e", "book": book, "amount": amount},
                    201)
    totals = json.loads(ledger.call("GET", "/reports/entry_totals"), parse_float=Decimal)
    assert totals["totals"]["amount"] == Decimal("2469135780246913.57")
    assert totals["totals"]["average"] == Decimal("1234567890123456.785")
    assert totals["totals"]["largest"] == Decimal("1234567890123456.79")
    grouped = json.loads(ledger.call("GET", "/reports/by_book"), parse_float=Decimal)
    assert grouped["totals"]["amount"] == Decimal("2469135780246913.57")
    exported = ledger.call("GET", "/reports/entry_totals/export?format=csv")
    assert "2469135780246913.57" in exported and "1234567890123456.785" in exported


def test_roll_ups_add_exactly(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    weights = ["1234567.123457", "0.000001", "2345678.876543"]
    for weight in weights:
        ledger.call("POST", "/records/entry", {"name": "e", "book": book, "weight": weight},
                    201)
    got = json.loads(ledger.call("GET", f"/records/book/{book}"), parse_float=Decimal)
    assert got["total"] == Decimal("3580246.000001")
    assert got["mean"] == Decimal("1193415.333334")
    assert got["heaviest"] == Decimal("2345678.876543")
    assert got["entries"] == 3


def test_a_scale_change_converts_the_stored_values(ledger):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    ledger.call("POST", "/records/entry", {"name": "e", "book": book, "qty": "12345.67"}, 201)
    entry = ledger.folder / "objects" / "entry.json"
    document = json.loads(entry.read_text())
    qty = next(f for f in document["fields"] if f["api_name"] == "qty")
    qty["scale"] = 4
    entry.write_text(json.dumps(document))
    plan = apply_path(ledger.engine, ledger.folder, extensions=ledger.extensions)
    assert "1 value kept exactly at 4 decimal places" in plan.render()
    assert amounts(ledger.call("GET", "/records/entry"), "qty") == [Decimal("12345.6700")]
    ledger.call("PATCH", "/records/entry/1", {"qty": "0.1234"})
    qty["scale"] = 2
    entry.write_text(json.dumps(document))
    with pytest.raises(MetadataError) as refused:
        apply_path(ledger.engine, ledger.folder, extensions=ledger.extensions)
    assert "values with more than 2 decimal places" in str(refused.value)
    ledger.call("PATCH", "/records/entry/1", {"qty": "1234567890.12"})
    apply_path(ledger.engine, ledger.folder, extensions=ledger.extensions)
    assert amounts(ledger.call("GET", "/records/entry"), "qty") == [Decimal("1234567890.12")]


def test_upgrade_turns_an_old_sqlite_databases_doubles_into_exact_amounts(
        ledger, db_url, tmp_path, monkeypatch):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    for amount, weight in (("12345678901.23", "1.5"), ("-0.07", None), (None, "0.000001")):
        ledger.call("POST", "/records/entry", {"name": "e", "book": book, "amount": amount,
                                               "weight": weight, "qty": "12.5"}, 201)
    entry = ledger.folder / "objects" / "entry.json"
    entry.write_text(entry.read_text().replace('"scale": 2', '"scale": 4'))
    apply_path(ledger.engine, ledger.folder, extensions=ledger.extensions)  # qty: 4 places
    if not db_url.startswith("sqlite"):
        return  # PostgreSQL's NUMERIC was always exact: platform_0006 changes nothing there
    with writer(ledger.engine).begin() as conn:  # as releases before 0.4 stored them
        for table, columns in (("obj_entry", {"amount": 2, "weight": 6, "qty": 4}),
                               ("obj_book", {"total": 6, "mean": 6, "heaviest": 6})):
            for column, scale in columns.items():
                conn.exec_driver_sql(f'UPDATE {table} SET "{column}" = "{column}" / '
                                     f"{10.0 ** scale!r}")
        # they left a column declared with the scale it was added with
        conn.exec_driver_sql('ALTER TABLE obj_entry RENAME COLUMN qty TO qty_then')
        conn.exec_driver_sql('ALTER TABLE obj_entry ADD COLUMN qty NUMERIC(18, 2)')
        conn.exec_driver_sql('UPDATE obj_entry SET qty = qty_then')
        conn.exec_driver_sql('ALTER TABLE obj_entry DROP COLUMN qty_then')
        assert conn.exec_driver_sql("SELECT typeof(amount) FROM obj_entry WHERE id = 1"
                                    ).scalar() == "real"
        conn.exec_driver_sql("DROP TABLE sys_recent_views")  # platform_0007_recent's
        conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = "
                             "'platform_0005_people' WHERE version_num = 'platform_0007_recent'")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["upgrade", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "platform_0006_numbers" in result.output
    entries = json.loads(ledger.call("GET", "/records/entry?sort=id"), parse_float=Decimal)
    assert [(r["amount"], r["weight"], r["qty"]) for r in entries["records"]] == [
        (Decimal("12345678901.23"), Decimal("1.5"), Decimal("12.5")),
        (Decimal("-0.07"), None, Decimal("12.5")), (None, Decimal("0.000001"), Decimal("12.5"))]
    with ledger.engine.connect() as conn:
        declared = {c["name"]: str(c["type"]) for c in inspect(conn).get_columns("obj_entry")}
    assert declared["qty"] == "NUMERIC(18, 4)"
    got = json.loads(ledger.call("GET", f"/records/book/{book}"), parse_float=Decimal)
    assert (got["total"], got["heaviest"]) == (Decimal("1.500001"), Decimal("1.5"))
    ledger.call("POST", "/records/entry", {"name": "e", "book": book, "weight": "2"}, 201)
    got = json.loads(ledger.call("GET", f"/records/book/{book}"), parse_float=Decimal)
    assert got["total"] == Decimal("3.500001")


def test_pages_show_and_save_every_digit(ledger, browser_session):
    book = json.loads(ledger.call("POST", "/records/book", {"name": "B"}, 201))["id"]
    entry = json.loads(ledger.call("POST", "/records/entry", {
        "name": "e", "book": book, "amount": BIG}, 201))["id"]
    client = ledger.client
    browser_session(client, "admin")
    detail = client.get(f"/o/entry/{entry}").get_data(as_text=True)
    assert "1,234,567,890,123,456.78" in detail
    form = client.get(f"/o/entry/{entry}/edit").get_data(as_text=True)
    assert 'value="1234567890123456.78"' in form
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', form)[1]
    saved = client.post(f"/o/entry/{entry}/edit", data={
        "csrf_token": token, "version": "1", "name": "e", "book": str(book),
        "amount": "1234567890123456.79", "weight": "", "qty": "", "share": ""})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    got = json.loads(ledger.call("GET", f"/records/entry/{entry}"), parse_float=Decimal)
    assert got["amount"] == Decimal("1234567890123456.79")
