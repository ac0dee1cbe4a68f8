"""`metabiz backup` while users write: one moment of the database (an account and its
opportunity, written in one transaction, are both in the backup or neither is), on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import threading

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.platform.auth import load_actor
from metabiz.platform.backup import write_backup
from metabiz.platform.db import writer


def rows(folder, table: str) -> list[dict]:
    lines = (folder / "tables" / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_a_backup_taken_while_users_write_is_one_moment(sales, tmp_path):
    runtime = build_runtime(sales)
    stop = threading.Event()
    failures: list[BaseException] = []
    pairs = [0]

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                with writer(sales).begin() as conn:
                    ctx = runtime.context(conn, load_actor(conn, "admin"))
                    account = records.create(ctx, "account", {"name": f"Pair {n}"})
                    records.create(ctx, "opportunity", {"name": f"Deal {n}",
                                                        "account": account["id"]})
                pairs[0] += 1
            except BaseException as err:  # noqa: BLE001 - reported below
                failures.append(err)
                return

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while pairs[0] < 5:
            threading.Event().wait(0.05)
        snapshots = []
        for i in range(3):
            snapshots.append(write_backup(sales, tmp_path / f"snap{i}").path)
            # a pair committed after this snapshot ended is in the next one only (a loaded
            # machine may let three snapshots pass before the writer commits again)
            seen, waited = pairs[0], 0
            while pairs[0] == seen and waited < 400 and not failures:
                threading.Event().wait(0.05)
                waited += 1
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    counts = []
    for folder in snapshots:
        accounts = {row["id"] for row in rows(folder, "obj_account")}
        deals = [row["account"] for row in rows(folder, "obj_opportunity")]
        assert sorted(deals) == sorted(accounts)  # every pair whole, no half of one
        manifest = json.loads((folder / "manifest.json").read_text())
        listed = {t["name"]: t["rows"] for t in manifest["tables"]}
        assert listed["obj_account"] == len(accounts) == len(deals)
        counts.append(len(accounts))
    assert counts[-1] > counts[0]  # the writer went on meanwhile
