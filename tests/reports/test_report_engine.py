"""The report engine against hand-counted expectations, on SQLite and PostgreSQL: groupings,
measures, exact decimals, default order, and each user's record access."""

from __future__ import annotations

from metabiz.reports import library


def rows(work, name: str, user: str = "admin", **options):
    with work(user) as ctx:
        return library.result(ctx, name, **options).to_json()


def test_pipeline_groups_by_stage_in_picklist_order_with_exact_sums(work):
    out = rows(work, "pipeline")
    assert out["columns"] == ["stage", "deals", "amount", "weighted"]
    assert out["rows"] == [["prospecting", 2, 100.1, 10.01],
                           ["negotiation", 2, 1200.2, 100.1],
                           ["won", 2, 0.3, 0.3]]
    assert out["totals"] == {"deals": 6, "amount": 1300.6, "weighted": 110.41}
    assert out["groups"] == 3 and out["truncated"] is False


def test_a_rep_totals_cover_only_her_records(work):
    out = rows(work, "pipeline", "alice")
    assert out["rows"] == [["prospecting", 2, 100.1, 10.01], ["negotiation", 1, 200.2, 100.1]]
    assert out["totals"] == {"deals": 3, "amount": 300.3, "weighted": 110.11}


def test_a_manager_sees_his_team(work):
    out = rows(work, "pipeline", "boss")
    assert out["rows"] == [["prospecting", 2, 100.1, 10.01],
                           ["negotiation", 1, 200.2, 100.1],
                           ["won", 2, 0.3, 0.3]]
    assert out["totals"] == {"deals": 5, "amount": 300.6, "weighted": 110.41}


def test_two_levels_month_then_stage_blank_last(work):
    out = rows(work, "by_month")
    assert out["rows"] == [["2026-01", "prospecting", 1, 100.1],
                           ["2026-01", "negotiation", 1, 200.2],
                           ["2026-02", "won", 1, 0.2],
                           ["2026-03", "won", 1, 0.1],
                           ["2026-04", "negotiation", 1, 1000],
                           ["2026-04", "lost", 1, 5],
                           [None, "prospecting", 1, None]]
    assert out["totals"] == {"deals": 7, "amount": 1305.6}


def test_every_measure_without_group_by_is_one_row_of_totals(work):
    out = rows(work, "totals")
    expected = [7, 1305.6, 217.6, 0.1, 1000, 4, "2026-01-15", "2026-03-31T17:00:00Z"]
    assert out["rows"] == [expected]
    assert list(out["totals"].values()) == expected


def test_runtime_filter_narrows_the_run(work):
    out = rows(work, "pipeline", filter="amount > 150")
    assert out["rows"] == [["negotiation", 2, 1200.2, 100.1]]
    assert out["totals"] == {"deals": 2, "amount": 1200.2, "weighted": 100.1}


def test_nothing_matching_gives_no_rows_and_zero_counts(work):
    out = rows(work, "pipeline", filter="amount > 1000000")
    assert out["rows"] == []
    assert out["totals"] == {"deals": 0, "amount": None, "weighted": None}
    assert out["groups"] == 0


def test_a_lookup_key_carries_the_names_of_the_records(work):
    from metabiz.reports.compiled import compile_report
    from metabiz.reports.definitions import build_report
    from metabiz.reports.engine import run
    from metabiz.reports.presenting import present

    doc = {"api_name": "by_account", "object": "deal", "group_by": [{"field": "account"}],
           "measures": [{"api_name": "amount", "function": "sum", "field": "amount"}]}
    with work("alice") as ctx:
        problems: list[str] = []
        compiled = compile_report(build_report(doc), ctx.schema, "UTC", problems)
        result = run(ctx, compiled)
    assert result.rows == [[1, 300.3], [None, None]]
    assert result.to_json()["labels"] == {"account": {"1": "Acme"}}
    shown = present(result, {"type": "bar"}, "en")
    assert [row[0][0] for row in shown.rows] == ["Acme", "(blank)"]
    assert shown.filters == ["account = 1", "ISBLANK(account)"]


def test_a_user_key_carries_display_names(work):
    from metabiz.reports.presenting import present

    doc = {"api_name": "by_owner", "object": "deal", "group_by": [{"field": "owner"}],
           "measures": [{"api_name": "n", "function": "count"}]}
    from metabiz.reports.compiled import compile_report
    from metabiz.reports.definitions import build_report
    from metabiz.reports.engine import run

    with work("boss") as ctx:
        result = run(ctx, compile_report(build_report(doc), ctx.schema, "UTC", []))
    assert result.rows == [["alice", 3], ["dan", 2]]
    assert result.labels == {"owner": {"alice": "Alice", "dan": "Dan"}}
    assert [r[0][0] for r in present(result, {"type": "bar"}, "en").rows] == ["Alice", "Dan"]


def test_blank_text_and_no_text_are_one_group_whatever_the_measures(work):
    """Text stored empty (written by SQL outside metabiz) counts as blank, with NULL: the
    adding-up measures take one path through the database, a distinct count another."""
    from sqlalchemy import update as sql_update

    from metabiz.reports.compiled import compile_report
    from metabiz.reports.definitions import build_report
    from metabiz.reports.engine import run

    def by_region(*measures):
        doc = {"api_name": "by_region", "object": "deal", "group_by": [{"field": "region"}],
               "measures": [{"api_name": "n", "function": "count"}, *measures]}
        with work() as ctx:
            return run(ctx, compile_report(build_report(doc), ctx.schema, "UTC", []))

    with work() as ctx:
        table = ctx.schema.object("deal").table
        ctx.conn.execute(sql_update(table).where(table.c.name == "d6").values(region=""))
    adding_up = by_region(
        {"api_name": "average", "function": "avg", "field": "amount"},
        {"api_name": "first_close", "function": "min", "field": "close_date"},
        {"api_name": "largest", "function": "max", "field": "amount"})
    assert adding_up.rows == [["north", 2, 150.15, "2026-01-15", 200.2],
                              ["south", 2, 0.15, "2026-02-01", 0.2],
                              ["west", 1, 5, "2026-04-15", 5],
                              [None, 2, 1000, "2026-04-01", 1000]]
    assert adding_up.totals == {"n": 7, "average": 217.6, "first_close": "2026-01-15",
                                "largest": 1000}
    distinct = by_region({"api_name": "owners", "function": "count_distinct",
                          "field": "owner"})
    assert distinct.rows == [["north", 2, 1], ["south", 2, 1], ["west", 1, 1], [None, 2, 2]]
    assert distinct.totals == {"n": 7, "owners": 3}
