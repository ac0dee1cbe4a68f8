"""Bad report and dashboard metadata is refused when applied, each problem with its file and
JSON pointer; good metadata round-trips through the stored versions."""

from __future__ import annotations

import json

import pytest

from metabiz.errors import MetadataError
from metabiz.objects.evolution import apply_path
from metabiz.platform.metadata.loader import bundle_documents, load_documents, load_path

BASE = {"api_name": "bad", "object": "deal",
        "measures": [{"api_name": "n", "function": "count"}]}


def refused(engine, app_dir, extensions, folder: str, doc: dict) -> list[str]:
    (app_dir / folder / f"{doc['api_name']}.json").write_text(json.dumps(doc))
    with pytest.raises(MetadataError) as err:
        apply_path(engine, app_dir, extensions=extensions)
    return err.value.problems


@pytest.mark.parametrize(("change", "problem"), [
    ({"measures": [{"api_name": "s", "function": "sum", "field": "region"}]},
     "reports/bad.json: /measures/0/field: sum needs a number, and region is a text"),
    ({"group_by": [{"field": "stage", "bucket": "month"}]},
     "reports/bad.json: /group_by/0/bucket: a month bucket groups dates, and stage is a "
     "picklist"),
    ({"group_by": [{"field": "stag"}]},
     "reports/bad.json: /group_by/0/field: 1:1: unknown field"),
    ({"measures": [{"api_name": "a", "function": "avg", "formula": "amount +"}]},
     "reports/bad.json: /measures/0/formula: 1:"),
    ({"filter": "amount"},
     "reports/bad.json: /filter: 1:1"),
    ({"object": "nothing"}, "reports/bad.json: /object: unknown object 'nothing'"),
    ({"measures": [{"api_name": "n", "function": "sum"}]}, "reports/bad.json: /measures/0"),
    ({"group_by": [{"field": "stage"}], "sort": "-amount"},
     "reports/bad.json: /sort: unknown column 'amount'"),
    ({"chart": {"type": "bar", "y": ["nope"]}}, "reports/bad.json: /chart"),
    ({"group_by": [{"field": "stage"}, {"field": "region"}, {"field": "hot"}]},
     "reports/bad.json: /group_by"),
])
def test_bad_reports_are_refused_with_the_pointer(engine, app_dir, extensions, change, problem):
    problems = refused(engine, app_dir, extensions, "reports", {**BASE, **change})
    assert any(p.startswith(problem) for p in problems), problems


def test_a_dashboard_naming_an_unknown_report_or_role_is_refused(engine, app_dir, extensions):
    problems = refused(engine, app_dir, extensions, "dashboards",
                       {"api_name": "bad", "roles": ["sales_rep", "ghost"],
                        "components": [{"report": "pipeline"}, {"report": "missing"}]})
    assert "dashboards/bad.json: /roles/1: unknown role 'ghost'" in problems
    assert "dashboards/bad.json: /components/1/report: unknown report 'missing'" in problems


def test_an_unknown_time_zone_is_refused(engine, app_dir, extensions):
    (app_dir / "app.json").write_text(json.dumps({"name": "dealapp", "version": "1.0.0",
                                                  "timezone": "Mars/Olympus"}))
    with pytest.raises(MetadataError) as err:
        apply_path(engine, app_dir, extensions=extensions)
    assert any(p.startswith("app.json: /timezone: unknown time zone") for p in err.value.problems)


def test_reports_and_dashboards_round_trip(app_dir, extensions):
    kinds = extensions.document_kinds
    bundle = load_path(app_dir, kinds=kinds)
    assert load_documents(bundle_documents(bundle, kinds), kinds=kinds) == bundle
    assert {r.api_name for r in bundle.definitions("report")} == {
        "pipeline", "by_month", "totals", "costs"}
