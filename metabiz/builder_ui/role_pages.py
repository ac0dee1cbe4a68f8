"""The builder's role pages: object rights as a matrix, record access, and field rules as a
grid (editable, read-only or hidden per field), saved through the plan page.

A role's problems come back by JSON pointer (`/objects/ticket`, `/fields/ticket.amount`).
"""

from __future__ import annotations

import copy
from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui.field_form import label_from, label_parts
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import admin_page, base_version, objects_of, review, stored, web
from metabiz.errors import ConflictError, NotFound
from metabiz.platform.access import Actor
from metabiz.platform.metadata.store import split_apps

RIGHTS = ("read", "create", "edit", "delete", "export")
FIELD_RULES = ("hidden", "read_only")


def _role(name: str) -> tuple[dict[str, Any], int, dict[str, Any]]:
    documents, version = stored()
    for docs in split_apps(documents).values():
        doc = docs.get(f"roles/{name}.json")
        if isinstance(doc, dict):
            return copy.deepcopy(doc), version, documents
    raise NotFound(f"no role {name!r}")


def role_from_form(form: Any, objects: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip()}
    label = label_from(form, "label")
    if label is not None:
        doc["label"] = label
    doc["objects"] = {name: [r for r in RIGHTS if r in form.getlist(f"right_{name}")]
                      for name in objects if form.getlist(f"right_{name}")}
    doc["record_access"] = "all" if form.get("record_access") == "all" else "own"
    rules = {}
    for name, (_, obj) in objects.items():
        for field in obj.get("fields", []):
            key = f"{name}.{field.get('api_name')}"
            if form.get(f"fr_{key}") in FIELD_RULES:
                rules[key] = form[f"fr_{key}"]
    if rules:
        doc["fields"] = rules
    return doc


def _page(actor: Actor, name: str | None) -> Any:
    if name is None:
        documents, version = stored()
        doc: dict[str, Any] = {"api_name": "", "objects": {}, "record_access": "own"}
    else:
        doc, version, documents = _role(name)
    objects = objects_of(documents)
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        new = role_from_form(request.form, objects)
        target = new["api_name"] or (name or "")
        try:
            return review(actor, "put", kind="roles", name=target, document=new,
                          base_version=base_version(),
                          done=url_for("builder_web.role_page", name=target), back=request.url,
                          title=b("roles"))
        except (InvalidDocument, ConversionRefused) as err:
            fields = dict(err.fields)
            general = fields.pop("/", [])
            general += [f"{pointer}: {m}" for pointer, ms in fields.items()
                        if pointer not in ("/api_name", "/label") for m in ms]
        except ConflictError:
            general = [b("conflict")]
        doc = new
    return render_template("builder/role.html", doc=doc, name=name, version=version,
                           objects=objects, rights=RIGHTS, label=label_parts(doc.get("label")),
                           ruled={k.partition(".")[0] for k in doc.get("fields") or {}},
                           errors=fields, general=general), 422 if general or fields else 200


@web.route("/roles/new", methods=["GET", "POST"])
@admin_page
def new_role(actor: Actor) -> Any:
    return _page(actor, None)


@web.route("/roles/<name>", methods=["GET", "POST"])
@admin_page
def role_page(actor: Actor, name: str) -> Any:
    return _page(actor, name)


@web.post("/roles/<name>/delete")
@admin_page
def delete_role(actor: Actor, name: str) -> Any:
    _role(name)
    return review(actor, "delete", kind="roles", name=name, base_version=base_version(),
                  done=url_for("builder_web.overview"),
                  back=url_for("builder_web.role_page", name=name), title=b("delete"))
