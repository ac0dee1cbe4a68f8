"""The `metabiz` command line as an admin uses it: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from metabiz.cli import main

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"
SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"


@pytest.fixture
def run(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # instance/ (the secret key) goes here

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, [*args[:2], "--database-url", db_url, *args[2:]]
                                  if args and args[0] in GROUPS else
                                  [args[0], "--database-url", db_url, *args[1:]], input=input)

    return invoke


GROUPS = {"users", "tokens", "formula", "template"}


def test_init_apply_users_tokens(run, tmp_path):
    assert run("init").exit_code == 0
    assert run("init").exit_code == 0  # idempotent
    applied = run("apply", str(SALES))
    assert applied.exit_code == 0, applied.output
    assert "create object account (table obj_account)" in applied.output
    assert "applied as version 1" in applied.output
    created = run("users", "create", "alice", "--password", "pw1234", "--role", "sales_rep",
                  "--email", "alice@example.com")
    assert created.exit_code == 0, created.output
    duplicate = run("users", "create", "alice", "--password", "pw1234")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    token = run("tokens", "create", "alice")
    assert token.exit_code == 0 and token.output.strip().startswith("mbz_")
    assert run("tokens", "create", "ghost").exit_code == 1
    versions = run("versions")
    assert versions.exit_code == 0 and "   1  " in versions.output


def test_apply_lists_every_problem_and_exits_1(run, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(SALES, broken)
    doc = json.loads((broken / "objects" / "account.json").read_text())
    doc["fields"][1]["type"] = "picklst"
    (broken / "objects" / "account.json").write_text(json.dumps(doc))
    doc = json.loads((broken / "objects" / "opportunity.json").read_text())
    doc["fields"][2]["target"] = "nowhere"
    (broken / "objects" / "opportunity.json").write_text(json.dumps(doc))
    result = run("apply", str(broken))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert any(line.startswith("objects/account.json: /fields/1/type: ") for line in lines)
    assert any(line.startswith("objects/opportunity.json: /fields/2/target: ")
               for line in lines)
    assert "Traceback" not in result.output
    dry = run("apply", str(SALES), "--dry-run")
    assert dry.exit_code == 0 and "dry run" in dry.output
    assert run("versions").output.strip() == ""


def test_formula_check_and_eval(run):
    run("apply", str(SALES))
    ok = run("formula", "check", "amount * probability / 100", "--object", "opportunity")
    assert ok.exit_code == 0 and ok.output.strip() == "number"
    bad = run("formula", "check", "amount +* 2", "--object", "opportunity")
    assert bad.exit_code == 1
    assert bad.output.splitlines() == ["1:9: unexpected '*'", "amount +* 2", "        ^"]
    unknown = run("formula", "check", "amout", "--object", "opportunity")
    assert unknown.exit_code == 1 and "unknown field 'amout'" in unknown.output
    value = run("formula", "eval", "ROUND(amount * 1.005, 2)", "--object", "opportunity",
                "--record", '{"amount": 100}')
    assert value.exit_code == 0 and value.output.strip() == "100.5"
    text = run("formula", "eval", 'TEXT(DATE(2020, 2, 29)) & " 好"')
    assert json.loads(text.output) == "2020-02-29 好"
    division = run("formula", "eval", "1 / 0")
    assert division.exit_code == 1 and "division by zero" in division.output
    usage = run("formula", "eval", "1", "--record", "{not json")
    assert usage.exit_code == 2


def test_formula_eval_knows_the_apps_calendars_and_records(run):
    assert run("apply", str(SHOP)).exit_code == 0
    due = run("formula", "eval", 'WORKDAY(ordered_on, 3, "cn")', "--object", "purchase",
              "--record", '{"ordered_on": "2026-09-30"}')
    assert due.exit_code == 0, due.output
    assert json.loads(due.output) == "2026-10-10"  # National Day week off, Saturday worked
    price = run("formula", "eval", 'VLOOKUP(product.price, product.code, "P-1")',
                "--object", "purchase")
    assert price.exit_code == 0, price.output
    assert json.loads(price.output) is None  # no such product yet


def test_template_install_and_export(run, tmp_path):
    result = run("template", "install", str(SALES))
    assert result.exit_code == 0, result.output
    exported = run("template", "export", str(tmp_path / "out"))
    assert exported.exit_code == 0
    assert json.loads((tmp_path / "out" / "objects" / "account.json").read_text())[
        "api_name"] == "account"
    missing = run("template", "install", "no-such-template")
    assert missing.exit_code == 1 and "no template" in missing.output
