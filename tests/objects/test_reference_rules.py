"""Lookup `match` and user-field `roles`: enforced on every save (422 naming the field) and
applied to the form's type-ahead and user picker, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from metabiz.app import build_runtime, create_app, prepare_database
from metabiz.errors import ValidationError
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.evolution import apply_path
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer

DESK = Path(__file__).resolve().parents[1] / "fixtures" / "desk"


@pytest.fixture
def desk(db_url, tmp_path, extensions):
    engine = make_engine(db_url)
    prepare_database(engine)
    shutil.copytree(DESK, tmp_path / "desk")
    apply_path(engine, tmp_path / "desk", extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "erin", "erin-pw-1", roles=["agent"])
        create_user(conn, "ken", "ken-pw-12", roles=["technician"])
        create_user(conn, "sam", "sam-pw-12", roles=["agent"])
    yield engine
    engine.dispose()


@pytest.fixture
def unit(desk):
    runtime = build_runtime(desk)

    @contextmanager
    def work(user: str = "admin") -> Iterator[Context]:
        with writer(desk).begin() as conn:
            yield runtime.context(conn, load_actor(conn, user))

    return work


@pytest.fixture
def seeded(unit):
    with unit() as ctx:
        acme = records.create(ctx, "customer", {"name": "Acme"})["id"]
        globex = records.create(ctx, "customer", {"name": "Globex"})["id"]
        ann = records.create(ctx, "person", {"name": "Ann", "customer": acme})["id"]
        gus = records.create(ctx, "person", {"name": "Gus", "customer": globex})["id"]
        live = records.create(ctx, "agreement", {"name": "Acme gold", "customer": acme})["id"]
        old = records.create(ctx, "agreement", {"name": "Acme 2020", "customer": acme,
                                                "end_date": "2020-12-31"})["id"]
        other = records.create(ctx, "agreement", {"name": "Globex", "customer": globex})["id"]
    return {"acme": acme, "globex": globex, "ann": ann, "gus": gus, "live": live, "old": old,
            "other": other}


def failure(unit, make) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught, unit("erin") as ctx:
        make(ctx)
    return caught.value.fields


def test_a_contact_of_another_customer_is_refused(unit, seeded):
    fields = failure(unit, lambda ctx: records.create(ctx, "incident", {
        "subject": "Broken", "customer": seeded["acme"], "person": seeded["gus"]}))
    assert fields == {"person": ["the chosen contact's customer must be this record's customer"]}
    with unit("erin") as ctx:
        case = records.create(ctx, "incident", {"subject": "Broken", "customer": seeded["acme"],
                                            "person": seeded["ann"]})
    assert case["person"] == seeded["ann"]
    # moving the case to another customer re-checks the contact it keeps
    fields = failure(unit, lambda ctx: records.update(ctx, "incident", case["id"],
                                                      {"customer": seeded["globex"]}))
    assert list(fields) == ["person"]
    with unit("erin") as ctx:
        moved = records.update(ctx, "incident", case["id"],
                               {"customer": seeded["globex"], "person": seeded["gus"]})
    assert moved["person"] == seeded["gus"]


def test_only_active_contracts_of_the_customer(unit, seeded):
    fields = failure(unit, lambda ctx: records.create(ctx, "incident", {
        "subject": "x", "customer": seeded["acme"], "agreement": seeded["old"]}))
    assert fields == {"agreement": ["the chosen contract must be active"]}
    fields = failure(unit, lambda ctx: records.create(ctx, "incident", {
        "subject": "x", "customer": seeded["acme"], "agreement": seeded["other"]}))
    assert list(fields) == ["agreement"]
    with unit("erin") as ctx:
        case = records.create(ctx, "incident", {"subject": "x", "customer": seeded["acme"],
                                            "agreement": seeded["live"]})
    # an agreement that expired since does not block other edits of the case
    with unit() as ctx:
        records.update(ctx, "agreement", seeded["live"], {"end_date": "2021-01-01"})
    with unit("erin") as ctx:
        assert records.update(ctx, "incident", case["id"], {"subject": "y"})["subject"] == "y"


def test_technicians_only_from_the_role(unit, seeded):
    fields = failure(unit, lambda ctx: records.create(ctx, "incident", {
        "subject": "x", "technician": "sam"}))
    assert fields == {"technician": ["sam does not hold the role Technician"]}
    with unit("erin") as ctx:
        assert records.create(ctx, "incident", {"subject": "x", "technician": "ken"})[
            "technician"] == "ken"


def test_messages_in_the_actors_language(unit, seeded, desk):
    with writer(desk).begin() as conn:
        create_user(conn, "li", "li-pw-123", roles=["agent"], language="zh")
    with pytest.raises(ValidationError) as caught, unit("li") as ctx:
        records.create(ctx, "incident", {"subject": "x", "technician": "sam",
                                     "customer": seeded["acme"], "person": seeded["gus"]})
    fields = caught.value.fields
    assert fields["technician"] == ["sam 不具备所需角色（服务工程师）"]
    assert fields["person"] == ["所选联系人的“客户”必须与本记录的“客户”一致"]


@pytest.fixture
def client(desk, db_url, tmp_path, browser_session):
    app = create_app(Config(database_url=db_url, secret_key="k" * 32,
                            instance_path=tmp_path / "instance", testing=True))
    client = app.test_client()
    browser_session(client, "erin")
    return client


def test_type_ahead_offers_only_matching_records(client, seeded):
    page = client.get("/o/person/lookup", query_string={
        "q": "", "field": "person", "source": "incident", "customer": seeded["acme"]})
    text = page.get_data(as_text=True)
    assert "Ann" in text and "Gus" not in text
    page = client.get("/o/agreement/lookup", query_string={
        "q": "acme", "field": "agreement", "source": "incident", "customer": seeded["acme"]})
    text = page.get_data(as_text=True)
    assert "Acme gold" in text and "Acme 2020" not in text and "Globex" not in text
    # without the source form's field, the type-ahead searches as before
    text = client.get("/o/person/lookup", query_string={"q": ""}).get_data(as_text=True)
    assert "Ann" in text and "Gus" in text


def test_form_includes_the_matched_field_and_limits_the_picker(client, seeded):
    html = client.get("/o/incident/new").get_data(as_text=True)
    assert 'hx-include="[name=customer]"' in html
    assert 'source=incident' in html
    picker = html.split('id="users-technician"')[1].split("</datalist>")[0]
    assert '"ken"' in picker and '"sam"' not in picker and '"erin"' not in picker


def test_match_must_name_existing_fields(db_url, tmp_path, extensions):
    from metabiz.errors import MetadataError
    engine = make_engine(db_url)
    prepare_database(engine)
    shutil.copytree(DESK, tmp_path / "desk")
    path = tmp_path / "desk" / "objects" / "incident.json"
    path.write_text(path.read_text().replace('"match": {"customer": "customer"}',
                                             '"match": {"client": "customer"}'))
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, tmp_path / "desk", extensions=extensions)
    assert "unknown field 'client' on person" in str(caught.value.problems)
    engine.dispose()
    assert dt  # keep the import used
