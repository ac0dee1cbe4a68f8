"""`metabiz import` as a person uses it: values as typed, every bad row reported, nothing
half-written, upserts, and clear refusals of files that are not sheets."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from metabiz.platform.access import SYSTEM
from metabiz.spreadsheets.importer import ImportOptions, import_file

HEADER = "name,account,stage,amount,close_date,code,owner\n"


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_values_are_read_as_people_type_them(cli, rows, tmp_path):
    path = write(tmp_path, "deals.csv",
                 "Name,Account,阶段,amount,close_date,code,owner,probability\n"
                 'Big deal,Acme Corp,初步接洽,"1,234.50",2026/11/23,C-1,Alice Chen,15%\n'
                 "Small deal,globex,Closed Won,99,2026-12-01,C-2,alice,\n", "utf-8-sig")
    result = cli("import", "opportunity", path)
    assert result.exit_code == 0, result.output
    assert "imported 2 opportunity rows: 2 created, 0 updated" in result.stdout
    big, small = rows("opportunity")
    assert big["name"] == "Big deal" and big["amount"] == 1234.5
    assert big["account"] == 1 and big["stage"] == "prospecting"
    assert big["close_date"] == "2026-11-23" and big["owner"] == "alice"
    assert big["probability"] == 15
    assert small["account"] == 2 and small["stage"] == "closed_won"
    assert small["probability"] == 10  # a blank cell takes the field's default


def test_gb18030_csv_from_chinese_excel(cli, rows, tmp_path):
    path = write(tmp_path, "商机.csv", "名称,阶段,金额\n华东大单,初步接洽,\"5,000\"\n",
                 "gb18030")
    result = cli("import", "opportunity", path)
    assert result.exit_code == 0, result.output
    [deal] = rows("opportunity")
    assert deal["name"] == "华东大单" and deal["stage"] == "prospecting"
    assert deal["amount"] == 5000


def test_every_bad_row_of_2000_is_reported_and_nothing_written(count, cli, rows, engine, tmp_path):
    lines = [HEADER]
    bad = {}
    for n in range(2, 2002):  # file lines 2..2001
        amount, date, stage, account = str(n * 10), "2026-11-23", "negotiation", "Acme Corp"
        if n == 17:
            amount = "12abc"
            bad[n] = "column amount: '12abc': not a number"
        elif n == 500:
            date = "2026-02-30"
            bad[n] = "column close_date: '2026-02-30': no such day: 2026-02-30"
        elif n == 1234:
            amount = "-5"
            bad[n] = "column amount: Amount cannot be negative"
        elif n == 1500:
            account = "Nobody Inc"
            bad[n] = "column account: no account record named 'Nobody Inc'"
        elif n == 1999:
            stage = "lost"
            bad[n] = "column stage: 'lost': not one of the picklist's values or labels"
        code = "DUP" if n in (30, 1800) else f"C-{n}"
        lines.append(f"Deal {n},{account},{stage},{amount},{date},{code},alice\n")
    bad[1800] = "column code: 'DUP' is already used by another opportunity record"
    path = write(tmp_path, "big.csv", "".join(lines))
    result = cli("import", "opportunity", path)
    assert result.exit_code == 1
    reported = [line for line in result.stderr.splitlines() if line.startswith("row ")]
    assert reported == [f"row {n}, {message}" for n, message in sorted(bad.items())]
    assert "nothing written: 6 of 2000 rows are bad" in result.stderr
    assert count("obj_opportunity") == 0

    skipped = cli("import", "opportunity", path, "--skip-bad-rows")
    assert skipped.exit_code == 0, skipped.output
    assert "imported 1994 opportunity rows: 1994 created, 0 updated; 6 bad rows skipped" \
        in skipped.stdout
    assert count("obj_opportunity") == 1994


def test_dry_run_checks_everything_and_writes_nothing(count, cli, engine, tmp_path):
    path = write(tmp_path, "deals.csv", HEADER + "A,Acme Corp,negotiation,5,2026-01-01,C-1,\n")
    result = cli("import", "opportunity", path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: 1 rows checked, 0 bad; would import (1 created, 0 updated); nothing " \
           "written" in result.stdout
    assert count("obj_opportunity") == 0
    bad = write(tmp_path, "bad.csv", HEADER + "A,Acme Corp,negotiation,x,2026-01-01,C-1,\n")
    failed = cli("import", "opportunity", bad, "--dry-run")
    assert failed.exit_code == 1 and "row 2, column amount: 'x': not a number" in failed.stderr


def test_upsert_by_key_updates_matches_and_creates_the_rest(cli, rows, tmp_path):
    first = write(tmp_path, "first.csv", HEADER + "One,Acme Corp,negotiation,100,,K-1,\n"
                                                  "Two,Globex,negotiation,200,,K-2,\n")
    assert cli("import", "opportunity", first).exit_code == 0
    second = write(tmp_path, "second.csv",
                   "code,amount,stage\nK-2,250,Closed Won\nK-3,300,\nK-2,1,\n")
    result = cli("import", "opportunity", second, "--key", "code")
    # K-2 twice: the second is refused; the rest is not written either
    assert result.exit_code == 1
    assert "row 4, column code: 'K-2' is also the key of row 2" in result.stderr
    assert "row 2: A won deal needs a close date" in result.stderr
    fixed = write(tmp_path, "fixed.csv",
                  "code,amount,stage,close_date,name\nK-2,250,Closed Won,2026-03-01,\n"
                  "K-3,300,,,Three\n")
    result = cli("import", "opportunity", fixed, "--key", "code")
    assert result.exit_code == 0, result.output
    assert "1 created, 1 updated" in result.stdout
    by_code = {r["code"]: r for r in rows("opportunity")}
    assert by_code["K-2"]["amount"] == 250 and by_code["K-2"]["stage"] == "closed_won"
    assert by_code["K-2"]["name"] == "Two"  # a blank cell leaves the field as it was
    assert by_code["K-3"]["name"] == "Three" and by_code["K-1"]["amount"] == 100
    assert by_code["K-2"]["version"] == 2


def test_upsert_by_id(cli, rows, tmp_path):
    assert cli("import", "opportunity",
               write(tmp_path, "a.csv", "name,amount\nFirst,1\n")).exit_code == 0
    [record] = rows("opportunity")
    result = cli("import", "opportunity",
                 write(tmp_path, "b.csv", f"id,amount\n{record['id']},7\n999,8\n"),
                 "--key", "id")
    assert result.exit_code == 1
    assert "row 3, column id: no opportunity record with id 999" in result.stderr
    result = cli("import", "opportunity",
                 write(tmp_path, "c.csv", f"id,amount\n{record['id']},7\n"), "--key", "id")
    assert result.exit_code == 0, result.output
    assert rows("opportunity")[0]["amount"] == 7


def test_bad_files_are_refused_with_a_clear_message(count, cli, engine, tmp_path):
    cases = {
        "notes.pdf": (b"%PDF-1.4 binary", "not a CSV or XLSX file (.pdf)"),
        "old.xls": (b"\xd0\xcf\x11\xe0", ".xls files are not read; save the sheet as .xlsx"),
        "empty.csv": (b"", "the file is empty: row 1 must hold the column names"),
        "blank.csv": (b"\n\n", "the file is empty: row 1 must hold the column names"),
        "binary.csv": (b"name\x00\x01\x02", "not a CSV file (binary content"),
        "fake.xlsx": (b"name,amount\n", "not an XLSX workbook"),
        "nothing.csv": ("name,amout,利润\nA,1,2\n".encode(),
                        "row 1, column amout: 'amout' matches no field of opportunity"),
        "twice.csv": (b"name,Name\nA,B\n",
                      "row 1, column Name: 'Name' is a second column for name (column name "
                      "is the first)"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        result = cli("import", "opportunity", str(path))
        assert result.exit_code == 1, (name, result.output)
        assert message in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.output
    assert "row 1, column 利润: '利润' matches no field" in cli("import", "opportunity",
                                            str(tmp_path / "nothing.csv")).stderr
    rows = HEADER + "A,,negotiation,1,,C-1,,extra\n" + "B,,negotiation," + "9" * 1_048_576 + \
        ",,C-2,\n"
    result = cli("import", "opportunity", write(tmp_path, "cells.csv", rows))
    assert result.exit_code == 1
    assert "row 2, column H: 8 cells but the header has 7 columns" in result.stderr
    assert "row 3, column amount: the cell holds 1,048,576 characters; a cell may hold at " \
           "most 32,767" in result.stderr
    assert count("obj_opportunity") == 0


def test_xlsx_import_reads_typed_cells(cli, rows, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Amount", "close_date", "probability", "Stage"])
    import datetime as dt
    sheet.append(["Typed", 1234.5, dt.datetime(2026, 11, 23), 0.25, "Negotiation"])
    sheet["D2"].number_format = "0%"
    path = tmp_path / "deals.xlsx"
    book.save(path)
    result = cli("import", "opportunity", str(path))
    assert result.exit_code == 0, result.output
    [deal] = rows("opportunity")
    assert deal["amount"] == 1234.5 and deal["close_date"] == "2026-11-23"
    assert deal["probability"] == 25 and deal["stage"] == "negotiation"


def test_rights_and_columns_the_role_may_not_set(cli, rows, tmp_path):
    path = write(tmp_path, "deals.csv", "name,discount,weighted_amount\nA,5,100\n")
    refused = cli("import", "opportunity", path, "--as", "bob")
    assert refused.exit_code == 1 and "your role may not import opportunity records" \
        in refused.stderr
    result = cli("import", "opportunity", path, "--as", "alice")
    assert result.exit_code == 0, result.output
    assert "column discount: not imported (read-only for your role)" in result.stderr
    assert "column weighted_amount: not imported (computed by metabiz)" in result.stderr
    [deal] = rows("opportunity")
    assert deal["owner"] == "alice" and deal["discount"] is None


def test_utf16_tab_and_semicolon_files(cli, rows, tmp_path):
    tabbed = tmp_path / "unicode.txt"
    tabbed.write_bytes("name\tamount\n制表符\t1\n".encode("utf-16"))
    assert cli("import", "opportunity", str(tabbed)).exit_code == 0
    european = write(tmp_path, "eu.csv", "name;amount\nSemi;2\n", "utf-8-sig")
    assert cli("import", "opportunity", european).exit_code == 0
    assert [(r["name"], r["amount"]) for r in rows("opportunity")] == [("制表符", 1),
                                                                         ("Semi", 2)]


def test_progress_is_reported_batch_by_batch(engine, runtime):
    seen: list[tuple[int, int, int]] = []
    data = ("name,amount\n" + "".join(f"D{n},{n}\n" for n in range(5))).encode()
    result = import_file(engine, runtime, SYSTEM, "opportunity", "d.csv", data,
                         ImportOptions(batch=2),
                         lambda r: seen.append((r.processed, r.total, r.created)))
    assert seen == [(2, 5, 2), (4, 5, 4), (5, 5, 5)]
    assert result.written and result.created == 5
