"""A small app with a lead pool (members, admins, claim limit, return reasons) and tasks
related to leads, on SQLite and PostgreSQL, with API tokens for each of its users."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from metabiz.app import create_app, prepare_database
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_token, create_user, load_actor, set_active
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

LEAD = {
    "api_name": "lead", "label": {"en": "Lead", "zh": "线索"}, "name_field": "name",
    "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "company", "type": "text"},
        {"api_name": "status", "type": "picklist", "values": [
            {"value": "new", "label": "New"}, {"value": "working", "label": "Working"}]},
        {"api_name": "last_follow_up", "type": "date"},
    ],
    "pools": [{"api_name": "lead_pool", "label": {"en": "Lead pool", "zh": "线索公海"},
               "members": ["rep", "manager"], "admins": ["manager"], "claim_limit": 2,
               "return_reasons": ["no_answer",
                                  {"value": "not_interested",
                                   "label": {"en": "Not interested", "zh": "无意向"}}]}],
}
TASK = {
    "api_name": "task", "label": {"en": "Task", "zh": "任务"}, "name_field": "subject",
    "fields": [
        {"api_name": "subject", "type": "text", "required": True},
        {"api_name": "lead", "type": "lookup", "target": "lead", "on_delete": "set_null"},
        {"api_name": "due", "type": "date"},
    ],
}
RIGHTS = ["read", "create", "edit"]
ROLES = {
    "rep": {"objects": {"lead": RIGHTS, "task": RIGHTS}, "record_access": "own"},
    "manager": {"objects": {"lead": RIGHTS, "task": RIGHTS}, "record_access": "own"},
    "outsider": {"objects": {"lead": RIGHTS, "task": RIGHTS}, "record_access": "own"},
}
#: user → (roles, manager)
USERS: dict[str, tuple[list[str], str | None]] = {
    "admin": (["admin"], None), "mia": (["manager"], None), "rita": (["rep"], "mia"),
    "ron": (["rep"], "mia"), "oscar": (["outsider"], None), "gone": (["rep"], "mia"),
}


def write_app(folder: Path, lead: dict[str, Any] = LEAD, *extra: dict[str, Any]) -> Path:
    (folder / "objects").mkdir(parents=True, exist_ok=True)
    (folder / "roles").mkdir(exist_ok=True)
    (folder / "app.json").write_text(json.dumps({"name": "pooltest", "version": "1.0.0"}))
    for doc in (lead, TASK, *extra):
        (folder / "objects" / f"{doc['api_name']}.json").write_text(json.dumps(doc))
    for name, role in ROLES.items():
        (folder / "roles" / f"{name}.json").write_text(json.dumps({"api_name": name, **role}))
    return folder


@pytest.fixture
def pool_app(db_url: str, tmp_path: Path, extensions) -> Iterator[Flask]:
    engine = make_engine(db_url)
    prepare_database(engine)
    apply_path(engine, write_app(tmp_path / "app"), extensions=extensions)
    with writer(engine).begin() as conn:
        for name, (roles, manager) in USERS.items():
            create_user(conn, name, f"{name}-pw", roles=roles, manager=manager)
        set_active(conn, "gone", False)
        tokens = {name: create_token(conn, name) for name in USERS if name != "gone"}
    engine.dispose()
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    app.tokens = tokens  # type: ignore[attr-defined]
    yield app
    app.extensions["metabiz"].engine.dispose()


@pytest.fixture
def client(pool_app: Flask) -> FlaskClient:
    return pool_app.test_client()


@pytest.fixture
def call(client: FlaskClient, pool_app: Flask) -> Callable[..., Any]:
    """`call("POST", "/records/lead/1/claim", user="rita", body={...})` → the response."""
    def send(method: str, path: str, user: str = "admin", body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {pool_app.tokens[user]}"}  # type: ignore[attr-defined]
        data = json.dumps(body) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        return client.open(f"/api/v1{path}", method=method, headers=headers, data=data)

    return send


@pytest.fixture
def work(pool_app: Flask) -> Callable[..., Any]:
    """`with work("rita") as ctx:` — a committed unit of work with the app's listeners."""
    services = pool_app.extensions["metabiz"]

    @contextmanager
    def unit(user: str = "admin") -> Iterator[Context]:
        with writer(services.engine).begin() as conn:
            yield services.runtime.context(conn, load_actor(conn, user))

    return unit


@pytest.fixture
def pooled(call: Callable[..., Any]) -> Callable[..., int]:
    """`pooled("Acme")`: a lead created by the admin and put into the lead pool; its id."""
    def make(name: str, **values: Any) -> int:
        created = call("POST", "/records/lead", body={"name": name, **values})
        assert created.status_code == 201, created.get_json()
        record_id = created.get_json()["id"]
        back = call("POST", f"/records/lead/{record_id}/return", body={"reason": "no_answer"})
        assert back.status_code == 200, back.get_json()
        assert (back.get_json()["owner"], back.get_json()["pool"]) == (None, "lead_pool")
        return int(record_id)

    return make


@pytest.fixture
def lead_doc() -> dict[str, Any]:
    """A private copy of the lead object (with its pool) a test may change."""
    return copy.deepcopy(LEAD)


@pytest.fixture
def app_writer() -> Callable[..., Path]:
    """`app_writer(folder, lead_doc)`: writes the test app with that lead object."""
    return write_app
