"""Metadata documents before they are understood: read from a folder, one file or the store,
and told apart by kind (the kernel's app, object, role, data, users, and higher packages').
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from metabiz.platform.extensions import DocumentKind
from metabiz.platform.metadata.problems import JsonPath, Problem

USERS_FILE = "data/_users.json"
#: the kinds of document the kernel itself reads
KERNEL_KINDS = ("app", "object", "role", "data", "users")


@dataclass
class Doc:
    """One document being loaded: where it lives in a folder, and what problems call it."""

    relpath: str
    shown: str
    kind: str | None
    content: Any = None
    valid: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return PurePosixPath(self.relpath).stem

    @property
    def folder(self) -> str:
        return str(PurePosixPath(self.relpath).parent)

    def problem(self, path: JsonPath, message: str) -> None:
        self.problems.append(Problem(self.shown, path, message))

    def name(self, key: str = "api_name") -> str | None:
        value = self.content.get(key) if isinstance(self.content, dict) else None
        return value if isinstance(value, str) else None


class Kinds:
    """The document kinds one load knows: the kernel's, and those higher packages add."""

    def __init__(self, added: Sequence[DocumentKind] = ()) -> None:
        self.added: dict[str, DocumentKind] = {}
        folders = {"objects", "roles", "data"}
        for kind in added:
            if kind.name in KERNEL_KINDS or kind.name in self.added or kind.folder in folders:
                raise ValueError(f"document kind {kind.name!r} ({kind.folder}/) is given twice "
                                 "or clashes with the kernel's")
            self.added[kind.name] = kind
            folders.add(kind.folder)
        #: folder → the kind it holds, in the order documents are listed
        self.folders = {"objects": "object", **{k.folder: k.name for k in added},
                        "roles": "role", "data": "data"}
        #: the order documents (and their problems) are listed in
        self.order = ("app", "object", *self.added, "role", "data", "users")

    def of(self, relpath: str) -> str | None:
        """The kind of the document stored at `relpath` in a folder, if it is one."""
        parts = PurePosixPath(relpath).parts
        if parts == ("app.json",):
            return "app"
        if len(parts) == 2 and parts[0] in self.folders and parts[1].endswith(".json"):
            return "users" if relpath == USERS_FILE else self.folders[parts[0]]
        return None

    def not_a_document(self, relpath: str) -> str:
        """Why `relpath` is not read, naming what would be."""
        places = ["app.json", *(f"{folder}/*.json" for folder in self.folders)]
        expected = f"{', '.join(places[:-1])} or {places[-1]}"
        parts = PurePosixPath(relpath).parts
        if len(parts) > 1 and parts[0] not in self.folders:
            return f"unknown folder {parts[0]!r}: expected {expected}"
        return f"not a metadata document: expected {expected}"

    def detect(self, path: Path, content: Any) -> str | None:
        """What a lone file holds: by its keys, else by the folder it sits in."""
        if isinstance(content, dict):
            for kind in self.added.values():
                if kind.marker is not None and kind.marker in content:
                    return kind.name
            if "objects" in content or "record_access" in content:
                return "role"  # a role's "fields" is a mapping, an object's a list
            if "fields" in content:
                return "object"
            if "name" in content and "version" in content:
                return "app"
        if path.name == "app.json":
            return "app"
        if path.parent.name == "data":
            return "users" if path.name == "_users.json" else "data"
        return self.folders.get(path.parent.name)

    def cannot_tell(self) -> str:
        signs = ['an object has "fields"']
        signs += [f'{"an" if k.name[0] in "aeiou" else "a"} {k.name} "{k.marker}"'
                  for k in self.added.values() if k.marker is not None]
        signs += ['a role "objects"', 'an app "name" and "version"']
        return f"cannot tell what this document is: {', '.join(signs)}"

    def relpath(self, kind: str, name: str, path: Path) -> str:
        """Where a lone file of `kind` named `name` would live in a folder."""
        if kind == "app":
            return "app.json"
        if kind == "users":
            return USERS_FILE
        if kind == "data":
            return f"data/{path.stem}.json"
        folder = next(f for f, k in self.folders.items() if k == kind)
        return f"{folder}/{name}.json"


def _read(path: Path, doc: Doc) -> None:
    try:
        data = path.read_bytes()
    except OSError as err:
        doc.problem((), f"cannot read the file: {err.strerror}")
        return
    _parse(data, doc)


def _parse(data: bytes, doc: Doc) -> None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        doc.content = json.loads(data.decode("utf-8-sig"), object_pairs_hook=pairs)
    except UnicodeDecodeError as err:
        doc.problem((), f"not UTF-8 text: {err.reason} at byte {err.start}")
    except json.JSONDecodeError as err:
        doc.problem((), f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}")
    for key in dict.fromkeys(duplicates):
        doc.problem((), f"the key {key!r} appears twice in one JSON object; only the last "
                        "would count")


def folder_docs(root: Path, kinds: Kinds) -> list[Doc]:
    """Every JSON file of a metadata folder; those out of place are kept, kind None."""
    docs: list[Doc] = []
    for path in sorted(root.glob("*.json")):
        relpath = path.name
        docs.append(Doc(relpath, relpath, kinds.of(relpath)))
    for base in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(p for p in base.rglob("*.json") if p.is_file()):
            relpath = path.relative_to(root).as_posix()
            docs.append(Doc(relpath, relpath, kinds.of(relpath)))
    for doc in docs:
        if doc.kind is not None:
            _read(root / doc.relpath, doc)
    return docs


def single_doc(path: Path, shown: str, kinds: Kinds) -> Doc:
    """One JSON file given on its own; its kind comes from its keys or its folder's name."""
    doc = Doc(path.name, shown, None)
    _read(path, doc)
    if doc.problems:
        return doc
    kind = kinds.detect(path, doc.content)
    if kind is None:
        doc.problem((), kinds.cannot_tell())
        return doc
    doc.kind = kind
    doc.relpath = kinds.relpath(kind, doc.name("name" if kind == "app" else "api_name")
                                or path.stem, path)
    return doc


def stored_docs(documents: Mapping[str, Any], kinds: Kinds) -> list[Doc]:
    """Parsed documents keyed by their path in a folder (`"objects/lead.json"`)."""
    return [Doc(relpath, relpath, kinds.of(relpath), content)
            for relpath, content in documents.items()]
