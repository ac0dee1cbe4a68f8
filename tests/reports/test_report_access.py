"""Field security and record access inside reports: a field hidden from the user cannot be
grouped, measured or filtered on (403), and a dashboard shows the user what it can."""

from __future__ import annotations

import pytest

from metabiz.errors import BadRequest, NotFound, PermissionDenied
from metabiz.reports import library
from metabiz.reports.compiled import compile_report
from metabiz.reports.definitions import build_report
from metabiz.reports.engine import run


def probe(ctx, **doc):
    doc = {"api_name": "probe", "object": "deal",
           "measures": [{"api_name": "n", "function": "count"}], **doc}
    problems: list[str] = []
    compiled = compile_report(build_report(doc), ctx.schema, "UTC", problems)
    assert problems == []
    return compiled


def test_a_hidden_field_cannot_be_measured(work):
    with work("alice") as ctx, pytest.raises(PermissionDenied) as err:
        library.result(ctx, "costs")
    assert err.value.fields == {"cost": ["hidden for your role"]}


@pytest.mark.parametrize("doc", [
    {"group_by": [{"field": "cost"}]},
    {"group_by": [{"formula": "cost > 10", "api_name": "costly"}]},
    {"filter": "cost > 10"},
    {"measures": [{"api_name": "c", "function": "max", "formula": "cost * 2"}]},
])
def test_a_hidden_field_cannot_be_grouped_filtered_or_read_by_a_formula(work, doc):
    with work("alice") as ctx:
        compiled = probe(ctx, **doc)
        with pytest.raises(PermissionDenied):
            run(ctx, compiled)
    with work("boss") as ctx:  # the manager's role hides nothing
        assert run(ctx, probe(ctx, **doc)).rows


def test_a_runtime_filter_on_a_hidden_field_is_refused(work):
    with work("alice") as ctx, pytest.raises(PermissionDenied):
        library.result(ctx, "pipeline", filter="cost > 0")


def test_a_runtime_filter_that_does_not_parse_names_line_and_column(work):
    with work("alice") as ctx, pytest.raises(BadRequest) as err:
        library.result(ctx, "pipeline", filter="amount >")
    assert "1:" in str(err.value.to_dict())


def test_reports_on_an_object_the_user_cannot_read_are_not_found(work):
    with work("sam") as ctx:
        assert library.reports_for(ctx) == []
        with pytest.raises(NotFound):
            library.result(ctx, "pipeline")


def test_a_dashboard_shows_each_component_or_why_not(work):
    with work("alice") as ctx:
        board = library.dashboard(ctx, "sales_home")
        parts = library.components(ctx, board)
    assert [p.component.report for p in parts] == ["pipeline", "totals", "by_month", "costs"]
    assert [p.error is None for p in parts] == [True, True, True, False]
    assert parts[0].result is not None and parts[0].result.totals["deals"] == 3


def test_home_dashboard_is_the_first_of_the_users_roles(work):
    with work("alice") as ctx:
        assert library.home_dashboard(ctx).api_name == "sales_home"
    with work("sam") as ctx:
        assert library.home_dashboard(ctx) is None
        with pytest.raises(NotFound):
            library.dashboard(ctx, "sales_home")
