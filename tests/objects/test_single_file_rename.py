"""An object renamed by applying its one file (`renamed_from`), not its whole app folder."""

from __future__ import annotations

import json

from sqlalchemy import inspect

from metabiz.app import build_runtime
from metabiz.objects import records
from metabiz.objects.evolution import apply_path
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer
from metabiz.platform.metadata.store import load_documents

NOTE = {"api_name": "note", "label": "Note", "name_field": "title",
        "fields": [{"api_name": "title", "type": "text", "required": True}]}


def test_renaming_an_object_through_its_own_file_keeps_its_records(engine, tmp_path,
                                                                  extensions):
    app = tmp_path / "notes"
    (app / "objects").mkdir(parents=True)
    (app / "app.json").write_text(json.dumps({"name": "notes", "version": "1.0.0"}))
    (app / "objects" / "note.json").write_text(json.dumps(NOTE))
    apply_path(engine, app, extensions=extensions)
    runtime = build_runtime(engine)
    with writer(engine).begin() as conn:
        made = records.create(runtime.context(conn, SYSTEM), "note", {"title": "Keep me"})
    renamed = tmp_path / "memo.json"
    renamed.write_text(json.dumps({**NOTE, "api_name": "memo", "renamed_from": "note"}))

    plan = apply_path(engine, renamed, extensions=extensions)

    assert plan.version is not None
    with engine.connect() as conn:
        stored = load_documents(conn)
        assert "notes/objects/memo.json" in stored and "notes/objects/note.json" not in stored
        assert "obj_memo" in inspect(conn).get_table_names()
    with writer(engine).begin() as conn:
        kept = records.get(build_runtime(engine).context(conn, SYSTEM), "memo", made["id"])
    assert kept["title"] == "Keep me"
