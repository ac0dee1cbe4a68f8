"""Search finds what an import wrote (SQLite fills its index once at the import's end): new
rows, rows the import updated, nothing of an import refused, and records made afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from metabiz.objects import records
from metabiz.objects.search import search
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import load_actor
from metabiz.platform.db import writer


def found(engine, runtime, words: str) -> list[str]:
    """The names of the opportunities a search finds, as the admin's search box shows them."""
    with engine.connect() as conn:
        ctx = runtime.context(conn, load_actor(conn, "admin"))
        return sorted(h.name for h in search(ctx, words, objects=["opportunity"], limit=50))


def write(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("name,code,amount\n" + body, encoding="utf-8")
    return str(path)


def test_search_finds_every_imported_row(cli, engine, runtime, tmp_path):
    lines = "".join(f"Harbour deal {n},H-{n},{n}\n" for n in range(1, 2501))
    result = cli("import", "opportunity", write(tmp_path, "deals.csv",
                                                lines + "华东大单,H-CN,5\n"))
    assert result.exit_code == 0, result.output
    assert found(engine, runtime, "Harbour deal 1234") == ["Harbour deal 1234"]
    assert found(engine, runtime, "华东大单") == ["华东大单"]
    assert found(engine, runtime, "H-2500") == ["Harbour deal 2500"]
    with engine.connect() as conn:
        ctx = runtime.context(conn, load_actor(conn, "admin"))
        hits = search(ctx, "Harbour", objects=["opportunity"], limit=50)
    assert len(hits) == 50  # the search's page of 2,500 matches


def test_records_written_after_an_import_are_found(cli, engine, runtime, tmp_path):
    path = write(tmp_path, "a.csv", "Lighthouse,L-1,1\n")
    assert cli("import", "opportunity", path).exit_code == 0
    refused = cli("import", "opportunity", path, "--as", "bob")  # his role may not import
    assert refused.exit_code != 0 and "may not import" in refused.output
    with writer(engine).begin() as conn:
        records.create(runtime.context(conn, SYSTEM), "opportunity",
                       {"name": "Lighthouse later"})
    assert found(engine, runtime, "Lighthouse") == ["Lighthouse", "Lighthouse later"]


def test_a_refused_import_leaves_nothing_to_find(cli, engine, runtime, tmp_path):
    path = write(tmp_path, "bad.csv", "Quarry one,Q-1,1\nQuarry two,Q-2,-5\n")
    result = cli("import", "opportunity", path)
    assert result.exit_code == 1
    assert found(engine, runtime, "Quarry") == []
    assert cli("import", "opportunity", path, "--dry-run").exit_code == 1
    assert found(engine, runtime, "Quarry") == []
    skipped = cli("import", "opportunity", path, "--skip-bad-rows")
    assert skipped.exit_code == 0, skipped.output
    assert found(engine, runtime, "Quarry") == ["Quarry one"]


def test_rows_an_import_updates_are_found_by_their_new_values(cli, engine, runtime, tmp_path):
    assert cli("import", "opportunity",
               write(tmp_path, "a.csv", "Orchard,O-1,1\n")).exit_code == 0
    result = cli("import", "opportunity",
                 write(tmp_path, "b.csv", "Meadow,O-1,2\nMeadow two,O-2,3\n"), "--key", "code")
    assert result.exit_code == 0, result.output
    assert found(engine, runtime, "Orchard") == []
    assert found(engine, runtime, "Meadow") == ["Meadow", "Meadow two"]


def test_the_index_holds_each_record_once(cli, engine, db_url, tmp_path):
    """SQLite: one index entry per record after imports, refused imports and later writes."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's search indexes are the table's own")
    assert cli("import", "opportunity",
               write(tmp_path, "a.csv", "Alpha,A-1,1\nBeta,A-2,2\n")).exit_code == 0
    assert cli("import", "opportunity",
               write(tmp_path, "b.csv", "Gamma,A-3,1\nDelta,A-4,-2\n")).exit_code == 1
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM obj_opportunity ORDER BY id")).scalars().all()
        indexed = conn.execute(text("SELECT rowid FROM search_opportunity_fts ORDER BY rowid")
                               ).scalars().all()
        triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name LIKE 'search_opportunity_fts_%'")).scalars()
        assert sorted(triggers) == [f"search_opportunity_fts_{s}" for s in ("ad", "ai", "au")]
    assert indexed == ids and len(ids) == 2
