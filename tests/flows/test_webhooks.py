"""Webhooks against a local HTTP server: signed JSON, retried with backoff, every attempt
logged, identical bytes and delivery id on every retry."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flow_api import SECRET
from sqlalchemy import select

from metabiz.flows.store import jobs as job_table
from metabiz.flows.store import webhook_attempts
from metabiz.flows.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from metabiz.objects import records

T0 = dt.datetime(2031, 6, 1, 12, tzinfo=dt.UTC)


class Receiver:
    """What the test server got, and the statuses it answers with (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []


@pytest.fixture
def receiver():
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.requests.append((dict(self.headers), body))
            status = got.answers.pop(0) if got.answers else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b'{"ok": true}' if status == 200 else b"try later")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hook"  # type: ignore[attr-defined]
    yield got
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_dir(app_dir, receiver):
    """The flow test app with its webhooks pointing at the local server."""
    for name in ("ticket_webhook", "ticket_deleted"):
        path = app_dir / "flows" / f"{name}.json"
        path.write_text(path.read_text().replace("http://127.0.0.1:9/hook", receiver.url))
    return app_dir


def attempts(flowapp):
    with flowapp.connect() as conn:
        return conn.execute(select(webhook_attempts.c.attempt, webhook_attempts.c.status_code)
                            .order_by(webhook_attempts.c.id)).all()


def test_retried_with_backoff_until_delivered(work, jobs, flowapp, receiver):
    receiver.answers = [500, 503]
    with work("sam", now=T0) as ctx:
        ticket = records.create(ctx, "ticket", {"subject": "VPN"})
        records.update(ctx, "ticket", ticket["id"], {"status": "open"})
    assert jobs(now=T0) == 1
    assert jobs(now=T0 + dt.timedelta(seconds=29)) == 0
    assert jobs(now=T0 + dt.timedelta(seconds=30)) == 1
    assert jobs(now=T0 + dt.timedelta(seconds=89)) == 0
    assert jobs(now=T0 + dt.timedelta(seconds=90)) == 1
    assert [tuple(a) for a in attempts(flowapp)] == [(1, 500), (2, 503), (3, 200)]
    assert len(receiver.requests) == 3
    bodies = {body for _, body in receiver.requests}
    deliveries = {headers[DELIVERY_HEADER] for headers, _ in receiver.requests}
    assert len(bodies) == 1 and len(deliveries) == 1
    headers, body = receiver.requests[-1]
    assert headers["Content-Type"].startswith("application/json")
    assert verify("rule-secret", body, headers[SIGNATURE_HEADER])
    assert not verify(SECRET, body, headers[SIGNATURE_HEADER])
    assert json.loads(body) == {"ticket": ticket["id"], "subject": "VPN", "status": "open",
                                "priority": "low"}
    with flowapp.connect() as conn:
        assert conn.execute(select(job_table.c.status, job_table.c.attempts)
                            .where(job_table.c.kind == "webhook")).one() == ("done", 3)


def test_whole_record_signed_with_the_app_secret(work, jobs, receiver):
    with work("sam", now=T0) as ctx:
        ticket = records.create(ctx, "ticket", {"subject": "Old", "note": "private"})
        records.delete(ctx, "ticket", ticket["id"])
    assert jobs(now=T0) == 1
    [(headers, body)] = receiver.requests
    assert verify(SECRET, body, headers[SIGNATURE_HEADER])
    assert headers[SIGNATURE_HEADER].startswith("sha256=")
    sent = json.loads(body)
    assert sent["event"] == "deleted" and sent["source"] == "automation ticket_deleted"
    assert sent["object"] == "ticket" and sent["record_id"] == ticket["id"]
    assert sent["record"] == {"id": ticket["id"], "subject": "Old", "status": "new"}


def test_gives_up_after_the_last_attempt(work, jobs, flowapp, receiver):
    receiver.answers = [500] * 10
    with work("sam", now=T0) as ctx:
        ticket = records.create(ctx, "ticket", {"subject": "Down"})
        records.update(ctx, "ticket", ticket["id"], {"status": "open"})
    now = T0
    for _ in range(8):
        jobs(now=now)
        now += dt.timedelta(hours=1)
    assert [a.attempt for a in attempts(flowapp)] == [1, 2, 3, 4, 5, 6]
    with flowapp.connect() as conn:
        row = conn.execute(select(job_table).where(job_table.c.kind == "webhook")
                           ).mappings().one()
    assert row["status"] == "failed" and row["last_error"].endswith("HTTP 500")
