"""Loads metadata folders and documents into a MetadataBundle, reporting every problem at once.

JSON (documents.py) → JSON Schema (validation.py) → frozen dataclasses (builders.py, or a
DocumentKind's `build`) → cross-document checks (crosscheck.py, or the kind's `check`).
Formulas stay text here. Kinds added by higher packages come in as `kinds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from metabiz.errors import MetadataError
from metabiz.formulas import Calendar
from metabiz.platform import zones
from metabiz.platform.extensions import DocumentKind
from metabiz.platform.metadata.builders import build_app, build_object, build_role, build_users
from metabiz.platform.metadata.crosscheck import (
    DocumentChecker,
    References,
    Registered,
    calendar_problems,
    check_data,
    check_object,
    check_role,
    check_users,
)
from metabiz.platform.metadata.documents import (
    USERS_FILE,
    Doc,
    Kinds,
    folder_docs,
    single_doc,
    stored_docs,
)
from metabiz.platform.metadata.model import AppDef, MetadataBundle, ObjectDef, UserDef
from metabiz.platform.metadata.problems import in_document_order
from metabiz.platform.metadata.validation import (
    kernel_validator,
    kind_validator,
    schema_problems,
)

__all__ = ["load_path", "load_documents", "bundle_documents", "LoadProblems", "USERS_FILE"]

KnownObjects = Iterable[str | ObjectDef]


class LoadProblems(MetadataError):
    """The loader's problems, with what did load in spite of them (`partial`: every document
    that passed its JSON Schema, cross-document problems or not), so that a caller can go on
    to find the problems of the next stages (formulas, data) and report all in one run."""

    def __init__(self, problems: Sequence[str], partial: MetadataBundle) -> None:
        super().__init__(problems)
        self.partial = partial


def _known(known_objects: KnownObjects) -> dict[str, ObjectDef | None]:
    known: dict[str, ObjectDef | None] = {}
    for item in known_objects:
        if isinstance(item, ObjectDef):
            known[item.api_name] = item
        else:
            known.setdefault(item, None)
    return known


def _validate(doc: Doc, kinds: Kinds) -> None:
    if doc.kind is None:
        if not doc.problems:
            doc.problem((), kinds.not_a_document(doc.relpath))
        return
    if doc.problems:
        return
    added = kinds.added.get(doc.kind)
    validator = kernel_validator(doc.kind) if added is None else kind_validator(added.schema)
    for path, message in schema_problems(validator, doc.content):
        doc.problem(path, message)
    doc.valid = not doc.problems


def _register(table: Registered, built: Any, doc: Doc) -> None:
    if built.api_name in table:
        doc.problem(("api_name",), f"{doc.kind} {built.api_name!r} is also defined in "
                                   f"{table[built.api_name][1].shown}")
    else:
        table[built.api_name] = (built, doc)


def _load(docs: list[Doc], known_objects: KnownObjects, kinds: Kinds, *,
          in_folder: bool) -> MetadataBundle:
    rank = {kind: i for i, kind in enumerate(kinds.order)}
    docs.sort(key=lambda d: (rank.get(d.kind or "", len(rank)), d.relpath))
    for doc in docs:
        _validate(doc, kinds)

    app: AppDef | None = None
    users: tuple[UserDef, ...] = ()
    data: dict[str, tuple[Mapping[str, Any], ...]] = {}
    #: the named definitions by kind: objects, roles and every added kind
    registered: dict[str, Registered] = {"object": {}, "role": {},
                                         **{name: {} for name in kinds.added}}
    for doc in (d for d in docs if d.valid):
        content = doc.content
        if doc.kind == "app":
            for path, message in calendar_problems(content.get("calendars", {}),
                                                    content.get("timezone")):
                doc.problem(path, message)
            if "timezone" in content and not zones.is_zone(content["timezone"]):
                doc.problem(("timezone",), f"unknown time zone {content['timezone']!r} "
                                           "(use an IANA name such as Asia/Shanghai or UTC)")
            if not doc.problems:
                app = build_app(content)
        elif doc.kind == "users":
            users = build_users(content)
        elif doc.kind == "data":
            data[doc.stem] = tuple(dict(r) for r in content)
        elif doc.kind == "object":
            _register(registered["object"], build_object(content), doc)
        elif doc.kind == "role":
            _register(registered["role"], build_role(content), doc)
        elif doc.kind is not None:
            _register(registered[doc.kind], kinds.added[doc.kind].build(content), doc)

    refs = References(docs, registered, _known(known_objects), in_folder=in_folder)
    checks: dict[str, Callable[[Any, DocumentChecker], None] | None] = {
        "object": check_object, **{name: k.check for name, k in kinds.added.items()},
        "role": check_role}
    for kind, check in checks.items():
        for built, doc in registered[kind].values():
            checker = refs.checker(doc)
            checker.stored_under_own_name(built.api_name)
            if check is not None:
                check(built, checker)
    for doc in docs:
        if doc.valid and doc.kind == "users":
            check_users(users, refs.checker(doc))
        elif doc.valid and doc.kind == "data":
            check_data(refs.checker(doc))

    problems = [str(p) for doc in docs for p in in_document_order(doc.content, doc.problems)]
    bundle = MetadataBundle(
        app=app, objects=tuple(o for o, _ in registered["object"].values()),
        roles=tuple(r for r, _ in registered["role"].values()), data=data, users=users,
        documents={name: tuple(d for d, _ in registered[name].values())
                   for name in kinds.added if registered[name]},
        calendars=app.calendars if app is not None else _declared_calendars(docs))
    if problems:
        raise LoadProblems(problems, bundle)
    return bundle


def _declared_calendars(docs: Sequence[Doc]) -> tuple[Calendar, ...]:
    """The calendars app.json names when it has problems of its own: formulas naming one
    are not wrong too (they are checked again once app.json is fixed)."""
    for doc in docs:
        calendars = doc.content.get("calendars") if doc.kind == "app" and isinstance(
            doc.content, Mapping) else None
        if isinstance(calendars, Mapping):
            return tuple(Calendar(name) for name in calendars if isinstance(name, str))
    return ()


# ---- public API -------------------------------------------------------------------------


def load_path(path: str | Path, known_objects: KnownObjects = (),
              kinds: Sequence[DocumentKind] = ()) -> MetadataBundle:
    """Load a metadata folder, or one app, object, role or added-kind JSON file.

    `known_objects` are objects installed already (names, or ObjectDefs to check field
    references too) that lookups, roll-ups, roles and other documents may reference; `kinds`
    are the document kinds higher packages add (`flows/`…), beside the kernel's.
    Raises MetadataError listing every problem as `file: /json/pointer: message`.
    """
    shown = str(path)
    root = Path(path)
    known = Kinds(kinds)
    if root.is_dir():
        return _load(folder_docs(root, known), known_objects, known, in_folder=True)
    if root.is_file():
        return _load([single_doc(root, shown, known)], known_objects, known, in_folder=False)
    raise MetadataError([f"{shown}: /: no such file or folder"])


def load_documents(docs: Mapping[str, Any], known_objects: KnownObjects = (),
                   kinds: Sequence[DocumentKind] = ()) -> MetadataBundle:
    """Load parsed documents keyed by their path in a folder (`"objects/lead.json"`).

    This is how stored versions are reloaded;
    `load_documents(bundle_documents(b, kinds), kinds=kinds) == b`.
    """
    known = Kinds(kinds)
    return _load(stored_docs(docs, known), known_objects, known, in_folder=True)


def bundle_documents(bundle: MetadataBundle,
                     kinds: Sequence[DocumentKind] = ()) -> dict[str, Any]:
    """The canonical JSON documents of `bundle`, keyed by their path in a folder.

    `kinds` must include every added kind the bundle holds definitions of.
    """
    folders = {kind.name: kind.folder for kind in kinds}
    missing = sorted(set(bundle.documents) - set(folders))
    if missing:
        raise ValueError(f"bundle_documents: no DocumentKind given for {missing}")
    docs: dict[str, Any] = {}
    if bundle.app is not None:
        docs["app.json"] = bundle.app.to_json()
    for obj in bundle.objects:
        docs[f"objects/{obj.api_name}.json"] = obj.to_json()
    for kind in kinds:
        for definition in bundle.definitions(kind.name):
            docs[f"{kind.folder}/{definition.api_name}.json"] = definition.to_json()
    for role in bundle.roles:
        docs[f"roles/{role.api_name}.json"] = role.to_json()
    for name, records in bundle.data.items():
        docs[f"data/{name}.json"] = [dict(r) for r in records]
    if bundle.users:
        docs[USERS_FILE] = [u.to_json() for u in bundle.users]
    return docs
