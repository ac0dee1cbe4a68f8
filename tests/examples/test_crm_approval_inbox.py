"""The CRM's discount approval as the sales manager meets it in the approvals inbox: the row
shows the discount the request is about, not only the first fields of the layout, and
people by their names."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from metabiz.app import build_runtime, create_app, prepare_database
from metabiz.objects import installer, records
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer


@pytest.fixture
def client(db_url: str, tmp_path: Path, extensions) -> Iterator[FlaskClient]:
    engine = make_engine(db_url)
    prepare_database(engine)
    runtime = build_runtime(engine)
    installer.install(runtime, "crm")
    with writer(engine).begin() as conn:
        create_user(conn, "bob", "bob-pw-123", roles=["sales_manager"], display_name="Bob Li")
        create_user(conn, "alice", "alice-pw-1", roles=["sales_rep"], manager="bob",
                    display_name="Alice Chen")
        ctx = runtime.context(conn, load_actor(conn, "alice"))
        account = records.create(ctx, "account", {"name": "Acme"})
        records.create(ctx, "opportunity", {
            "name": "Acme rollout", "account": account["id"], "stage": "proposal",
            "close_date": "2027-03-31", "amount": 200000, "discount": 15})
    engine.dispose()
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    yield app.test_client()
    app.extensions["metabiz"].engine.dispose()


def token(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html)[1]  # type: ignore[index]


def test_the_manager_sees_the_discount_in_the_inbox(client: FlaskClient, browser_session) -> None:
    browser_session(client, "alice")
    deal = client.get("/o/opportunity?q=Acme").get_data(as_text=True)
    record_id = re.search(r'href="/o/opportunity/(\d+)"', deal)[1]  # type: ignore[index]
    sent = client.post(f"/o/opportunity/{record_id}/approvals", follow_redirects=True,
                       data={"csrf_token": token(deal), "comment": "needs 15%"})
    assert "Submitted for approval." in sent.get_data(as_text=True)
    browser_session(client, "bob")
    inbox = client.get("/approvals").get_data(as_text=True)
    facts = re.search(r'<dl class="inbox-fields">(.*?)</dl>', inbox, re.S)[1]  # type: ignore[index]
    shown = re.findall(r"<dt>([^<]+)</dt>", facts)
    assert set(shown[:2]) == {"Discount (%)", "Stage"}  # what the flow's conditions read
    assert "15.00%" in facts and "Acme" in facts
    assert '<td data-label="Submitted by">Alice Chen</td>' in inbox  # people by their names
    panel = client.get(f"/o/opportunity/{record_id}").get_data(as_text=True)
    assert re.search(r"<dt>Submitted by</dt>\s*<dd>Alice Chen</dd>", panel)
    assert re.search(r"<dt>Approvers</dt>\s*<dd>Bob Li</dd>", panel)
