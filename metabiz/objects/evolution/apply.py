"""Applying metadata to the database: validate → compile → check → migrate → new version.

Everything happens in one write transaction (DDL too, on PostgreSQL and SQLite), so a
refusal or any error leaves data and metadata exactly as before. The plan comes from the
applied version and what the database really holds; docs/schema-changes.md is the guide.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from metabiz.errors import MetadataError
from metabiz.objects import demo_data
from metabiz.objects.context import Context
from metabiz.objects.evolution.migration import Migration
from metabiz.objects.evolution.partial import later_problems
from metabiz.objects.evolution.plan import Plan, describe_documents
from metabiz.objects.evolution.preflight import cross_app_problems, explained, list_view_problems
from metabiz.objects.runtime import bundle_from_documents
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import SYSTEM
from metabiz.platform.db import writer
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.loader import LoadProblems, bundle_documents, load_path
from metabiz.platform.metadata.model import MetadataBundle
from metabiz.platform.metadata.store import (
    current_version,
    hold_for_apply,
    merge_app,
    save_version,
    split_apps,
)
from metabiz.platform.metadata.store import load_documents as stored_documents

#: extra problems of a change, found on its new schema (`file: /pointer: message` lines)
Check = Callable[[Connection, RuntimeSchema], list[str]]
#: work done in the applying transaction once the new version is in place
Then = Callable[[Connection, RuntimeSchema | None], None]


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def apply_path(engine: Engine, path: str | Path, *, extensions: Extensions,
               applied_by: str = "system", dry_run: bool = False,
               convert_failures: str | None = None,
               then: Then | None = None) -> Plan:
    """Apply a metadata folder (an app), a folder of app folders (what `template export`
    writes when several apps are installed: all of them, in one version) or one JSON document.

    `extensions` are the process's: their metadata checks run on the new version, and so
    does a check of the folders' `data/*.json` files against it. `then(conn, schema)` runs
    in the same transaction once the new version is in place (a template's users and
    records): its failure changes nothing either.
    """
    path = Path(path)
    folders = app_folders(path)
    with engine.connect() as conn:
        stored = stored_documents(conn)
    loaded = [(folder, _load(folder, stored, folders, extensions, engine))
              for folder in folders]
    merges = []
    for folder, bundle in loaded:
        documents = {rel: doc for rel, doc in
                     bundle_documents(bundle, extensions.document_kinds).items()
                     if not rel.startswith("data/")}
        app = bundle.app.name if folder.is_dir() and bundle.app is not None else None
        merges.append((app, documents))

    def change(current: dict[str, Any]) -> dict[str, Any]:
        for app, documents in merges:
            current = merge_app(current, app, documents)
        return current

    data = [(f"{folder.name}/" if len(loaded) > 1 else "", bundle.data)
            for folder, bundle in loaded if bundle.data]

    def check_data(conn: Connection, schema: RuntimeSchema) -> list[str]:
        ctx = Context(conn, schema, SYSTEM)
        return [problem for prefix, files in data
                for problem in demo_data.problems(ctx, files, prefix)]

    return apply_documents(engine, change, extensions=extensions, applied_by=applied_by,
                           dry_run=dry_run, convert_failures=convert_failures,
                           summary=f"apply {path.name}", check=check_data, then=then)


def app_folders(path: Path) -> list[Path]:
    """What `path` holds: itself (an app folder or one file), or its app sub-folders.

    A folder with neither an app.json nor sub-folders holding one is an error: applying
    it would otherwise say "no changes" and do nothing.
    """
    if not path.is_dir() or (path / "app.json").is_file():
        return [path]
    apps = sorted(p for p in path.iterdir() if p.is_dir() and (p / "app.json").is_file())
    if not apps:
        raise MetadataError([f"{path}: /: not a metadata folder: it has no app.json, and "
                             "no sub-folder holding one"])
    return apps


def _load(folder: Path, stored: Mapping[str, Any], folders: list[Path],
          extensions: Extensions, engine: Engine) -> MetadataBundle:
    """One app folder (or file), knowing the objects of the installed apps it does not
    replace and of the other apps applied with it. Its problems come all at once: those
    of the documents, then of the formulas, flows and data files of what did load."""
    kinds = extensions.document_kinds
    others = _objects_outside(stored, folders) | {
        file.stem for other in folders if other != folder and other.is_dir()
        for file in (other / "objects").glob("*.json")}
    try:
        return load_path(folder, known_objects=others, kinds=kinds)
    except MetadataError as err:
        old = bundle_from_documents(stored, kinds) if stored else MetadataBundle(app=None)
        problems = list(err.problems)
        if isinstance(err, LoadProblems):
            problems += later_problems(err.partial, err.problems, old.objects,
                                       extensions=extensions, engine=engine)
        with explained(old, _raw_documents(stored, folder)):
            if len(folders) > 1:  # name the app folder each problem comes from
                raise MetadataError([f"{folder.name}/{p}" for p in problems]) from None
            raise MetadataError(problems) from None


def apply_documents(engine: Engine, change: Callable[[dict[str, Any]], dict[str, Any]], *,
                    extensions: Extensions, applied_by: str, summary: str,
                    dry_run: bool = False, convert_failures: str | None = None,
                    check: Check | None = None, then: Then | None = None) -> Plan:
    """Turn the stored documents into `change(stored)` and migrate the database to match.

    `check(conn, schema)` adds problems found on the new schema (reported with the others);
    `then(conn, schema)` runs last in the same transaction (also when the metadata did not
    change: then `schema` is None and the current one applies)."""
    if convert_failures not in (None, "blank"):
        raise MetadataError([f"--convert-failures: unknown value {convert_failures!r} "
                             "(only 'blank')"])
    plan = Plan(dry_run=dry_run)
    kinds = extensions.document_kinds
    try:
        with writer(engine).begin() as conn:
            hold_for_apply(conn)
            stored = stored_documents(conn)
            documents = change(dict(stored))
            if documents == stored:
                if check is not None and stored:
                    current = bundle_from_documents(stored, kinds)
                    same = RuntimeSchema(current_version(conn), current,
                                         dialect=engine.dialect.name)
                    problems = check(conn, same)
                    if problems:
                        raise MetadataError(problems)
                if then is not None and not dry_run:
                    then(conn, None)
                return plan
            plan.base = current_version(conn)
            old = bundle_from_documents(stored, kinds) if stored else MetadataBundle(app=None)
            with explained(old, documents):
                new = bundle_from_documents(documents, kinds)
                broken = cross_app_problems(documents, new, extensions)
                if broken:  # only what this change breaks
                    broken -= cross_app_problems(stored, old, extensions)
                if broken:
                    raise MetadataError(sorted(broken))
                schema = RuntimeSchema(plan.base + 1, new, dialect=engine.dialect.name)
                schema.read_grants = tuple(extensions.read_grants)
                problems = list_view_problems(schema) + extensions.metadata_problems(schema)
                if check is not None:
                    problems += check(conn, schema)
                if problems:
                    raise MetadataError(problems)
            Migration(conn, old, schema, plan, convert_failures).run()
            describe_documents(plan, stored, documents)
            if dry_run:
                raise _DryRun
            plan.version = save_version(conn, documents, applied_by,
                                        f"{summary}: " + ("; ".join(plan.steps) or "metadata only"))
            if then is not None:
                then(conn, schema)
    except _DryRun:
        pass
    return plan


def _app_name(path: Path) -> str | None:
    if path.is_dir() and (path / "app.json").exists():
        try:
            name = json.loads((path / "app.json").read_text()).get("name")
        except (ValueError, OSError, AttributeError):
            return None  # the loader reports the broken app.json
        return name if isinstance(name, str) else None
    return None


def _raw_documents(stored: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The documents an apply of `path` would store, read as plain JSON (for explaining
    the loader's problems: only the object documents matter)."""
    files = sorted((path / "objects").glob("*.json")) if path.is_dir() else [path]
    raw: dict[str, Any] = {}
    for file in files:
        try:
            doc = json.loads(file.read_text(encoding="utf-8-sig"))
        except (ValueError, OSError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("api_name"), str):
            raw[f"objects/{doc['api_name']}.json"] = doc
    app = _app_name(path) or (None if not path.is_dir() else path.name)
    return merge_app(stored, app, raw)


def _objects_outside(stored: Mapping[str, Any], folders: list[Path]) -> set[str]:
    """Object names of the installed apps, except those the folders replace."""
    replaced = {_app_name(folder) for folder in folders}
    names: set[str] = set()
    for app, docs in split_apps(stored).items():
        if app in replaced:
            continue
        names.update(rel.split("/", 1)[1].removesuffix(".json") for rel in docs
                     if rel.startswith("objects/"))
    return names
