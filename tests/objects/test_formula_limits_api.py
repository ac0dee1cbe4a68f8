"""No formula stalls a worker or answers 500, through the API on SQLite and PostgreSQL:
`POST /api/v1/formulas/evaluate` and list `?filter=` (docs/formulas.md, Limits)."""

from __future__ import annotations

import pytest

A30 = "a" * 30


@pytest.fixture
def client(api_client):
    """The API as admin, with one account: Acme."""
    assert api_client.post("/api/v1/records/account", json={"name": "Acme"}).status_code == 201
    return api_client


def evaluate(client, formula: str, record: dict | None = None):
    return client.post("/api/v1/formulas/evaluate",
                       json={"object": "account", "formula": formula, "record": record or {}})


def listed(client, formula: str):
    return client.get("/api/v1/records/account", query_string={"filter": formula})


def refused(response, *words: str) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    for word in words:
        assert word in error["message"], error["message"]
    return error


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["name"] for r in response.get_json()["records"]]


def test_regex_runs_on_a_linear_engine(client):
    # (a+)+b backtracks for ever in Python's re; RE2 answers at once (the result is asserted,
    # not the time: a backtracking engine would hold the worker here)
    assert evaluate(client, f'REGEX("{A30}", "(a+)+b")').get_json()["value"] is False
    assert evaluate(client, f'REGEX("{A30}b", "(a+)+b")').get_json()["value"] is True
    assert names(listed(client, f'REGEX(name & "{A30}", "(a+)+b")')) == []
    assert names(listed(client, 'REGEX(name, "A(c|k)me")')) == ["Acme"]
    # RE2's syntax: no backreferences; a pattern RE2 cannot read is a check error
    error = refused(evaluate(client, 'REGEX(name, "(a)\\\\1")'), "REGEX: invalid pattern")
    assert error["column"] == 13


def test_numbers_beyond_10_26_are_refused_fast(client):
    refused(evaluate(client, 'VALUE("1e999999")'), "VALUE: the number is too large")
    refused(evaluate(client, "POWER(10, 1000000)"), "POWER: the number is too large")
    refused(evaluate(client, "10 ^ 26"), "POWER: the number is too large")
    refused(evaluate(client, "1" * 27), "the number is too large")
    assert evaluate(client, "10 ^ 25").get_json()["value"] == 10 ** 25
    refused(evaluate(client, "credit_limit * 2", {"credit_limit": "1e999"}), "record:")
    # in a filter the database gives blank where Python reports the error
    assert names(listed(client, "POWER(10, 1000000) > 0")) == []
    assert names(listed(client, "ISBLANK(POWER(10, 26))")) == ["Acme"]


def test_texts_stop_at_the_limit(client):
    refused(evaluate(client, 'LPAD("a", 100000000, "b")'), "LPAD: the text would be longer")
    refused(evaluate(client, 'SUBSTITUTE(LPAD(name, 100000, "x"), "x", "yy")'), "SUBSTITUTE")
    refused(evaluate(client, 'LPAD(name, 131072) & "!"'), "&: the text would be longer")
    assert evaluate(client, 'LEN(LPAD("a", 131072, "xy"))').get_json()["value"] == 131072
    assert names(listed(client, 'LEN(LPAD(name, 100000000, "b")) > 0')) == []
    assert names(listed(client, 'ISBLANK(SUBSTITUTE(LPAD(name, 100000, "x"), "x", "yy"))')) \
        == ["Acme"]


def test_whole_number_arguments_far_out_of_range(client):
    assert evaluate(client, "RIGHT(name, 10^20)", {"name": "Acme"}).get_json()["value"] == "Acme"
    assert names(listed(client, 'RIGHT(name, 10^20) = "Acme"')) == ["Acme"]
    assert names(listed(client, 'LEFT(name, 10^20) = "Acme"')) == ["Acme"]
    assert names(listed(client, 'MID(name, 10^20, 10^20) = ""')) == ["Acme"]
    refused(evaluate(client, "ADDMONTHS(TODAY(), 10^8)"), "ADDMONTHS: the date is out of range")
    refused(evaluate(client, "WORKDAY(TODAY(), 10^20)"), "WORKDAY: the date is out of range")
    assert names(listed(client, "ADDMONTHS(TODAY(), 10^8) > TODAY()")) == []
    assert names(listed(client, "ISBLANK(TODAY() + 10^20)")) == ["Acme"]


@pytest.mark.parametrize("depth", [15, 30, 48])
def test_deeply_nested_filters_are_a_clear_400_on_sqlite(client, db_url, depth):
    sqlite = db_url.startswith("sqlite")
    nots = "NOT(" * depth + 'name = "x"' + ")" * depth
    ifs = "IF(" * depth + 'name = "x"' + ", TRUE, FALSE)" * depth
    for formula, innermost, keeps in ((nots, 4 * depth + 1, depth % 2 == 1),
                                      (ifs, 3 * depth + 1, False)):
        assert evaluate(client, formula, {"name": "Acme"}).get_json()["value"] is keeps
        response = listed(client, formula)
        if sqlite and (depth == 48 or response.status_code == 400):
            # SQLite's parser would overflow ("parser stack overflow", a 500): refused first
            error = refused(response, "too deeply for the database")
            assert (error["line"], error["column"]) == (1, innermost)
        else:
            assert names(response) == (["Acme"] if keeps else [])
    too_deep = "NOT(" * 60 + "TRUE" + ")" * 60  # past the 50 levels of any formula
    refused(evaluate(client, too_deep), "nested too deeply")
    refused(listed(client, too_deep), "nested too deeply")


def test_filters_whose_sql_would_explode_are_refused_before_building_it(client):
    # DATE reads its arguments several times in SQL: ten nested ones would be gigabytes
    nested = "DAY(DATE(2020, 1, " * 10 + "1" + "))" * 10
    assert evaluate(client, nested).get_json()["value"] == 1
    error = refused(listed(client, f"{nested} = 1"), "too large to run in the database")
    assert (error["line"], error["column"]) == (1, 1)
    assert names(listed(client, "DAY(DATE(2020, 1, DAY(DATE(2020, 1, 5)))) = 5")) == ["Acme"]
