"""The builder's public pool pages (公海): an object's pools as a form — who may claim their
records (members) and assign them (admins), how many one user may hold, the reasons offered
when a record is returned — saved through the plan page like every change to an object.

A pool's problems come back by JSON pointer (`/pools/0/members/1`) and show by their control.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from werkzeug.datastructures import MultiDict

from metabiz.builder_ui.field_form import label_from, label_parts
from metabiz.builder_ui.object_pages import Problems, form_problems, object_document
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import admin_page, base_version, review, web
from metabiz.errors import ConflictError, NotFound
from metabiz.platform.access import Actor
from metabiz.platform.request_input import whole_number


def pool_from_form(form: MultiDict[str, str], is_new: bool) -> dict[str, Any]:
    pool: dict[str, Any] = {"api_name": (form.get("api_name") or "").strip()}
    label = label_from(form, "label")
    if label is not None:
        pool["label"] = label
    pool["members"] = [r for r in form.getlist("members") if r]
    admins = [r for r in form.getlist("admins") if r]
    if admins:
        pool["admins"] = admins
    limit = (form.get("claim_limit") or "").strip()
    if limit:
        number = whole_number(limit)
        pool["claim_limit"] = limit if number is None else number  # text: the schema names it
    reasons: list[Any] = []
    for value, en, zh in zip(form.getlist("reason_value"), form.getlist("reason_en"),
                             form.getlist("reason_zh"), strict=False):
        value = value.strip() or en.strip().lower().replace(" ", "_")
        if not value:
            continue
        reason_label = label_from({"l_en": en, "l_zh": zh}, "l")
        reasons.append({"value": value, "label": reason_label} if reason_label is not None
                       else value)
    if reasons:
        pool["return_reasons"] = reasons
    adopt = (form.get("adopt_field") or "").strip()
    if is_new and adopt:
        pool["adopt_field"] = adopt
    return pool


def _reason_rows(pool: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for reason in pool.get("return_reasons") or []:
        if isinstance(reason, dict):
            en, zh = label_parts(reason.get("label"))
            rows.append({"value": str(reason.get("value", "")), "en": en, "zh": zh})
        else:
            rows.append({"value": str(reason), "en": "", "zh": ""})
    return rows or [{"value": "", "en": "", "zh": ""}]


def _roles(documents: dict[str, Any]) -> list[tuple[str, Any]]:
    return sorted((str(doc.get("api_name")), doc.get("label")) for key, doc in documents.items()
                  if key.partition("/")[2].startswith("roles/") and isinstance(doc, dict))


def _pool_page(actor: Actor, name: str, pool_name: str | None) -> Any:
    app, doc, version, documents = object_document(name)
    pools = doc.setdefault("pools", [])
    index = next((i for i, p in enumerate(pools) if p.get("api_name") == pool_name), None)
    if pool_name is not None and index is None:
        raise NotFound(f"no pool {pool_name!r} on {name}")
    pool = pools[index] if index is not None else {"api_name": "", "members": []}
    errors: Problems = ({}, [], [])
    if request.method == "POST":
        pool = pool_from_form(request.form, is_new=index is None)
        position = len(pools) if index is None else index
        if index is None:
            pools.append(pool)
        else:
            pools[index] = {**pool, **({"adopt_field": pools[index]["adopt_field"]}
                                       if "adopt_field" in pools[index] else {})}
        page = url_for("builder_web.object_page", name=name)
        try:
            return review(actor, "put", kind="objects", name=name, document=doc,
                          base_version=base_version(), done=page, back=request.url,
                          title=b("pools"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, f"/pools/{position}")
    label_en, label_zh = label_parts(pool.get("label"))
    booleans = [f.get("api_name") for f in doc.get("fields", []) if f.get("type") == "boolean"]
    return render_template(
        "builder/pool.html", name=name, doc=doc, pool=pool, pool_name=pool_name,
        version=version, label_en=label_en, label_zh=label_zh, roles=_roles(documents),
        reasons=_reason_rows(pool), booleans=booleans, errors=errors[0],
        general=errors[1]), 422 if errors[0] or errors[1] else 200


@web.route("/objects/<name>/pools/new", methods=["GET", "POST"])
@admin_page
def new_pool(actor: Actor, name: str) -> Any:
    return _pool_page(actor, name, None)


@web.route("/objects/<name>/pools/<pool_name>", methods=["GET", "POST"])
@admin_page
def pool_page(actor: Actor, name: str, pool_name: str) -> Any:
    return _pool_page(actor, name, pool_name)


@web.post("/objects/<name>/pools/<pool_name>/delete")
@admin_page
def delete_pool(actor: Actor, name: str, pool_name: str) -> Any:
    app, doc, version, _ = object_document(name)
    kept = [p for p in doc.get("pools", []) if p.get("api_name") != pool_name]
    if len(kept) == len(doc.get("pools", [])):
        raise NotFound(f"no pool {pool_name!r} on {name}")
    doc["pools"] = kept
    if not kept:
        del doc["pools"]
    page = url_for("builder_web.object_page", name=name)
    return review(actor, "put", kind="objects", name=name, document=doc,
                  base_version=base_version(), done=page, back=page, title=b("delete"))
