"""Editing one metadata document at a time (an object, a flow, a role, a report…): put,
delete, and the check that nobody changed it since the editor loaded it.

Every edit is a `change` handed to `objects.evolution.apply_documents`, the code path of
`metabiz apply`: the same validation, plan, migration and new version, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from metabiz.builder_ui.problems import explain
from metabiz.errors import BadRequest, ConflictError, MetadataError, NotFound
from metabiz.objects.evolution import Plan, apply_documents
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import DEFAULT_APP, current_version
from metabiz.platform.metadata.store import load_documents as stored_documents

#: the kernel's own document kinds (folder = the kind's name in the API's paths)
KERNEL_KINDS = ("objects", "roles")


def kinds(extensions: Extensions) -> tuple[str, ...]:
    """The document kinds the API edits: objects, roles and every registered kind's folder
    (flows; reports and dashboards once their package is installed)."""
    return (*KERNEL_KINDS, *(k.folder for k in extensions.document_kinds))


@dataclass(frozen=True)
class Edit:
    """Who edits what: a document kind (its folder), the document's name, and the metadata
    version the editor's copy came from (None: do not check)."""

    kind: str
    name: str
    base_version: int | None = None

    @property
    def rel(self) -> str:
        return f"{self.kind}/{self.name}.json"


def check_kind(extensions: Extensions, kind: str) -> None:
    if kind not in kinds(extensions):
        raise NotFound(f"unknown kind of metadata {kind!r}; one of "
                       + ", ".join(kinds(extensions)))


def holder(documents: Mapping[str, Any], rel: str) -> str | None:
    """The stored key (`<app>/<rel>`) of the document at `rel` in whichever app holds it."""
    return next((key for key in documents if key.partition("/")[2] == rel), None)


def find_document(engine: Engine, extensions: Extensions, kind: str,
                  name: str) -> tuple[str, Any, int]:
    """The stored document: (its key, its JSON, the current metadata version)."""
    check_kind(extensions, kind)
    with engine.connect() as conn:
        documents = stored_documents(conn)
        version = current_version(conn)
    key = holder(documents, f"{kind}/{name}.json")
    if key is None:
        raise NotFound(f"no {kind[:-1]} named {name!r}")
    return key, documents[key], version


def put_document(engine: Engine, extensions: Extensions, edit: Edit, document: Any, *,
                 app: str | None = None, dry_run: bool = False,
                 applied_by: str = "system") -> Plan:
    """Add or replace one document (`renamed_from` renames it, data kept); a new one goes
    into `app` (default `custom`)."""
    check_kind(extensions, edit.kind)
    if not isinstance(document, dict):
        raise BadRequest("the body must be the document, a JSON object")
    if document.get("api_name") != edit.name:
        raise explain(MetadataError([f"{edit.rel}: /api_name: must be {edit.name!r}, the name "
                                     "in the address"]), edit.rel)
    base = _base_documents(engine, edit.base_version)
    renamed_from = document.get("renamed_from")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        old_rel = f"{edit.kind}/{renamed_from}.json" if isinstance(renamed_from, str) else None
        _refuse_stale(base, current, edit, old_rel)
        key = holder(current, edit.rel)
        if key is None and old_rel is not None:
            previous = holder(current, old_rel)
            if previous is not None:
                del current[previous]
                key = f"{previous.partition('/')[0]}/{edit.rel}"
        current[key or f"{app or DEFAULT_APP}/{edit.rel}"] = document
        return current

    return _apply(engine, extensions, change, edit, dry_run=dry_run, applied_by=applied_by,
                  summary=f"builder: {'add' if _missing(engine, edit) else 'save'} {edit.rel}")


def delete_document(engine: Engine, extensions: Extensions, edit: Edit, *,
                    dry_run: bool = False, applied_by: str = "system") -> Plan:
    """Remove one document; a removed object keeps its table, a removed field its column."""
    check_kind(extensions, edit.kind)
    base = _base_documents(engine, edit.base_version)
    if _missing(engine, edit):
        raise NotFound(f"no {edit.kind[:-1]} named {edit.name!r}")

    def change(current: dict[str, Any]) -> dict[str, Any]:
        _refuse_stale(base, current, edit, None)
        key = holder(current, edit.rel)
        if key is None:
            raise NotFound(f"no {edit.kind[:-1]} named {edit.name!r}")
        del current[key]
        return current

    return _apply(engine, extensions, change, edit, dry_run=dry_run, applied_by=applied_by,
                  summary=f"builder: remove {edit.rel}")


def apply_change(engine: Engine, extensions: Extensions,
                 change: Callable[[dict[str, Any]], dict[str, Any]], *, summary: str,
                 dry_run: bool, applied_by: str, edit: Edit | None = None) -> Plan:
    """`apply_documents` with its problems worded for the API: 422 by JSON pointer, 409 for
    rows a conversion refuses and for two admins applying at once."""
    try:
        return apply_documents(engine, change, extensions=extensions, applied_by=applied_by,
                               summary=summary, dry_run=dry_run)
    except MetadataError as err:
        raise explain(err, edit.rel if edit else None) from None
    except IntegrityError:  # another apply took the same version number first
        raise ConflictError("someone else applied a metadata change at the same moment; "
                            "reload and try again") from None


def _apply(engine: Engine, extensions: Extensions,
           change: Callable[[dict[str, Any]], dict[str, Any]], edit: Edit, *, dry_run: bool,
           applied_by: str, summary: str) -> Plan:
    return apply_change(engine, extensions, change, summary=summary, dry_run=dry_run,
                        applied_by=applied_by, edit=edit)


def _missing(engine: Engine, edit: Edit) -> bool:
    with engine.connect() as conn:
        return holder(stored_documents(conn), edit.rel) is None


def _base_documents(engine: Engine, base_version: int | None) -> Mapping[str, Any] | None:
    """The documents the editor started from (versions never change once applied)."""
    if base_version is None:
        return None
    with engine.connect() as conn:
        if base_version > current_version(conn) or base_version < 0:
            raise BadRequest(f"no metadata version {base_version}",
                             fields={"base_version": ["no such version"]})
        return stored_documents(conn, base_version) if base_version else {}


def _refuse_stale(base: Mapping[str, Any] | None, current: Mapping[str, Any], edit: Edit,
                  old_rel: str | None) -> None:
    """Two admins editing the same document: the second save must not undo the first."""
    if base is None:
        return
    for rel in filter(None, (edit.rel, old_rel)):
        then, now = holder(base, rel), holder(current, rel)
        if (base.get(then) if then else None) != (current.get(now) if now else None):
            raise ConflictError(
                f"{rel} was changed by someone else after version {edit.base_version}, "
                "which your copy comes from; reload it and make your change again",
                fields={"base_version": ["stale"]})
