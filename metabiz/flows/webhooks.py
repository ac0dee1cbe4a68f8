"""Webhook delivery: a JSON POST signed with HMAC-SHA256, retried with backoff, logged.

The body is serialised once when enqueued, so every retry sends the same bytes and the
same `X-Metabiz-Signature: sha256=<hex>`; `X-Metabiz-Delivery` lets receivers dedupe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from sqlalchemy import Connection, insert

from metabiz.flows import jobs
from metabiz.flows.store import webhook_attempts
from metabiz.platform.db import writer

SIGNATURE_HEADER = "X-Metabiz-Signature"
DELIVERY_HEADER = "X-Metabiz-Delivery"
TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 6  # the first try and five retries: 30 s, 1, 2, 4, 8 minutes later


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for `body`: `sha256=` and the hex HMAC."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (in constant time)."""
    return hmac.compare_digest(sign(secret, body), header or "")


def enqueue(conn: Connection, url: str, body: Any, *, now: dt.datetime,
            secret: str | None = None, source: str | None = None) -> int:
    delivery = uuid.uuid4().hex
    payload = {"url": url, "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
               "delivery": delivery, "source": source}
    if secret:
        payload["secret"] = secret
    return jobs.enqueue(conn, "webhook", payload, run_at=now, now=now,
                        key=f"webhook:{delivery}", max_attempts=MAX_ATTEMPTS)


class WebhookFailed(Exception):
    pass


@jobs.register
class WebhookJob(jobs.JobKind):
    """One delivery attempt; non-2xx answers and network errors are retried."""

    name = "webhook"
    transactional = False

    def run(self, job: jobs.Job, env: jobs.JobEnv) -> None:
        payload = job.payload
        body = payload["body"].encode("utf-8")
        secret = payload.get("secret") or env.secret()
        request = urllib.request.Request(payload["url"], data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "metabiz-webhook/1",
            SIGNATURE_HEADER: sign(secret, body),
            DELIVERY_HEADER: payload["delivery"],
            "X-Metabiz-Attempt": str(job.attempts)})
        status: int | None = None
        error: str | None = None
        excerpt = ""
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
                excerpt = response.read(500).decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status = err.code
            excerpt = err.read(500).decode("utf-8", "replace") if err.fp else ""
            error = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError, ValueError) as err:
            error = f"{type(err).__name__}: {getattr(err, 'reason', err)}"
        elapsed = int((time.monotonic() - started) * 1000)
        with writer(env.engine).begin() as conn:
            conn.execute(insert(webhook_attempts).values(
                job_id=job.id, attempt=job.attempts, url=payload["url"], status_code=status,
                error=error, response=excerpt, duration_ms=elapsed, at=env.now))
        if error is not None or status is None or not 200 <= status < 300:
            raise WebhookFailed(error or f"HTTP {status}")
