"""Applying a required field with a default while users write: no row ever misses the
default — not those that exist, not those inserted while the apply runs, not those inserted
by a process that still had the schema of before (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer

APPLIES = 4


def test_required_fields_with_defaults_added_while_users_write(sales, sales_dir, extensions):
    stop = threading.Event()
    written: list[int] = []
    failures: list[BaseException] = []

    def write(user: str, writer_no: int) -> None:
        runtime = build_runtime(sales)  # another process: its own schema cache
        n = 0
        while not stop.is_set():
            n += 1
            try:
                with writer(sales).begin() as conn:
                    ctx = runtime.context(conn, load_actor(conn, user))
                    record = records.create(ctx, "account", {"name": f"writer {writer_no} {n}"})
                    written.append(record["id"])
            except BaseException as err:  # noqa: BLE001 - reported below
                failures.append(err)
                return

    threads = [threading.Thread(target=write, args=("admin", i)) for i in range(3)]
    for thread in threads:
        thread.start()
    path = sales_dir / "objects" / "account.json"
    try:
        for number in range(APPLIES):
            time.sleep(0.3)  # let the writers insert with the schema of before
            account = json.loads(path.read_text())
            account["fields"].append({"api_name": f"tier_{number}", "type": "text",
                                      "label": f"Tier {number}", "required": True,
                                      "default": f"\"t{number}\""})
            path.write_text(json.dumps(account))
            apply_path(sales, sales_dir, extensions=extensions)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not failures, failures
    assert len(written) > 20
    runtime = build_runtime(sales)
    with sales.connect() as conn:
        table = runtime.schema(conn).object("account").table
        rows = conn.execute(select(table)).mappings().all()
    assert len(rows) == len(written)
    blank = {f"tier_{n}": [r["id"] for r in rows if r[f"tier_{n}"] is None]
             for n in range(APPLIES)}
    assert blank == {f"tier_{n}": [] for n in range(APPLIES)}
    assert {r["tier_0"] for r in rows} == {"t0"}
