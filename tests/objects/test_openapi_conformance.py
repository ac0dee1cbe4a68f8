"""Schemathesis against our own OpenAPI document, every check and every phase (examples,
coverage, fuzzing, stateful), on the WSGI app with the CRM template and its demo data: no
500, no undocumented status code, every response as the document says (issue 17) — the
Metadata API included, as the admin's document lists it.

It runs schemathesis' engine (what `st run --checks all` runs) in process, bounded to a few
minutes on two cores: few examples per operation, short stateful sequences.
`positive_data_acceptance` also accepts 400/409/422: a request the schema allows may still
break a business rule no JSON Schema states (a filter formula that does not check, a
reference to a record that does not exist, a validation rule, a unique value taken).
"""

from __future__ import annotations

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from metabiz.app import build_runtime, create_app
from metabiz.objects import installer
from metabiz.platform.auth import create_token, create_user
from metabiz.platform.config import Config
from metabiz.platform.db import make_engine, writer


def settings(token: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {token}"},
        "workers": 1,
        "seed": 17,
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422"]}},
        "generation": {"max-examples": 6},
        "phases": {"stateful": {"max-steps": 10}},
    })


def test_the_api_answers_as_its_openapi_document_says(tmp_path):
    url = f"sqlite:///{tmp_path}/crm.db"
    engine = make_engine(url)
    app = create_app(Config(database_url=url, secret_key="t", instance_path=tmp_path,
                            testing=True))
    installer.install(build_runtime(engine), "crm", demo_data=True)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        token = create_token(conn, "admin")
    engine.dispose()
    config = settings(token)
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, headers={"Authorization": f"Bearer {token}"},
        config=config)
    failures: set[str] = set()
    errors: list[str] = []
    phases: set[str] = set()
    tested = 0
    labels: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            if event.status is not Status.SKIP:
                phases.add(event.phase.name)
                labels.add(event.label or "")
                tested += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status is Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.add(f"{event.label}: {check.name}: {failure.title}: "
                                     f"{failure.message[:300]}")
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    app.extensions["metabiz"].engine.dispose()
    assert not errors, "\n".join(errors)
    assert not failures, "\n".join(sorted(failures))
    # the document has no examples, so that phase has nothing to run; the others all ran
    assert {"COVERAGE", "FUZZING", "STATEFUL_TESTING"} <= phases, phases
    assert tested > 150, tested
    # the Metadata API and the formula check are in the admin's document, and exercised
    assert {"GET /meta/apps", "PUT /meta/objects/{name}", "DELETE /meta/roles/{name}",
            "GET /meta/versions/{number}", "POST /meta/versions/{number}/revert",
            "PUT /meta/apps/{app}/calendars/{name}", "POST /formulas/check"} <= labels, labels
