"""Every field-type conversion the matrix allows, on SQLite and PostgreSQL, with real data.

One field per allowed pair, with blanks, Chinese text, boundary decimals and dates: each value
becomes what the table says, or is refused, or is blanked and listed in sys_conversion_losses.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from metabiz.app import build_runtime
from metabiz.errors import MetadataError
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.objects.fields import all_field_types
from metabiz.platform.auth import create_user, load_actor
from metabiz.platform.db import writer
from metabiz.platform.metadata.store import list_losses

FAIL = object()  #: the value cannot convert
UTC = dt.UTC
CHOICES = [{"value": "tech", "label": {"en": "Technology", "zh": "科技"}},
           {"value": "retail", "label": {"en": "Retail", "zh": "零售"}}]

#: how each type's fields are defined, as source and (unless a pair says otherwise) target
DEFS: dict[str, dict[str, Any]] = {
    "text": {"type": "text"},
    "long_text": {"type": "long_text"},
    "email": {"type": "email"},
    "phone": {"type": "phone"},
    "url": {"type": "url"},
    "number": {"type": "number", "scale": 2},
    "currency": {"type": "currency"},
    "percent": {"type": "percent"},
    "picklist": {"type": "picklist", "values": CHOICES},
    "multi_picklist": {"type": "multi_picklist", "values": CHOICES},
    "date": {"type": "date"},
    "datetime": {"type": "datetime"},
    "boolean": {"type": "boolean"},
    "lookup": {"type": "lookup", "target": "place", "on_delete": "restrict"},
    "user": {"type": "user"},
    "auto_number": {"type": "auto_number", "format": "A-{000}"},
}

#: target definitions that differ from DEFS for one pair
TARGETS: dict[tuple[str, str], dict[str, Any]] = {
    ("currency", "number"): {"type": "number"},  # scale 0: cents cannot be kept
    ("picklist", "multi_picklist"): {"type": "multi_picklist", "values": CHOICES[:1]},
}

LONG = "长" * 300

#: (source, target) → [(input as the API takes it, expected value after the conversion)]
MATRIX: dict[tuple[str, str], list[tuple[Any, Any]]] = {
    ("text", "long_text"): [("中文 text", "中文 text"), ("", None), (None, None)],
    ("text", "number"): [(" 42 ", D(42)), ("1,234.5", D("1234.5")), ("１２３", D(123)),
                         ("-9999999999999.99", D("-9999999999999.99")), ("1e3", D(1000)),
                         ("0.005", FAIL), ("abc", FAIL), ("中文", FAIL),
                         ("12345678901234567890", FAIL), ("NaN", FAIL), (None, None)],
    ("text", "currency"): [("$1,234.50", D("1234.5")), ("¥12", D(12)), ("12.345", FAIL),
                           ("", None)],
    ("text", "percent"): [("15%", D(15)), ("12.5", D("12.5")), ("百分之十", FAIL)],
    ("text", "date"): [("2020-02-29", dt.date(2020, 2, 29)), ("2020/2/29", dt.date(2020, 2, 29)),
                       ("2020年2月29日", dt.date(2020, 2, 29)), ("2021-02-29", FAIL),
                       ("29/02/2020", FAIL), (None, None)],
    ("text", "datetime"): [
        ("2020-02-29T17:05:00Z", dt.datetime(2020, 2, 29, 17, 5, tzinfo=UTC)),
        ("2020-02-29 17:05:00Z", dt.datetime(2020, 2, 29, 17, 5, tzinfo=UTC)),
        ("2020-02-29T17:05:00+08:00", dt.datetime(2020, 2, 29, 9, 5, tzinfo=UTC)),
        ("2020-02-29", dt.datetime(2020, 2, 29, tzinfo=UTC)), ("noon", FAIL)],
    ("text", "boolean"): [("true", True), ("是", True), ("no", False), ("0", False),
                          ("maybe", FAIL), ("", False)],
    ("text", "email"): [("li.lei@example.cn", "li.lei@example.cn"), (" a@b.co ", "a@b.co"),
                        ("not an email", FAIL)],
    ("text", "phone"): [("+86 10 1234 5678", "+86 10 1234 5678"), ("电话", FAIL)],
    ("text", "url"): [("https://example.com/中文", "https://example.com/中文"),
                      ("ftp://example.com", FAIL), ("example", FAIL)],
    ("text", "picklist"): [("tech", "tech"), ("Technology", "tech"), ("零售", "retail"),
                           (" retail ", "retail"), ("other", FAIL), (None, None)],
    ("text", "multi_picklist"): [("tech;retail", ("tech", "retail")),
                                 ("零售；tech", ("tech", "retail")), ("tech;other", FAIL)],
    ("long_text", "text"): [("多行\n文本", "多行\n文本"), (LONG, FAIL), (None, None)],
    ("email", "text"): [("王@example.com", "王@example.com")],
    ("phone", "text"): [("+86 10 1234 5678", "+86 10 1234 5678")],
    ("url", "text"): [("https://example.com/a?b=1", "https://example.com/a?b=1")],
    ("number", "text"): [("12.5", "12.50"), ("-9999999999999.99", "-9999999999999.99"),
                         (0, "0.00"), (None, None)],
    ("number", "currency"): [("12.5", D("12.5")), ("-9999999999999.99", D("-9999999999999.99"))],
    ("number", "percent"): [("0.01", D("0.01"))],
    ("currency", "text"): [("1234.5", "1234.50")],
    ("currency", "number"): [("12", D(12)), ("12.5", FAIL), (None, None)],
    ("currency", "percent"): [("99.99", D("99.99"))],
    ("percent", "text"): [("15", "15.00")],
    ("percent", "number"): [("-0.01", D("-0.01"))],
    ("percent", "currency"): [("100", D(100))],
    ("picklist", "text"): [("tech", "tech"), (None, None)],
    ("picklist", "multi_picklist"): [("tech", ("tech",)), ("retail", FAIL)],
    ("multi_picklist", "text"): [(["retail", "tech"], "tech;retail"), (None, None)],
    ("date", "text"): [("2020-02-29", "2020-02-29")],
    ("date", "datetime"): [("2020-02-29", dt.datetime(2020, 2, 29, tzinfo=UTC)), (None, None)],
    ("datetime", "text"): [("2020-02-29T17:05:00Z", "2020-02-29T17:05:00Z")],
    ("datetime", "date"): [("2020-02-29T23:30:00Z", dt.date(2020, 2, 29)),
                           ("2020-03-01T01:00:00+08:00", dt.date(2020, 2, 29))],
    ("boolean", "text"): [(True, "true"), (False, "false"), (None, "false")],
    ("lookup", "text"): [(1, "北京分公司"), (2, "Acme"), (3, FAIL), (None, None)],
    ("user", "text"): [("alice", "alice"), (None, None)],
    ("auto_number", "text"): [(None, "A-001"), (None, "A-002")],
}

#: the places a lookup points to: the third has no name, so it cannot convert to text
PLACES = [{"name": "北京分公司"}, {"name": "Acme"}, {}]


def allowed_pairs() -> set[tuple[str, str]]:
    return {(name, target) for name, ftype in all_field_types().items() if ftype.stored
            for target in ftype.converts_to if target != name}


def test_the_matrix_covers_every_allowed_conversion():
    assert set(MATRIX) == allowed_pairs()
    assert ("lookup", "lookup") not in allowed_pairs()  # a lookup's target never changes
    assert not all_field_types()["master_detail"].converts_to


def name_of(pair: tuple[str, str]) -> str:
    return f"{pair[0]}_to_{pair[1]}"


def write_app(folder: Path, converted: bool) -> Path:
    fields = [{"api_name": "title", "type": "text"}]
    for pair in MATRIX:
        definition = (TARGETS.get(pair) or DEFS[pair[1]]) if converted else DEFS[pair[0]]
        fields.append({"api_name": name_of(pair), **definition})
    (folder / "objects").mkdir(parents=True, exist_ok=True)
    (folder / "app.json").write_text(json.dumps({"name": "matrix", "version": "1.0.0",
                                                 "label": "Matrix"}))
    place = {"api_name": "place", "label": "Place", "name_field": "name",
             "fields": [{"api_name": "name", "type": "text"}]}
    thing = {"api_name": "thing", "label": "Thing", "name_field": "title", "fields": fields}
    for doc in (place, thing):
        (folder / "objects" / f"{doc['api_name']}.json").write_text(
            json.dumps(doc, ensure_ascii=False))
    return folder


@pytest.fixture
def loaded(engine, tmp_path, extensions):
    """The app applied with every source field, one record per row of the longest column."""
    folder = write_app(tmp_path / "matrix", converted=False)
    apply_path(engine, folder, extensions=extensions)
    with writer(engine).begin() as conn:
        create_user(conn, "admin", "admin-pw", roles=["admin"])
        create_user(conn, "alice", "alice-pw")
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "admin"))
        records.create_many(ctx, "place", PLACES)
        rows = max(len(samples) for samples in MATRIX.values())
        records.create_many(ctx, "thing", [
            {"title": f"row {i}", **{name_of(pair): samples[i][0]
                                     for pair, samples in MATRIX.items()
                                     if i < len(samples) and pair[0] != "auto_number"}}
            for i in range(rows)])
    return engine, folder


def stored(engine) -> list[dict[str, Any]]:
    runtime = build_runtime(engine)
    with engine.connect() as conn:
        obj = runtime.schema(conn).object("thing")
        rows = conn.execute(select(obj.table).order_by(obj.table.c.id)).mappings().all()
        return [obj.decode(row) for row in rows]


def test_every_pair_converts_its_values_or_lists_them(loaded, extensions):
    engine, folder = loaded
    before = stored(engine)
    write_app(folder, converted=True)
    with pytest.raises(MetadataError) as caught:
        apply_path(engine, folder, extensions=extensions)
    refused = {p.split("/fields/")[1].split("/")[0] for p in caught.value.problems}
    failing = {pair for pair, samples in MATRIX.items() if any(e is FAIL for _, e in samples)}
    assert refused == {str(1 + list(MATRIX).index(pair)) for pair in failing}
    text_to_number = next(p for p in caught.value.problems if "thing.text_to_number" in p)
    assert text_to_number.startswith("objects/thing.json: /fields/2/type: cannot convert 5 of "
                                     "10 values of thing.text_to_number from text to number")
    assert "    id 6: '0.005' (has more than 2 decimal places)" in text_to_number
    assert stored(engine) == before  # a refusal changes nothing

    plan = apply_path(engine, folder, convert_failures="blank", extensions=extensions)
    assert {s for s in plan.steps if s.startswith("convert ")} == {
        f"convert thing.{name_of(pair)} from {pair[0]} to {pair[1]}" for pair in MATRIX}
    after = stored(engine)
    with engine.connect() as conn:
        losses = {(loss.field, loss.record_id): loss for loss in list_losses(conn, "thing")}
    for pair, samples in MATRIX.items():
        name = name_of(pair)
        for row, (given, expected) in enumerate(samples):
            value = after[row][name]
            if expected is FAIL:
                assert value is (False if pair[1] == "boolean" else None), (pair, given)
                loss = losses.pop((name, row + 1))
                assert loss.old_type == pair[0] and loss.old_value is not None
            else:
                assert value == expected, (pair, given, value)
                assert type(value) is type(expected) or expected is None, (pair, given)
    assert not losses  # only the failures were blanked

    columns = {c["name"] for c in inspect(engine).get_columns("obj_thing")}
    version = plan.version
    for pair in MATRIX:  # the old values stay beside the new ones
        assert f"{name_of(pair)}__v{version}" in columns
    lookups = [row[f"lookup_to_text__v{version}"] for row in raw_rows(engine)]
    assert lookups[:4] == [1, 2, 3, None]


def raw_rows(engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.exec_driver_sql(
            "SELECT * FROM obj_thing ORDER BY id").mappings()]


def test_a_converted_lookup_no_longer_holds_its_target(loaded, extensions):
    """The ids kept beside a lookup converted to text never stop a place being deleted."""
    engine, folder = loaded
    write_app(folder, converted=True)
    apply_path(engine, folder, convert_failures="blank", extensions=extensions)
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        ctx = runtime.context(conn, load_actor(conn, "admin"))
        records.delete(ctx, "place", 1)
    assert [r["lookup_to_text"] for r in stored(engine)][:2] == ["北京分公司", "Acme"]
