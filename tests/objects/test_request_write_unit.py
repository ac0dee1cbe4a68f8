"""A request's writing unit of work on the request's own connection, on SQLite and PostgreSQL.

`platform.api.write_transaction` writes on the connection that found out who is calling
(no second connection); here what a request sees is checked: a read inside the write sees
it, reads after it (committed or refused) see the database as it is, a refused caller's
audit entry stays, and a request opens one connection however many units it runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import jsonify
from sqlalchemy import event, update

from metabiz.app import create_app
from metabiz.errors import ValidationError
from metabiz.objects import records
from metabiz.objects.work import unit_of_work
from metabiz.platform import audit
from metabiz.platform.api import require_actor
from metabiz.platform.auth import create_token
from metabiz.platform.config import Config
from metabiz.platform.db import tokens, writer


@pytest.fixture
def app(sales, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))

    @app.post("/test/write-then-read")
    def write_then_read() -> Any:
        actor = require_actor()
        with unit_of_work(actor) as ctx:  # a read before the write (a form's page)
            before = _names(ctx)
        with unit_of_work(actor, write=True) as ctx:
            made = records.create(ctx, "account", {"name": "Written"})
            with unit_of_work(actor) as inner:  # a read inside the write sees it
                inside = records.get(inner, "account", made["id"])
        refused = None
        try:
            with unit_of_work(actor, write=True) as ctx:
                records.create(ctx, "account", {"name": "Kept out"})
                records.create(ctx, "account", {"name": None})
        except ValidationError as err:
            refused = err.fields
        with unit_of_work(actor) as ctx:  # a read after both sees what was committed
            after = _names(ctx)
        return jsonify({"before": before, "inside": inside["name"], "refused": refused,
                        "after": after})

    yield app
    app.extensions["metabiz"].engine.dispose()


def _names(ctx: Any) -> list[str]:
    table = ctx.schema.object("account").table
    return sorted(r.name for r in ctx.conn.execute(table.select()))


@pytest.fixture
def token(sales) -> str:
    with writer(sales).begin() as conn:
        return create_token(conn, "admin")


def test_reads_inside_and_after_a_write_see_the_database_as_it_is(app, token):
    checkouts: list[int] = []
    event.listen(app.extensions["metabiz"].engine, "checkout",
                 lambda *_args: checkouts.append(1))
    client = app.test_client()
    answer = client.post("/test/write-then-read", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {"before": [], "inside": "Written",
                                 "refused": {"name": ["required"]}, "after": ["Written"]}
    checkouts.clear()  # (the token's first use was recorded on a connection of its own)
    again = client.post("/test/write-then-read", headers={"Authorization": f"Bearer {token}"})
    assert len(checkouts) == 1  # who is calling, two writes and three reads: one connection
    assert again.get_json()["before"] == ["Written"]
    assert again.get_json()["after"] == ["Written", "Written"]


def test_a_refused_token_on_a_write_is_audited(app, token, sales):
    client = app.test_client()
    with writer(sales).begin() as conn:
        conn.execute(update(tokens).values(revoked=True))
    refused = client.post("/api/v1/records/account", json={"name": "No"},
                          headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    with sales.connect() as conn:
        assert [e.kind for e in audit.entries(conn, kind="token.rejected")] == [
            "token.rejected"]
    listed = app.test_client().get("/api/v1/records/account",
                                   headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 401
