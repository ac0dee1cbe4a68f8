"""One 422 lists every problem of a write: type and format errors, missing values, bad
references, and the validation rules that read only good values (CONTRACT: the 422 rule)."""

from __future__ import annotations

import pytest

from metabiz.app import create_app
from metabiz.errors import ValidationError
from metabiz.objects import records
from metabiz.platform.auth import create_token
from metabiz.platform.config import Config
from metabiz.platform.db import writer


def test_a_create_reports_bad_fields_and_failing_rules_together(work):
    with work("alice") as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "opportunity", {
            "name": "Deal", "contact_email": "not-an-email", "amount": -5,
            "stage": "closed_won"})
    fields = caught.value.fields
    assert set(fields) == {"contact_email", "amount", "_record"}
    assert fields["amount"] == ["Amount cannot be negative"]
    assert fields["_record"] == ["A won deal needs a close date"]


def test_a_rule_reading_a_bad_value_is_not_judged_but_the_others_are(work):
    with work("alice") as ctx, pytest.raises(ValidationError) as caught:
        records.create(ctx, "opportunity", {"amount": "lots", "stage": "closed_won"})
    # amount_positive reads the bad amount: only the type error is shown for it
    assert caught.value.fields == {"amount": ["Not a valid number."], "name": ["required"],
                                   "_record": ["A won deal needs a close date"]}


def test_an_update_reports_every_problem_and_changes_nothing(work):
    with work("alice") as ctx:
        opp = records.create(ctx, "opportunity", {"name": "Deal", "amount": 10})
    with work("alice") as ctx, pytest.raises(ValidationError) as caught:
        records.update(ctx, "opportunity", opp["id"], {
            "close_date": "soon", "contact_email": "x@", "stage": "closed_won",
            "amount": -1})
    fields = caught.value.fields
    assert set(fields) == {"close_date", "contact_email", "amount"}
    assert fields["amount"] == ["Amount cannot be negative"]
    # won_needs_date reads the bad close date, so it waits for a good one
    with work("alice") as ctx:
        again = records.get(ctx, "opportunity", opp["id"])
    assert again["amount"] == 10 and again["version"] == 1


def test_the_api_answers_one_422_with_every_field(sales, db_url, tmp_path):
    app = create_app(Config(database_url=db_url, secret_key="test", instance_path=tmp_path,
                            testing=True))
    with writer(sales).begin() as conn:
        token = create_token(conn, "alice")
    response = app.test_client().post(
        "/api/v1/records/opportunity", json={"name": "Deal", "contact_email": "nope",
                                             "amount": -3},
        headers={"Authorization": f"Bearer {token}"})
    app.extensions["metabiz"].engine.dispose()
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"contact_email", "amount"}
    assert error["fields"]["amount"] == ["Amount cannot be negative"]
