"""The builder's flow pages: approval flows and automation rules as forms that read like the
flow, with a diagram of their steps; saved through the plan page like every document.

Problems come back by JSON pointer (`/steps/1/approvers/0/role`) and show beside their step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui.field_form import COMPUTED, label_parts
from metabiz.builder_ui.flow_actions import ACTION_KINDS, RECIPIENT_KINDS
from metabiz.builder_ui.flow_form import (
    APPROVAL_ACTIONS,
    APPROVER_KINDS,
    TRIGGERS,
    approval_from_form,
    approval_view,
    assignment_from_form,
    assignment_view,
    automation_from_form,
    automation_view,
    diagram,
)
from metabiz.builder_ui.object_pages import field_choices
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import admin_page, base_version, objects_of, review, stored, web
from metabiz.errors import BadRequest, ConflictError, NotFound
from metabiz.formulas import FUNCTIONS
from metabiz.platform.access import Actor
from metabiz.platform.metadata.store import split_apps

FLOW_KINDS = ("approval", "automation", "assignment")
BUILDERS = {"approval": (approval_from_form, approval_view),
            "automation": (automation_from_form, automation_view),
            "assignment": (assignment_from_form, assignment_view)}


def _flow(name: str) -> tuple[dict[str, Any], int, dict[str, Any]]:
    documents, version = stored()
    for docs in split_apps(documents).values():
        doc = docs.get(f"flows/{name}.json")
        if isinstance(doc, dict):
            return copy.deepcopy(doc), version, documents
    raise NotFound(f"no flow {name!r}")


def _under(fields: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """`under("/steps/1")`: the messages of every pointer at or below it."""
    def messages(prefix: str) -> list[str]:
        return [m for pointer, ms in fields.items()
                if pointer == prefix or pointer.startswith(prefix + "/") for m in ms]

    return messages


def _page(actor: Actor, name: str | None) -> Any:
    if name is None:
        documents, version = stored()
        kind = request.values.get("kind", "approval")
        if kind not in FLOW_KINDS:
            raise BadRequest(f"kind: one of {', '.join(FLOW_KINDS)}")
        doc: dict[str, Any] = {"api_name": "", "kind": kind,
                               "object": request.values.get("object", ""), "steps": []}
    else:
        doc, version, documents = _flow(name)
        kind = doc.get("kind", "approval")
        if kind not in FLOW_KINDS:
            raise NotFound(f"the builder edits approval flows, automation and assignment "
                           f"rules; {name!r} is a {kind} rule")
    fields: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        new = BUILDERS[kind][0](request.form, doc)
        target = new["api_name"] or (name or "")
        try:
            return review(actor, "put", kind="flows", name=target, document=new,
                          base_version=base_version(),
                          done=url_for("builder_web.flow_page", name=target), back=request.url,
                          title=label_parts(new.get("label"))[0] or target)
        except (InvalidDocument, ConversionRefused) as err:
            fields = {k: v for k, v in err.fields.items() if k != "/"}
            general = err.fields.get("/", [])
        except ConflictError:
            general = [b("conflict")]
        doc = new
    objects = objects_of(documents)
    obj = objects.get(doc.get("object") or "")
    choices = field_choices(obj[1], documents) if obj else []
    view = BUILDERS[kind][1](doc)
    fields_of = obj[1].get("fields", []) if obj else []
    return render_template(
        "builder/flow.html", doc=doc, name=name, kind=kind, version=version, view=view,
        label=label_parts(doc.get("label")), diagram=diagram(doc), object_names=list(objects),
        objects_docs=objects, field_choices=choices, functions=sorted(FUNCTIONS),
        object_fields=[f.get("api_name") for f in (obj[1].get("fields", []) if obj else [])],
        # a change of owner (a claim, an assignment) is a trigger too; a field the flow names
        # that the object no longer has stays chosen, so saving does not drop it unseen
        trigger_fields=list(dict.fromkeys(["owner", *(f.get("api_name") for f in fields_of),
                                           *view.get("fields", [])])),
        approver_kinds=APPROVER_KINDS, triggers=TRIGGERS, under=_under(fields),
        general=general, action_lists=APPROVAL_ACTIONS,
        actions_ctx=_actions_context(documents, objects, obj), role_names=_roles(documents),
        user_fields=["owner", *(f.get("api_name") for f in fields_of if f.get("type") == "user")],
        assignment_rules=_flows_of_kind(documents, "assignment")), \
        422 if fields or general else 200


def _roles(documents: dict[str, Any]) -> list[str]:
    return sorted(str(doc.get("api_name")) for key, doc in documents.items()
                  if key.partition("/")[2].startswith("roles/") and isinstance(doc, dict))


def _flows_of_kind(documents: dict[str, Any], kind: str) -> list[str]:
    return sorted(str(doc.get("api_name")) for key, doc in documents.items()
                  if key.partition("/")[2].startswith("flows/") and isinstance(doc, dict)
                  and doc.get("kind") == kind)


def _actions_context(documents: dict[str, Any], objects: dict[str, Any],
                     obj: tuple[str, dict[str, Any]] | None) -> dict[str, Any]:
    """What the action editor offers: kinds, objects to create records of, the fields an
    update may set (stored ones and the owner), and the object's public pools."""
    fields = obj[1].get("fields", []) if obj else []
    return {"action_kinds": ACTION_KINDS, "recipient_kinds": RECIPIENT_KINDS,
            "objects": [(name, f"{name}") for name in objects],
            "object_fields": ["owner", *(f.get("api_name") for f in fields
                                         if f.get("type") not in COMPUTED)],
            "pools": [p.get("api_name") for p in (obj[1].get("pools") or [] if obj else [])
                      if isinstance(p, dict)]}


@web.route("/flows/new", methods=["GET", "POST"])
@admin_page
def new_flow(actor: Actor) -> Any:
    return _page(actor, None)


@web.route("/flows/<name>", methods=["GET", "POST"])
@admin_page
def flow_page(actor: Actor, name: str) -> Any:
    return _page(actor, name)


@web.post("/flows/<name>/delete")
@admin_page
def delete_flow(actor: Actor, name: str) -> Any:
    _flow(name)
    return review(actor, "delete", kind="flows", name=name, base_version=base_version(),
                  done=url_for("builder_web.overview"),
                  back=url_for("builder_web.flow_page", name=name), title=b("delete"))
