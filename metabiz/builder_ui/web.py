"""The builder's blueprint and what all its pages share: the admin-only guard, the stored
documents, and "review the plan first": a dry run shown before anything is applied.

Pages build a whole document from their form and hand it to `review`; the plan page posts it
back to `/builder/apply`, which applies it through the Metadata API's services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import NoSuchTableError

from metabiz.builder_ui import calendars, documents, template_files, versions
from metabiz.builder_ui.field_form import label_parts
from metabiz.builder_ui.texts import b, type_label
from metabiz.errors import NotFound
from metabiz.objects.evolution import Plan
from metabiz.platform.access import Actor
from metabiz.platform.db import metadata_versions
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import current_version
from metabiz.platform.metadata.store import load_documents as stored_documents
from metabiz.platform.request_input import whole_number
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required

web = Blueprint("builder_web", __name__, url_prefix="/builder", template_folder="templates",
                static_folder="static", static_url_path="/static")

View = Callable[..., Any]


def label_text(label: Any, fallback: str = "") -> str:
    """A metadata label in the page's language."""
    en, zh = label_parts(label)
    return (zh if i18n.language() == "zh" and zh else en or zh) or fallback


@web.context_processor
def _texts() -> dict[str, Any]:
    return {"b": b, "type_label": type_label, "label_text": label_text}


def admin_page(view: View) -> View:
    """Signed in (else the sign-in page) and an administrator (else 404, like the API)."""

    @login_required
    @wraps(view)
    def wrapper(actor: Actor, *args: Any, **kwargs: Any) -> Any:
        if not actor.is_admin:
            raise NotFound("not found")
        return view(actor, *args, **kwargs)

    return wrapper


def engine() -> Engine:
    return current_app.extensions["metabiz"].engine  # type: ignore[no-any-return]


def extensions() -> Extensions:
    return current_app.extensions["metabiz"].runtime.extensions  # type: ignore[no-any-return]


def stored() -> tuple[dict[str, Any], int]:
    """The current documents (`<app>/<path>` → JSON) and the metadata version."""
    with engine().connect() as conn:
        return stored_documents(conn), current_version(conn)


def objects_of(documents_now: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Object name → (its app, its document)."""
    found = {}
    for key, doc in documents_now.items():
        app, _, rel = key.partition("/")
        if rel.startswith("objects/") and isinstance(doc, dict):
            found[rel.removeprefix("objects/").removesuffix(".json")] = (app, doc)
    return dict(sorted(found.items()))


def removed_objects(current: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Objects taken out of the metadata whose table (and data) is still there: their last
    definition and app, to put back."""
    live = objects_of(current)
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    with engine().connect() as conn:
        rows = conn.execute(select(metadata_versions.c.documents)
                            .order_by(metadata_versions.c.version.desc())).scalars().all()
        tables = set(inspect(conn).get_table_names())
    for docs in rows:
        for name, (app, doc) in objects_of(dict(docs)).items():
            if name not in live and name not in found and f"obj_{name}" in tables:
                found[name] = (app, doc)
    return dict(sorted(found.items()))


def removed_fields(name: str, live: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields of object `name` taken out since, whose column (and data) is kept."""
    have = {f.get("api_name") for f in live.get("fields", [])}
    renamed = {f.get("renamed_from") for f in live.get("fields", [])}
    found: dict[str, dict[str, Any]] = {}
    with engine().connect() as conn:
        rows = conn.execute(select(metadata_versions.c.documents)
                            .order_by(metadata_versions.c.version.desc())).scalars().all()
        try:
            columns = {c["name"] for c in inspect(conn).get_columns(f"obj_{name}")}
        except NoSuchTableError:  # no table yet: nothing was removed
            return []
    for docs in rows:
        doc = objects_of(dict(docs)).get(name)
        for field in (doc[1].get("fields", []) if doc else []):
            fname = field.get("api_name")
            if fname not in have and fname not in renamed and fname not in found \
                    and fname in columns:
                found[fname] = {k: v for k, v in field.items() if k != "renamed_from"}
    return list(found.values())


# -- the plan first -----------------------------------------------------------------------


def run(op: str, *, kind: str = "", name: str = "", document: Any = None,
        base_version: int | None = None, app: str | None = None, version: int = 0,
        dry_run: bool, actor: Actor) -> Plan:
    """One builder operation through the Metadata API's services."""
    if op == "put":
        return documents.put_document(engine(), extensions(),
                                      documents.Edit(kind, name, base_version), document,
                                      app=app, dry_run=dry_run, applied_by=actor.name)
    if op == "delete":
        return documents.delete_document(engine(), extensions(),
                                         documents.Edit(kind, name, base_version),
                                         dry_run=dry_run, applied_by=actor.name)
    if op == "import":
        return template_files.apply_template(engine(), extensions(), document, dry_run=dry_run,
                                             applied_by=actor.name)
    if op == "calendar":  # document: the calendar, or None to remove it
        return calendars.put_calendar(engine(), extensions(), app or "", name, document,
                                      base_version=base_version, dry_run=dry_run,
                                      applied_by=actor.name)
    if op == "revert":
        return versions.revert(engine(), extensions(), version, dry_run=dry_run,
                               applied_by=actor.name)
    raise NotFound(f"unknown builder operation {op!r}")


def review(actor: Actor, op: str, *, done: str, back: str, kind: str = "", name: str = "",
           document: Any = None, base_version: int | None = None, app: str | None = None,
           version: int = 0, title: str = "") -> str:
    """The plan page for an operation (a dry run); its form applies it on confirmation.

    Raises what the dry run raises (InvalidDocument, ConversionRefused, ConflictError): the
    calling page shows those next to its controls."""
    plan = run(op, kind=kind, name=name, document=document, base_version=base_version,
               app=app, version=version, dry_run=True, actor=actor)
    return render_plan(plan, {"op": op, "kind": kind, "name": name, "app": app or "",
                              "version": version, "done": done, "back": back,
                              "base_version": "" if base_version is None else base_version,
                              "document": json.dumps(document, ensure_ascii=False)
                              if document is not None else ""}, title=title)


def render_plan(plan: Plan | None, hidden: dict[str, Any], *, title: str = "",
                error: Any = None) -> str:
    return render_template("builder/plan.html", plan=plan, hidden=hidden, title=title,
                           error=error, back=hidden.get("back") or "/builder")


def base_version() -> int | None:
    return whole_number(request.form.get("base_version", "").strip())
