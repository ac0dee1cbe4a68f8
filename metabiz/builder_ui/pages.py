"""The builder's home, applying a reviewed plan, versions (list, diff, revert), the formula
editor's live check, and the "Builder" link in the navigation.

Object, field, rule and layout pages are in object_pages.py; both render into the shell.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, flash, redirect, render_template, request, url_for

from metabiz.builder_ui import (
    calendar_pages,
    document_pages,
    documents,
    flow_pages,
    list_view_pages,
    object_pages,
    pool_pages,
    report_pages,
    role_pages,
    template_files,
    versions,
)
from metabiz.builder_ui.formula_check import check_formula
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import (
    admin_page,
    engine,
    extensions,
    objects_of,
    removed_objects,
    render_plan,
    review,
    run,
    stored,
    web,
)
from metabiz.errors import BadRequest, ConflictError, MetadataError
from metabiz.objects import forms
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.extensions import NavLink
from metabiz.platform.metadata.store import split_apps
from metabiz.platform.request_input import whole_number
from metabiz.platform.web.page_urls import url_for as page_url
from metabiz.platform.web.session import safe_next

__all__ = ["calendar_pages", "document_pages", "flow_pages", "init_app", "list_view_pages",
           "nav_links", "object_pages", "pool_pages", "report_pages", "role_pages"]
#: document kinds with forms of their own (the rest are edited as JSON)
FORM_KINDS = ("objects", "roles", "reports", "dashboards")


def nav_links(actor: Actor) -> list[NavLink]:
    if not actor.is_admin:
        return []
    return [NavLink(href=page_url("builder_web.overview"), label=b("builder"), icon="builder")]


def init_app(app: Flask) -> None:
    app.register_blueprint(web)


@web.get("")
@admin_page
def overview(actor: Actor) -> str:
    current, version = stored()
    flows = []
    roles = []
    kinds = documents.kinds(extensions())
    others: dict[str, list[str]] = {kind: [] for kind in kinds if kind not in FORM_KINDS}
    designed: dict[str, list[dict[str, Any]]] = {kind: [] for kind in ("reports", "dashboards")
                                                 if kind in kinds}
    for app, docs in sorted(split_apps(current).items()):
        for rel, doc in sorted(docs.items()):
            folder = rel.partition("/")[0]
            if folder in others and folder != "flows" and isinstance(doc, dict):
                others[folder].append(str(doc.get("api_name")))
            if folder in designed and isinstance(doc, dict):
                designed[folder].append({"name": doc.get("api_name"), "label": doc.get("label"),
                                         "object": doc.get("object")})
            if folder == "flows" and isinstance(doc, dict):
                flows.append({"app": app, "name": doc.get("api_name"), "kind": doc.get("kind"),
                              "object": doc.get("object"), "label": doc.get("label")})
            elif folder == "roles" and isinstance(doc, dict):
                roles.append({"app": app, "name": doc.get("api_name"), "label": doc.get("label")})
    return render_template("builder/overview.html", objects=objects_of(current),
                           removed=removed_objects(current), flows=flows, roles=roles,
                           others=others, designed=designed, version=version)


# -- the reviewed plan, applied -----------------------------------------------------------


@web.post("/apply")
@admin_page
def apply(actor: Actor) -> Any:
    form = request.form
    hidden = {key: form.get(key, "") for key in ("op", "kind", "name", "app", "version",
                                                 "done", "back", "base_version", "document")}
    raw_version = hidden["base_version"]
    try:
        document = json.loads(hidden["document"]) if hidden["document"] else None
    except ValueError:
        raise BadRequest("the reviewed document is not JSON") from None
    try:
        plan = run(hidden["op"], kind=hidden["kind"], name=hidden["name"], document=document,
                   base_version=whole_number(raw_version), app=hidden["app"] or None,
                   version=whole_number(hidden["version"]) or 0,
                   dry_run=False, actor=actor)
    except (MetadataError, ConflictError) as err:
        return render_plan(None, hidden, error=err), 409 if isinstance(err, ConflictError) \
            else 422
    if plan.version is None:
        flash(b("nothing_applied"), "success")
    else:
        flash(b("applied", version=plan.version), "success")
    return redirect(safe_next(hidden["done"]) or url_for("builder_web.overview"))


# -- versions ------------------------------------------------------------------------------


@web.get("/versions")
@admin_page
def version_list(actor: Actor) -> str:
    with engine().connect() as conn:
        listed = versions.versions(conn)
    return render_template("builder/versions.html", versions=_shown_at(actor, listed))


@web.get("/versions/<int:number>")
@admin_page
def version_page(actor: Actor, number: int) -> str:
    with engine().connect() as conn:
        shown = versions.version(conn, number)
    return render_template("builder/version.html", version=_shown_at(actor, [shown])[0])


def _shown_at(actor: Actor, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each version's time as every other page shows times: in the user's time zone."""
    with unit_of_work(actor) as ctx:
        return [{**v, "shown_at": forms.display(None, v["at"], lang=ctx.language,
                                                widget="datetime", zone=ctx.zone)}
                for v in listed]


@web.post("/versions/<int:number>/revert")
@admin_page
def revert(actor: Actor, number: int) -> Any:
    back = url_for("builder_web.version_page", number=number)
    try:
        return review(actor, "revert", version=number, back=back,
                      done=url_for("builder_web.version_list"),
                      title=b("revert") + f" · {b('version_n', n=number)}")
    except (InvalidDocument, ConversionRefused, ConflictError, MetadataError) as err:
        return render_plan(None, {"back": back}, error=err), 409


# -- templates: export and import -----------------------------------------------------------


@web.get("/export")
@admin_page
def export_template(actor: Actor) -> Response:
    """The current metadata as a template folder, zipped."""
    data = template_files.export_zip(engine())
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": "attachment; filename=metabiz-template.zip"})


@web.route("/import", methods=["GET", "POST"])
@admin_page
def import_template(actor: Actor) -> Any:
    """Upload a template (a zip of its folder); its plan is shown before it is applied."""
    general: list[str] = []
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise BadRequest(b("choose_file"), fields={"file": [b("choose_file")]})
            documents = template_files.read_zip(upload.read())
            return review(actor, "import", document=documents,
                          done=url_for("builder_web.overview"),
                          back=url_for("builder_web.import_template"), title=b("import"))
        except (BadRequest, MetadataError, ConflictError) as err:
            general = list(getattr(err, "problems", None) or [err.message])
    return render_template("builder/import.html", general=general), 422 if general else 200


# -- the formula editor's live check -------------------------------------------------------


@web.post("/formula-check")
@admin_page
def formula_check(actor: Actor) -> str:
    """The htmx fragment under a formula editor: OK with type and preview, or the error."""
    form = request.form
    # the editor typed in (htmx names it); its options are named after it
    source_name = request.headers.get("HX-Trigger-Name") or form.get("fc_source", "formula")

    def option(key: str) -> str | None:
        return form.get(f"{key}__{source_name}") or form.get(key) or None

    object_from = option("fc_object_from")  # a roll-up's filter reads the chosen child
    body: dict[str, Any] = {"formula": form.get(source_name, ""),
                            "object": (form.get(object_from) if object_from else None)
                            or option("fc_object"),
                            "context": option("fc_context") or "field"}
    if not body["formula"].strip():
        return ""  # nothing typed yet: nothing to say
    wanted = option("fc_return_type") or (form.get("return_type")
                                          if source_name == "formula" else None)
    if wanted:
        body["return_type"] = wanted
    with unit_of_work(actor) as ctx:
        if body["object"] and body["object"] not in ctx.schema.objects:
            result = {"errors": [{"line": None, "column": None, "caret": "",
                                  "message": b("apply_object_first")}]}
        else:
            result = check_formula(ctx, body)
    return render_template("builder/formula_result.html", result=result,
                           source=body["formula"])
