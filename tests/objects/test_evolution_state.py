"""Random sequences of metadata changes and record writes: no stored value vanishes silently.

After every step each value is preserved, converted as its type's `convert` says, listed in
sys_conversion_losses, or the apply was refused and nothing moved (a Hypothesis state machine).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import column as column_named
from sqlalchemy import create_engine, select, type_coerce
from sqlalchemy import table as table_named
from sqlalchemy.engine import make_url

from metabiz.errors import MetadataError
from metabiz.objects import records
from metabiz.objects.fields import field_type
from metabiz.objects.runtime import Runtime
from metabiz.objects.sync import apply_path, restore
from metabiz.platform.access import SYSTEM
from metabiz.platform.app import prepare_database
from metabiz.platform.db import make_engine, writer
from metabiz.platform.metadata.loader import load_documents
from metabiz.platform.metadata.model import FieldDef, MetadataBundle
from metabiz.platform.metadata.store import list_losses

TYPES = ("text", "long_text", "number", "date", "boolean", "picklist")
CHOICES = [{"value": v, "label": label} for v, label in
           (("a", "Alpha"), ("b", "Beta"), ("c", "甲"))]
WORDS = st.one_of(
    st.text(alphabet="abc 中文商机xyz,.-", min_size=1, max_size=12),
    st.sampled_from(["12.50", "-3.00", "0.07", "2020-02-29", "1999-12-31", "true", "false",
                     "a", "Beta", "甲", "1e3", "３"]))
VALUES = {
    "text": WORDS, "long_text": WORDS,
    "number": st.decimals(min_value=-10**6, max_value=10**6, places=2, allow_nan=False,
                          allow_infinity=False).map(str),
    "date": st.dates().map(lambda d: d.isoformat()),
    "boolean": st.booleans(),
    "picklist": st.sampled_from(["a", "b", "c"]),
}


def definition(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"api_name": name, "type": kind, **extra}
    if kind == "number":
        doc.setdefault("scale", 2)
    if kind == "picklist":
        doc["values"] = CHOICES
    return doc


def field_def(doc: dict[str, Any]) -> FieldDef:
    """A field definition as the loader builds it."""
    thing = {"api_name": "thing", "label": "Thing", "fields": [doc]}
    return load_documents({"objects/thing.json": thing}).objects[0].fields[0]


class Evolution(RuleBasedStateMachine):
    """The model: every record's value of every field, active or removed."""

    #: "sqlite", or the URL of a PostgreSQL server to make a schema per example on
    database = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="metabiz-evolution-"))
        self.schema = f"evo_{uuid.uuid4().hex[:12]}"
        if self.database == "sqlite":
            url = f"sqlite:///{self.tmp}/db.sqlite"
        else:
            with create_engine(self.database).begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
            url = make_url(self.database).update_query_dict(
                {"options": f"-csearch_path={self.schema}"}).render_as_string(
                    hide_password=False)
        self.engine = make_engine(url)
        prepare_database(self.engine)
        self.runtime = Runtime(self.engine)
        self.folder = self.tmp / "app"
        (self.folder / "objects").mkdir(parents=True)
        (self.folder / "app.json").write_text(json.dumps(
            {"name": "evo", "version": "1.0.0", "label": "Evolution"}))
        self.defs: dict[str, dict[str, Any]] = {}  # active fields, in order
        self.removed: dict[str, dict[str, Any]] = {}
        self.values: dict[int, dict[str, Any]] = {}  # record id → field → value (all fields)
        self.names = 0
        self.apply()

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.database != "sqlite":
            admin = create_engine(self.database)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")
            admin.dispose()

    # -- helpers ------------------------------------------------------------------------
    def fresh(self) -> str:
        self.names += 1
        return f"f{self.names}"

    def apply(self, blank: bool = False) -> None:
        doc = {"api_name": "thing", "label": "Thing",
               "fields": [{"api_name": "title", "type": "text"}, *self.defs.values()]}
        (self.folder / "objects" / "thing.json").write_text(json.dumps(doc))
        apply_path(self.engine, self.folder, convert_failures="blank" if blank else None)

    def stored(self, name: str, doc: dict[str, Any]) -> dict[int, Any]:
        """Every record's value of a field's column, active or not, read as `doc` says."""
        fdef = field_def(doc)
        ftype = field_type(fdef.type)
        column = type_coerce(column_named(name), ftype.column_type(fdef, MetadataBundle(None)))
        with self.engine.connect() as conn:
            rows = conn.execute(select(column_named("id"), column)
                                .select_from(table_named("obj_thing"))).all()
        return {i: ftype.from_db(fdef, raw) for i, raw in rows}

    def expect_unchanged(self) -> None:
        for name, doc in {**self.defs, **self.removed}.items():
            assert self.stored(name, doc) == {i: v[name] for i, v in self.values.items()}

    def losses(self) -> dict[tuple[str, int], str | None]:
        with self.engine.connect() as conn:
            return {(x.field, x.record_id): x.old_value for x in list_losses(conn, "thing")}

    # -- rules --------------------------------------------------------------------------
    @rule(kind=st.sampled_from(TYPES), default=st.booleans())
    def add_field(self, kind: str, default: bool) -> None:
        name = self.fresh()
        extra = {}
        if default and kind in ("text", "number", "boolean"):
            extra["default"] = {"text": '"新"', "number": "7.25", "boolean": "TRUE"}[kind]
        self.defs[name] = definition(name, kind, **extra)
        self.apply()
        fdef, ftype = field_def(self.defs[name]), field_type(kind)
        value = None
        if extra:
            value = ftype.from_text(fdef, {"text": "新", "number": "7.25", "boolean": "true"}[kind])
        for record in self.values.values():
            record[name] = ftype.from_db(fdef, ftype.to_db(fdef, value))

    @rule(data=st.data(), count=st.integers(min_value=1, max_value=3))
    def write_records(self, data: st.DataObject, count: int) -> None:
        for _ in range(count):
            self.write_record(data)

    def write_record(self, data: st.DataObject) -> None:
        given = {name: data.draw(st.none() | VALUES[doc["type"]], label=name)
                 for name, doc in self.defs.items()}
        for name, doc in self.defs.items():
            limit = doc.get("max_length")
            if limit and isinstance(given[name], str):
                given[name] = given[name][:limit]
        with writer(self.engine).begin() as conn:
            created = records.create(self.runtime.context(conn, SYSTEM), "thing", given)
        self.values[created["id"]] = {  # a removed field's column stays blank
            name: field_type(doc["type"]).from_db(field_def(doc), None)
            for name, doc in self.removed.items()}
        for name, doc in self.defs.items():
            fdef, ftype = field_def(doc), field_type(doc["type"])
            raw = given[name]
            value = ftype.from_text(fdef, raw if isinstance(raw, str) else
                                    str(raw).lower()) if raw is not None else None
            self.values[created["id"]][name] = ftype.from_db(fdef, ftype.to_db(fdef, value))

    @precondition(lambda self: bool(self.defs))
    @rule(data=st.data())
    def rename_field(self, data: st.DataObject) -> None:
        old = data.draw(st.sampled_from(sorted(self.defs)))
        new = self.fresh()
        self.defs = {(new if k == old else k): ({**v, "api_name": new, "renamed_from": old}
                                                if k == old else v)
                     for k, v in self.defs.items()}
        self.apply()
        del self.defs[new]["renamed_from"]
        for record in self.values.values():
            record[new] = record.pop(old)

    @precondition(lambda self: bool(self.defs))
    @rule(data=st.data(), blank=st.booleans())
    def convert_field(self, data: st.DataObject, blank: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.defs)))
        source = self.defs[name]["type"]
        targets = sorted(t for t in field_type(source).converts_to if t in TYPES and t != source)
        kind = data.draw(st.sampled_from(targets))
        self.change(name, self.defs[name], definition(name, kind), blank)

    @precondition(lambda self: any(d["type"] == "text" for d in self.defs.values()))
    @rule(data=st.data(), length=st.integers(min_value=1, max_value=8), blank=st.booleans())
    def shorten_text(self, data: st.DataObject, length: int, blank: bool) -> None:
        name = data.draw(st.sampled_from(sorted(n for n, d in self.defs.items()
                                                if d["type"] == "text")))
        self.change(name, self.defs[name], {**self.defs[name], "max_length": length}, blank)

    def change(self, name: str, old_doc: dict[str, Any], new_doc: dict[str, Any],
               blank: bool) -> None:
        old, new = field_def(old_doc), field_def(new_doc)
        source, target = field_type(old.type), field_type(new.type)
        expected: dict[int, Any] = {}
        failed: dict[int, str | None] = {}
        for record_id, record in self.values.items():
            value = record[name]
            if value is None:
                expected[record_id] = target.from_db(new, None)
                continue
            try:
                converted = value if old.type == new.type else \
                    target.convert(new, source, old, value)
                converted = target.normalise(new, converted)
                if old.type == new.type and new.max_length and len(converted) > new.max_length:
                    raise ValueError("too long")
            except ValueError:
                failed[record_id] = source.as_text(old, value)
                expected[record_id] = target.from_db(new, None)
                continue
            expected[record_id] = target.from_db(new, target.to_db(new, converted))
        self.defs[name] = new_doc
        losses_before = self.losses()
        try:
            self.apply(blank)
        except MetadataError:
            assert failed and not blank, "refused although every value converts"
            self.defs[name] = old_doc
            self.expect_unchanged()
            return
        assert blank or not failed, "applied although values could not convert"
        losses = self.losses()
        for record_id, old_text in failed.items():  # what was blanked is listed
            assert losses[(name, record_id)] == old_text
        assert len(losses) - len(losses_before) == len(failed)
        for record_id, record in self.values.items():
            record[name] = expected[record_id]

    @precondition(lambda self: bool(self.defs))
    @rule(data=st.data())
    def remove_field(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.defs)))
        self.removed[name] = self.defs.pop(name)
        self.apply()

    @precondition(lambda self: bool(self.removed))
    @rule(data=st.data())
    def restore_field(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.removed)))
        restore(self.engine, f"thing.{name}")
        self.defs[name] = self.removed.pop(name)

    # -- what must always hold ----------------------------------------------------------
    @invariant()
    def nothing_vanished(self) -> None:
        with self.engine.connect() as conn:
            obj = self.runtime.schema(conn).object("thing")
            rows = conn.execute(select(obj.table).order_by(obj.table.c.id)).mappings().all()
            active = {row["id"]: obj.decode(row) for row in rows}
        assert set(active) == set(self.values)
        for record_id, record in self.values.items():
            for name in self.defs:
                assert active[record_id][name] == record[name], (record_id, name)
            for name in self.removed:
                assert name not in active[record_id]
        for name, doc in self.removed.items():  # removed fields keep their values
            assert self.stored(name, doc) == {i: v[name] for i, v in self.values.items()}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_random_changes_and_writes_lose_nothing_silently(database):
    if database == "postgresql":
        database = os.environ.get("METABIZ_TEST_POSTGRES_URL", "")
        if not database:
            pytest.skip("PostgreSQL not available (METABIZ_TEST_POSTGRES_URL unset)")
    machine = type("EvolutionOn", (Evolution,), {"database": database})
    run_state_machine_as_test(machine, settings=settings(  # PostgreSQL's applies cost more
        max_examples=20 if database == "sqlite" else 10, stateful_step_count=8, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
