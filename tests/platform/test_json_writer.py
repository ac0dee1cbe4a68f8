"""The app's JSON writer (orjson) gives the JSON the standard library's writer gave.

Every value a view may hand `jsonify` — exact numbers at any depth, dates (Flask writes them
as HTTP dates), Decimals (as text), non-text keys, Chinese text — and what orjson refuses
(integers past 64 bits, lone surrogates), which the standard library still writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, jsonify

from metabiz.formulas import ExactNumber
from metabiz.platform.web.exact_json import ExactJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    y: str


EXACT = ExactNumber(Decimal("1234567890123456.78"))
VALUES: list[Any] = [
    {"records": [{"id": 1, "amount": 0.1, "big": EXACT, "when": "2026-11-23T08:00:00Z"}],
     "total": 1},
    [EXACT, [EXACT, {"deep": ExactNumber(Decimal("-0.12345678901234567"))}], 1e-7, 1e16],
    {"day": dt.date(2026, 2, 28), "moment": dt.datetime(2026, 2, 28, 8, 30, tzinfo=dt.UTC),
     "money": Decimal("12.50"), "id": uuid.UUID(int=5), "point": Point(1, "a")},
    {1: "one", None: "none", False: "no", 2.5: "half"},
    {"name": "客户 Acme", "emoji": "😀", "quote": "a\"b\\c\n", "nul": "\x00"},
    {"huge": 2**70, "negative": -(2**64)},
    {"broken": "a\ud800b"},
    [], {}, None, True, "text", 0,
]


def _standard(value: Any) -> Any:
    """What the standard library's writer (Flask's own, exact numbers unquoted) meant."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # as ours (mixed keys)
    with app.app_context():
        return json.loads(app.json.dumps(_plain(value)))


def _plain(value: Any) -> Any:
    if type(value) is ExactNumber:
        return float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.json = ExactJSONProvider(app)
    return app


@pytest.mark.parametrize("value", VALUES)
def test_the_writer_gives_the_standard_librarys_json(app, value):
    with app.app_context():
        text = app.json.dumps(value)
        body = jsonify(value).get_data()
    assert json.loads(text) == _standard(value)
    assert _exact(body) == _exact(text) and body.endswith(b"\n")
    if any(item is EXACT for item in _flat(value)):
        assert "1234567890123456.78" in text  # every digit, not the float's


def _flat(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for item in value.values() for x in _flat(item)]
    if isinstance(value, list):
        return [x for item in value for x in _flat(item)]
    return [value]


def test_exact_numbers_keep_every_digit_and_dates_stay_http_dates(app):
    with app.app_context():
        text = app.json.dumps({"n": EXACT, "day": dt.date(2026, 2, 28), "m": Decimal("1.50")})
    assert text == '{"n":1234567890123456.78,"day":"Sat, 28 Feb 2026 00:00:00 GMT","m":"1.50"}'
    assert _exact(text)["n"] == Decimal("1234567890123456.78")


def test_debug_responses_are_indented_as_before(app):
    app.debug = True
    value = {"a": [1, {"b": EXACT}], "c": {}}
    with app.app_context():
        body = jsonify(value).get_data(as_text=True)
    expected = json.dumps(_plain(value), indent=2).replace("1234567890123456.8",
                                                          "1234567890123456.78")
    assert body == expected + "\n"


def test_what_orjson_refuses_is_written_by_the_standard_library(app):
    with app.app_context():
        assert json.loads(app.json.dumps({"huge": 2**70})) == {"huge": 2**70}
        assert app.json.dumps({"s": "a\ud800b"}) == '{"s": "a\\ud800b"}'
        with pytest.raises(TypeError):  # what neither writes stays an error
            app.json.dumps({"s": {1, 2}})
