"""Builds tests/fixtures/release_0_1/metabiz.db.gz: a database made and used by release 0.1.

`python scripts/make_release_fixture.py [--commit b56d960] [--out PATH]` exports that commit's
code with `git archive`, runs it in a subprocess (this file again, with `--inside`, the old
code first on PYTHONPATH) and keeps the SQLite file it made, gzipped: the CRM template with demo data,
users and tokens, sign-ins, edits with history, approvals pending and approved, notifications,
jobs done and waiting, a failed webhook attempt, and a value a type conversion blanked. tests/platform/
test_upgrade.py upgrades a copy of it (and its rows copied into PostgreSQL) to the newest
revisions.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RELEASE_0_1 = "b56d960"
DEFAULT_OUT = ROOT / "tests" / "fixtures" / "release_0_1" / "metabiz.db.gz"
SECRET = "release-0.1-fixture"

#: an app of our own beside the CRM: its `code` field is converted from text to number with
#: --convert-failures=blank, so the fixture holds sys_conversion_losses rows and a kept column
LEGACY_APP = {"name": "legacy", "version": "1.0.0", "label": "Legacy"}


def legacy_object(code_type: str) -> dict[str, Any]:
    return {"api_name": "legacy_item", "label": "Legacy item",
            "fields": [{"api_name": "name", "type": "text", "label": "Name", "required": True},
                       {"api_name": "code", "type": code_type, "label": "Code"},
                       {"api_name": "seen_at", "type": "datetime", "label": "Seen at"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default=RELEASE_0_1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--inside", metavar="DB_PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        populate(Path(args.inside))
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        archive = Path(tmp) / "release.tar"
        with archive.open("wb") as out:
            subprocess.run(["git", "-C", str(ROOT), "archive", args.commit], stdout=out,
                           check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(source, filter="data")
        database = Path(tmp) / "metabiz.db"
        env = {**os.environ, "PYTHONPATH": str(source), "METABIZ_SECRET_KEY": SECRET,
               "METABIZ_INSTANCE": str(Path(tmp) / "instance")}
        env.pop("METABIZ_DATABASE_URL", None)
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--inside", str(database)],
                       env=env, cwd=tmp, check=True)
        compact(database)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with database.open("rb") as raw, gzip.GzipFile(args.out, "wb", mtime=0) as packed:
            shutil.copyfileobj(raw, packed)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


def compact(database: Path) -> None:
    """One self-contained, small file: WAL folded in, free pages dropped."""
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("VACUUM")
    conn.close()


# -- inside: runs against the old release's code ------------------------------------------

def populate(database: Path) -> None:
    import datetime as dt

    from click.testing import CliRunner

    import metabiz
    from metabiz.platform.cli import main as cli

    code = Path(metabiz.__file__).resolve().parent
    assert not code.is_relative_to(ROOT / "metabiz"), f"running the current code ({code})"
    url = f"sqlite:///{database}"

    def run(*argv: str) -> str:
        result = CliRunner().invoke(cli, [*argv[:2], "--database-url", url, *argv[2:]]
                                    if argv[0] in ("users", "tokens", "template") else
                                    [argv[0], "--database-url", url, *argv[1:]])
        assert result.exit_code == 0, (argv, result.output, result.exception)
        return result.output

    run("init")
    run("template", "install", "crm", "--demo-data")
    run("users", "create", "erin", "--password", "erin-pass-1", "--role", "sales_rep",
        "--manager", "bob", "--email", "erin@example.com")
    run("users", "create", "ada", "--password", "ada-pass-1", "--role", "admin")
    admin_token = run("tokens", "create", "ada").strip().splitlines()[-1]
    alice_token = run("tokens", "create", "alice").strip().splitlines()[-1]
    bob_token = run("tokens", "create", "bob").strip().splitlines()[-1]

    legacy = database.parent / "legacy"
    (legacy / "objects").mkdir(parents=True)
    (legacy / "app.json").write_text(json.dumps(LEGACY_APP))
    (legacy / "objects" / "legacy_item.json").write_text(json.dumps(legacy_object("text")))
    run("apply", str(legacy))

    from metabiz.platform.app import create_app
    from metabiz.platform.config import Config

    app = create_app(Config(database_url=url, secret_key=SECRET,
                            instance_path=database.parent / "instance", testing=True))
    client = app.test_client()

    def call(method: str, path: str, token: str, body: Any = None, status: int = 200) -> Any:
        response = client.open(f"/api/v1{path}", method=method, json=body,
                               headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, (method, path, response.status_code,
                                                response.get_data(as_text=True))
        return response.get_json()

    for name, code_value, seen in (("Gear", "12", "2026-03-01T08:30:00Z"),
                                   ("Bolt", "n/a", "2026-03-02T09:00:00+08:00"),
                                   ("Nut", "7", None)):
        call("POST", "/records/legacy_item", admin_token,
             {"name": name, "code": code_value, "seen_at": seen}, status=201)
    (legacy / "objects" / "legacy_item.json").write_text(json.dumps(legacy_object("number")))
    run("apply", str(legacy), "--convert-failures", "blank")

    # edits with field history, and two discount approvals: one left pending, one approved
    deals = [d for d in call("GET", "/records/opportunity?page_size=200", alice_token)["records"]
             if d["owner"] == "alice" and d["stage"] not in ("closed_won", "closed_lost")]
    assert len(deals) >= 2, deals
    for deal, discount in zip(deals[:2], (15, 12), strict=True):
        call("PATCH", f"/records/opportunity/{deal['id']}", alice_token,
             {"discount": discount, "version": deal["version"]})
        call("POST", f"/records/opportunity/{deal['id']}/approvals", alice_token,
             {"comment": "please"}, status=201)
    second = call("GET", f"/records/opportunity/{deals[1]['id']}/approvals", bob_token)
    call("POST", f"/approvals/{second['requests'][0]['id']}/approve", bob_token,
         {"comment": "fine"})

    # sign-ins: one refused, one accepted (audit rows, throttling counts)
    with client.session_transaction() as session:
        session["csrf"] = "fixture"
    client.post("/login", data={"username": "dave", "password": "wrong",
                                "csrf_token": "fixture"})
    with client.session_transaction() as session:
        session["csrf"] = "fixture"
    client.post("/login", data={"username": "dave", "password": "demo",
                                "csrf_token": "fixture"})

    # jobs: run what is due now (a webhook to a closed port fails and waits for its retry);
    # time-based reminders stay in the future
    from metabiz.flows import webhooks
    from metabiz.flows.worker import run_worker
    from metabiz.platform.db import make_engine, writer

    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with writer(engine).begin() as conn:
        webhooks.enqueue(conn, "http://127.0.0.1:9/hook", {"event": "fixture"}, now=now,
                         source="fixture")
    run_worker(engine, once=True, now=now, secret=SECRET)


if __name__ == "__main__":
    main()
