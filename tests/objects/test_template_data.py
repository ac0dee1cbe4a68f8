"""Templates with data: an install is one transaction (a broken data file writes nothing),
`apply --dry-run` checks `data/*.json` against the new metadata, and `template export
--with-data` writes the records and users back in the form an install reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, table

from metabiz.app import build_runtime, prepare_database
from metabiz.cli import main
from metabiz.errors import MetadataError, ValidationError
from metabiz.objects import installer
from metabiz.objects.evolution import apply_path
from metabiz.platform.db import make_engine, users
from metabiz.platform.metadata.store import current_version

SALES = Path(__file__).resolve().parents[1] / "fixtures" / "sales"

ACCOUNTS = [{"name": "Acme", "industry": "tech", "credit_limit": 1000, "owner": "rita"},
            {"name": "Globex", "industry": "retail"}]
DEALS = [{"name": "Acme renewal", "account": "Acme", "amount": 500, "owner": "rita"},
         {"name": "Globex pilot", "account": "Globex", "amount": 90}]
USERS = [{"name": "rita", "password": "rita-pw-123", "roles": ["sales_rep"],
          "email": "rita@example.com"}]


@pytest.fixture
def template(tmp_path):
    folder = tmp_path / "tpl"
    shutil.copytree(SALES, folder)
    (folder / "data").mkdir()
    for name, rows in (("account", ACCOUNTS), ("opportunity", DEALS), ("_users", USERS)):
        (folder / "data" / f"{name}.json").write_text(json.dumps(rows))
    return folder


def counts(engine):
    with engine.connect() as conn:
        tables = [t for t in ("obj_account", "obj_opportunity")
                  if engine.dialect.has_table(conn, t)]
        rows = {t: conn.execute(select(func.count()).select_from(table(t))).scalar()
                for t in tables}
        return (current_version(conn), rows,
                conn.execute(select(func.count()).select_from(users)).scalar())


def test_an_install_with_a_broken_data_file_writes_nothing(engine, template):
    rows = json.loads((template / "data" / "opportunity.json").read_text())
    rows.append({"name": "Ghost deal", "account": "Nobody Inc"})  # no such account
    (template / "data" / "opportunity.json").write_text(json.dumps(rows))
    runtime = build_runtime(engine)
    before = counts(engine)
    with pytest.raises(ValidationError) as caught:
        installer.install(runtime, str(template), demo_data=True)
    assert "data/opportunity.json: /2/account: no account named 'Nobody Inc'" \
        in caught.value.message
    assert before[:2] == (0, {})
    assert counts(engine) == before  # no metadata, no tables, no new users


def test_an_install_loads_metadata_users_and_records_together(engine, template):
    before_people = counts(engine)[2]
    result = installer.install(build_runtime(engine), str(template), demo_data=True)
    assert result.users == ["rita"] and result.records == {"account": 2, "opportunity": 2}
    version, rows, people = counts(engine)
    assert version == 1 and rows == {"obj_account": 2, "obj_opportunity": 2}
    assert people == before_people + 1


def test_dry_run_reports_stale_data_keys_with_every_other_problem(engine, template,
                                                                  extensions):
    apply_path(engine, template, extensions=extensions)
    # a rename a week later: the data file still says `amount`, and a rule is broken
    path = template / "objects" / "opportunity.json"
    doc = json.loads(path.read_text())
    for f in doc["fields"]:
        if f["api_name"] == "amount":
            f.update(api_name="value", renamed_from="amount")
    doc["validation_rules"] = [{"api_name": "bad", "error_condition": "value > 'x'",
                                "message": "m"}]
    path.write_text(json.dumps(doc))
    accounts = json.loads((template / "data" / "account.json").read_text())
    accounts[0]["credit_limit"] = "lots"
    (template / "data" / "account.json").write_text(json.dumps(accounts))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, template, extensions=extensions, dry_run=True)
    problems = caught.value.problems
    assert "data/opportunity.json: /0/amount: opportunity has no field 'amount' " \
           "(renamed to 'value')" in problems
    assert any(p.startswith("data/account.json: /0/credit_limit:") for p in problems)
    assert any(p.startswith("objects/opportunity.json: /validation_rules/0/") for p in problems)


def test_the_cli_dry_run_prints_each_data_problem(engine, template, db_url):
    rows = json.loads((template / "data" / "opportunity.json").read_text())
    rows[1]["stage"] = "lost_forever"
    del rows[1]["name"]
    (template / "data" / "opportunity.json").write_text(json.dumps(rows))
    result = CliRunner().invoke(main, ["apply", str(template), "--dry-run",
                                       "--database-url", db_url])
    assert result.exit_code == 1
    assert "data/opportunity.json: /1/stage:" in result.output + (result.stderr or "")
    assert "data/opportunity.json: /1: required field 'name' has no value" in \
        result.output + (result.stderr or "")


def test_export_with_data_round_trips_through_an_install(engine, template, tmp_path, db_url):
    installer.install(build_runtime(engine), str(template), demo_data=True)
    out = tmp_path / "exported"
    result = CliRunner().invoke(main, ["template", "export", str(out), "--with-data",
                                       "--database-url", db_url])
    assert result.exit_code == 0, result.output
    deals = json.loads((out / "data" / "opportunity.json").read_text())
    assert {d["name"]: d["account"] for d in deals} == {"Acme renewal": "Acme",
                                                         "Globex pilot": "Globex"}
    assert "weighted_amount" not in deals[0]  # computed: not data
    people = json.loads((out / "data" / "_users.json").read_text())
    assert people == [{"name": "rita", "roles": ["sales_rep"], "email": "rita@example.com",
                       "language": "en"}]
    assert "password" not in json.dumps(people)
    # and the exported folder installs as it is, records and users included
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    prepare_database(fresh)
    again = installer.install(build_runtime(fresh), str(out), demo_data=True)
    assert again.records == {"account": 2, "opportunity": 2} and again.users == ["rita"]
    fresh.dispose()
