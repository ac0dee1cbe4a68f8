"""The builder's JSON editor for any kind of document the forms do not cover (assignment
rules, reports and dashboards once their package is installed, or any document at all):
the document as its file holds it, checked and planned like every other change.

Problems are listed by JSON pointer above the editor; nothing applies before the plan.
"""

from __future__ import annotations

import json
from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui import documents
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import admin_page, base_version, extensions, review, stored, web
from metabiz.errors import ConflictError, NotFound
from metabiz.platform.access import Actor


def _page(actor: Actor, kind: str, name: str | None) -> Any:
    documents.check_kind(extensions(), kind)
    current, version = stored()
    if name is None:
        text = json.dumps({"api_name": ""}, indent=2)
    else:
        key = documents.holder(current, f"{kind}/{name}.json")
        if key is None:
            raise NotFound(f"no {kind[:-1]} named {name!r}")
        text = json.dumps(current[key], indent=2, ensure_ascii=False)
    general: list[str] = []
    if request.method == "POST":
        text = request.form.get("document", "")
        try:
            doc = json.loads(text)
        except ValueError as err:
            general = [b("not_json", error=str(err))]
        else:
            target = doc.get("api_name") if isinstance(doc, dict) else None
            target = target if isinstance(target, str) and target else (name or "")
            try:
                return review(actor, "put", kind=kind, name=target, document=doc,
                              base_version=base_version(),
                              done=url_for("builder_web.document_page", kind=kind,
                                           name=target),
                              back=request.url, title=f"{kind}/{target}.json")
            except (InvalidDocument, ConversionRefused) as err:
                general = [f"{pointer}: {message}" for pointer, messages in err.fields.items()
                           for message in messages]
            except ConflictError:
                general = [b("conflict")]
    return render_template("builder/document.html", kind=kind, name=name, text=text,
                           version=version, general=general), 422 if general else 200


@web.route("/documents/<kind>/new", methods=["GET", "POST"])
@admin_page
def new_document(actor: Actor, kind: str) -> Any:
    return _page(actor, kind, None)


@web.route("/documents/<kind>/<name>", methods=["GET", "POST"])
@admin_page
def document_page(actor: Actor, kind: str, name: str) -> Any:
    return _page(actor, kind, name)


@web.post("/documents/<kind>/<name>/delete")
@admin_page
def delete_document(actor: Actor, kind: str, name: str) -> Any:
    documents.check_kind(extensions(), kind)
    return review(actor, "delete", kind=kind, name=name, base_version=base_version(),
                  done=url_for("builder_web.overview"),
                  back=url_for("builder_web.document_page", kind=kind, name=name),
                  title=b("delete"))
