"""The worked example of docs/templates.md ("rentals") is a template that installs and works
as the guide says: a payment per month of a lease, the paid date stamped before validation,
payments followed by their lease's owner, a long lease approved by finance from the inbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from metabiz.app import build_runtime, prepare_database
from metabiz.flows import approvals
from metabiz.objects import installer, query, records
from metabiz.platform.auth import load_actor
from metabiz.platform.db import make_engine, writer

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "templates.md"


def write_example(folder: Path) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    part = text[text.index("## A worked example: rentals"):text.index("## Testing a template")]
    app = re.search(r"`app\.json`:\s*`(\{.*?\})`", part, re.S)
    assert app is not None
    for sub in ("objects", "flows", "roles", "data"):
        (folder / sub).mkdir(parents=True)
    (folder / "app.json").write_text(app.group(1))
    for block in re.findall(r"```json\n(.*?)```", part, re.S):
        doc = json.loads(block)
        sub = "objects" if "fields" in doc else "flows" if "kind" in doc else "roles"
        (folder / sub / f"{doc['api_name']}.json").write_text(block)
    data = {"unit": [{"name": "Flat 4", "rent": 900}],
            "lease": [{"name": "Flat 4 - Wang", "unit": "Flat 4", "months": 6,
                       "start": "2026-01-31", "owner": "amy"}],
            "_users": [{"name": "amy", "password": "amy-pw-1234",
                        "roles": ["agent", "unit_catalog"]},
                       {"name": "ben", "password": "ben-pw-1234",
                        "roles": ["agent", "unit_catalog"]},
                       {"name": "fay", "password": "fay-pw-1234", "roles": ["finance"]}]}
    for name, rows in data.items():
        (folder / "data" / f"{name}.json").write_text(json.dumps(rows))


@pytest.fixture
def rentals(db_url, tmp_path):
    write_example(tmp_path / "rentals")
    engine = make_engine(db_url)
    prepare_database(engine)
    runtime = build_runtime(engine)
    installer.install(runtime, str(tmp_path / "rentals"), demo_data=True)
    yield engine, runtime
    engine.dispose()


def test_the_guides_rentals_example_works_as_described(rentals):
    engine, runtime = rentals

    with writer(engine).begin() as conn:
        amy = runtime.context(conn, load_actor(conn, "amy"))
        [lease] = query.list_records(amy, "lease").records
        payments = query.list_records(amy, "payment", sort="due").records
        assert [p["due"] for p in payments[:2]] == ["2026-01-31", "2026-02-28"]
        assert len(payments) == 6 and lease["monthly_rent"] == 900  # the unit's rent
        paid = records.update(amy, "payment", payments[0]["id"], {"paid": True})
        assert paid["paid_on"] is not None  # stamped before the rule needing it ran
        long = records.create(amy, "lease", {"name": "Flat 4 - Li", "unit": lease["unit"],
                                             "months": 24})
        assert query.list_records(amy, "payment").total == 30
        approvals.submit(amy, "lease", long["id"])
    with writer(engine).begin() as conn:
        ben = runtime.context(conn, load_actor(conn, "ben"))
        assert query.list_records(ben, "payment").total == 0  # not his leases
        fay = runtime.context(conn, load_actor(conn, "fay"))
        [item] = approvals.inbox(fay)
        assert item["record"]["months"] == 24
        approvals.act(fay, item["request"], "approve")
    with writer(engine).begin() as conn:
        amy = runtime.context(conn, load_actor(conn, "amy"))
        assert records.get(amy, "lease", long["id"])["approval_status"] == "approved"
        records.update(amy, "lease", long["id"], {"monthly_rent": 850})
        assert records.get(amy, "lease", long["id"])["approval_status"] == "none"
        assert records.get(amy, "lease", lease["id"])["paid_total"] == 900
