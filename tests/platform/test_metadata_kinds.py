"""Document kinds added by higher packages: read from their folder, validated by their schema
(whose `$ref`s reach the kernel's), built, checked through the kernel's DocumentChecker.

A toy kind ("note", in `notes/`) stands for flows, reports or dashboards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from metabiz.errors import MetadataError
from metabiz.objects.runtime import bundle_from_documents
from metabiz.platform.extensions import DocumentKind, Extensions
from metabiz.platform.metadata.crosscheck import DocumentChecker
from metabiz.platform.metadata.loader import bundle_documents, load_documents, load_path


@dataclass(frozen=True)
class NoteDef:
    api_name: str
    object: str
    fields: tuple[str, ...]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"api_name": self.api_name, "object": self.object, "note": True,
                "fields": list(self.fields), "text": self.text}


def build_note(doc: Mapping[str, Any]) -> NoteDef:
    return NoteDef(doc["api_name"], doc["object"], tuple(doc.get("fields", ())), doc["text"])


def check_note(note: NoteDef, checker: DocumentChecker) -> None:
    odef = checker.object(("object",), note.object)
    checker.duplicates(((("fields", i), name) for i, name in enumerate(note.fields)), "field")
    for i, name in enumerate(note.fields):
        checker.field(("fields", i), odef, name)
    if note.text.isupper():
        checker.problem(("text",), "do not shout")


@pytest.fixture
def note_kind(tmp_path: Path) -> DocumentKind:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "note.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.test/schemas/note.json",
        "type": "object", "required": ["api_name", "object", "note", "text"],
        "properties": {
            "api_name": {"$ref": "https://metabiz.dev/schemas/v1/common.json#/$defs/api_name"},
            "object": {"$ref": "https://metabiz.dev/schemas/v1/common.json#/$defs/api_name"},
            "note": {"const": True},
            "fields": {"type": "array", "items": {"type": "string"}},
            "text": {"$ref": "text.json"}},
        "additionalProperties": False}))
    (schemas / "text.json").write_text(json.dumps({
        "$id": "https://example.test/schemas/text.json", "type": "string", "minLength": 1}))
    return DocumentKind(name="note", folder="notes", schema=schemas / "note.json",
                        build=build_note, check=check_note, marker="note")


ACCOUNT = {"api_name": "account", "fields": [{"api_name": "name", "type": "text"}]}
NOTE = {"api_name": "hello", "object": "account", "note": True, "fields": ["name"],
        "text": "Say hello"}


def write(root: Path, docs: Mapping[str, Any]) -> Path:
    for relpath, content in docs.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    return root


def test_an_added_kind_is_loaded_into_the_bundle(tmp_path: Path, note_kind: DocumentKind) -> None:
    root = write(tmp_path / "app", {"objects/account.json": ACCOUNT, "notes/hello.json": NOTE})
    bundle = load_path(root, kinds=[note_kind])
    assert bundle.definitions("note") == (NoteDef("hello", "account", ("name",), "Say hello"),)
    assert bundle.definition("note", "hello").text == "Say hello"
    assert bundle.definition("note", "other") is None and bundle.definitions("flow") == ()
    docs = bundle_documents(bundle, kinds=[note_kind])
    assert docs == {"objects/account.json": bundle.object("account").to_json(),
                    "notes/hello.json": NOTE}
    assert load_documents(docs, kinds=[note_kind]) == bundle


def test_an_added_kind_is_validated_and_checked(tmp_path: Path,
                                                note_kind: DocumentKind) -> None:
    docs = {"objects/account.json": ACCOUNT,
            "notes/hello.json": {**NOTE, "fields": ["name", "nme", "name"], "text": "HEY"},
            "notes/bad.json": {**NOTE, "api_name": "Bad", "text": "", "colour": "red"},
            "notes/hi.json": NOTE,
            "notes/other.json": {**NOTE, "api_name": "other", "object": "acount"}}
    expected = [
        "notes/bad.json: /api_name: 'Bad' is not a valid api_name: lower-case letters, digits "
        "and '_', starting with a letter, at most 63 characters",
        "notes/bad.json: /text: '' should be non-empty",
        "notes/bad.json: /colour: unknown key 'colour'; expected 'api_name', 'fields', 'note', "
        "'object' or 'text'",
        "notes/hello.json: /fields/1: unknown field 'nme' on account",
        "notes/hello.json: /fields/2: duplicate field 'name' (also at /fields/0)",
        "notes/hello.json: /text: do not shout",
        "notes/hi.json: /api_name: note 'hello' is also defined in notes/hello.json",
        "notes/other.json: /object: unknown object 'acount'",
    ]
    with pytest.raises(MetadataError) as exc:
        load_path(write(tmp_path / "app", docs), kinds=[note_kind])
    folder_problems = exc.value.problems
    with pytest.raises(MetadataError) as exc:
        load_documents(docs, kinds=[note_kind])
    assert exc.value.problems == folder_problems
    # listed by file, then by place in the file
    assert folder_problems == expected


def test_a_lone_file_of_an_added_kind_is_told_by_its_marker(tmp_path: Path,
                                                            note_kind: DocumentKind) -> None:
    path = write(tmp_path, {"somewhere/x.json": NOTE}) / "somewhere" / "x.json"
    bundle = load_path(path, known_objects=["account"], kinds=[note_kind])
    assert [n.api_name for n in bundle.definitions("note")] == ["hello"]
    assert list(bundle_documents(bundle, kinds=[note_kind])) == ["notes/hello.json"]
    odd = write(tmp_path, {"odd.json": {"api_name": "x"}}) / "odd.json"
    with pytest.raises(MetadataError) as exc:
        load_path(odd, kinds=[note_kind])
    assert exc.value.problems == [
        f"{odd}: /: cannot tell what this document is: an object has \"fields\", a note "
        "\"note\", a role \"objects\", an app \"name\" and \"version\""]


def test_installed_apps_may_not_define_the_same_added_document(
        note_kind: DocumentKind) -> None:
    documents = {"crm/objects/account.json": ACCOUNT, "crm/notes/hello.json": NOTE,
                 "service/notes/hello.json": NOTE}
    with pytest.raises(MetadataError) as exc:
        bundle_from_documents(documents, kinds=[note_kind])
    assert exc.value.problems == [
        "service: /: note 'hello' is defined by another installed app"]
    del documents["service/notes/hello.json"]
    merged = bundle_from_documents(documents, kinds=[note_kind])
    assert [n.api_name for n in merged.definitions("note")] == ["hello"]


def test_a_kind_may_not_take_a_kernel_folder_or_name(note_kind: DocumentKind) -> None:
    for clash in ({"folder": "objects"}, {"name": "role"}):
        kind = DocumentKind(**{**note_kind.__dict__, **clash})
        with pytest.raises(ValueError, match="clashes with the kernel"):
            load_documents({}, kinds=[kind])
    with pytest.raises(ValueError, match="no DocumentKind given"):
        bundle_documents(load_documents({"notes/hello.json": NOTE}, known_objects=["account"],
                                        kinds=[note_kind]))


def test_extensions_collect_document_kinds(note_kind: DocumentKind) -> None:
    ext = Extensions()
    ext.add_document_kind(note_kind)
    assert ext.document_kinds == [note_kind]
    with pytest.raises(ValueError, match="registered twice"):
        ext.add_document_kind(note_kind)
