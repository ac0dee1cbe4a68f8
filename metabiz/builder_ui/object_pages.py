"""The builder's object pages: create, edit, delete and restore objects; their fields of
every type, validation rules and page layout.

Each form builds the whole new object document and goes to the plan page (`web.review`);
problems come back by JSON pointer and are shown next to the control they belong to.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui.field_form import (
    COMPUTED,
    FIELD_TYPES,
    INDEXABLE,
    RETURN_TYPES,
    ROLLUP_FUNCTIONS,
    TYPE_KEYS,
    errors_at,
    field_from_form,
    field_view,
    label_from,
    label_parts,
    row_count,
)
from metabiz.builder_ui.formula_check import EXPECTED
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import (
    admin_page,
    base_version,
    label_text,
    objects_of,
    removed_fields,
    removed_objects,
    review,
    stored,
    web,
)
from metabiz.errors import ConflictError, NotFound
from metabiz.formulas import FUNCTIONS
from metabiz.platform.access import Actor
from metabiz.platform.metadata.store import DEFAULT_APP, split_apps
from metabiz.platform.metadata.validation import kernel_schemas

Problems = tuple[dict[str, list[str]], list[str], list[dict[str, Any]]]


def object_document(name: str) -> tuple[str, dict[str, Any], int, dict[str, Any]]:
    """(app, a copy of the object's document, metadata version, every document)."""
    documents, version = stored()
    found = objects_of(documents).get(name)
    if found is None:
        raise NotFound(f"no object {name!r}")
    return found[0], copy.deepcopy(found[1]), version, documents


def form_problems(err: Exception, prefix: str) -> Problems:
    """Errors by control under `prefix`, general ones, and the records a conversion refuses."""
    if isinstance(err, InvalidDocument | ConversionRefused):
        by_control, general = errors_at(err.fields, prefix)
        records = err.records if isinstance(err, ConversionRefused) else []
        if records:
            general.insert(0, b("refused"))
        return by_control, general, records
    return {}, [b("conflict") if isinstance(err, ConflictError) else str(err)], []


def field_choices(doc: dict[str, Any], documents: dict[str, Any]) -> list[dict[str, Any]]:
    """What the formula editor's field picker offers: the fields, and one step across each
    lookup (`account.industry`)."""
    objects = objects_of(documents)
    out = []
    for field in doc.get("fields", []):
        name = field.get("api_name")
        out.append({"path": name, "label": field.get("label") or name, "type": field.get("type")})
        target = objects.get(field.get("target") or "")
        if field.get("type") in ("lookup", "master_detail") and target:
            for sub in target[1].get("fields", []):
                out.append({"path": f"{name}.{sub.get('api_name')}",
                            "label": _across(field, sub), "type": sub.get("type")})
    return out


def _across(lookup: dict[str, Any], field: dict[str, Any]) -> dict[str, str]:
    """A field one step across a lookup as the picker names it, in both languages
    (`Customer › Industry`, `客户 › 行业`): the labels, not the API names."""
    names = [(label_parts(doc.get("label")), str(doc.get("api_name"))) for doc in (lookup, field)]
    return {lang: " › ".join((en_zh[i] or en_zh[0] or name) for en_zh, name in names)
            for i, lang in enumerate(("en", "zh"))}


def editor_context(name: str, doc: dict[str, Any], documents: dict[str, Any]) -> dict[str, Any]:
    return {"object_name": name, "field_choices": field_choices(doc, documents),
            "functions": sorted(FUNCTIONS), "object_names": list(objects_of(documents)),
            "objects_docs": objects_of(documents)}


# -- objects -------------------------------------------------------------------------------


def icons() -> list[str]:
    """The icons an object may take (object.json's `icon`, one SVG symbol each)."""
    return list(kernel_schemas()["object"]["properties"]["icon"]["enum"])


def _set_icon(doc: dict[str, Any], form: Any) -> None:
    """The icon picked (none: the object's initial); an unknown name goes to the schema."""
    doc.pop("icon", None)
    icon = (form.get("icon") or "").strip()
    if icon:
        doc["icon"] = icon


@web.route("/objects/new", methods=["GET", "POST"])
@admin_page
def new_object(actor: Actor) -> Any:
    documents, version = stored()
    by_app = split_apps(documents)
    apps = [(a, label_text((by_app.get(a, {}).get("app.json") or {}).get("label"),
                           b("custom_app") if a == DEFAULT_APP else a))
            for a in sorted(set(by_app) | {DEFAULT_APP})]
    form = request.form
    errors: Problems = ({}, [], [])
    if request.method == "POST":
        name = (form.get("api_name") or "").strip()
        doc = {"api_name": name, "label": label_from(form, "label") or name,
               "name_field": "name",
               "fields": [{"api_name": "name", "type": "text", "required": True,
                           "label": {"en": "Name", "zh": "名称"}}]}
        _set_icon(doc, form)
        try:
            return review(actor, "put", kind="objects", name=name, document=doc,
                          base_version=base_version(), app=form.get("app") or None,
                          done=url_for("builder_web.object_page", name=name),
                          back=url_for("builder_web.new_object"), title=b("new_object"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, "")
    return render_template("builder/object_new.html", form=form, apps=apps, version=version,
                           icons=icons(),
                           errors=errors[0], general=errors[1]), 422 if errors[1] or \
        errors[0] else 200


@web.route("/objects/<name>", methods=["GET", "POST"])
@admin_page
def object_page(actor: Actor, name: str) -> Any:
    app, doc, version, documents = object_document(name)
    errors: Problems = ({}, [], [])
    if request.method == "POST":
        form = request.form
        new = dict(doc)
        new["label"] = label_from(form, "label") or name
        plural = label_from(form, "plural")
        new.pop("plural_label", None)
        if plural is not None:
            new["plural_label"] = plural
        new["name_field"] = form.get("name_field") or doc.get("name_field")
        description = (form.get("description") or "").strip()
        new.pop("description", None)
        if description:
            new["description"] = description
        _set_icon(new, form)
        try:
            return review(actor, "put", kind="objects", name=name, document=new,
                          base_version=base_version(),
                          done=url_for("builder_web.object_page", name=name),
                          back=url_for("builder_web.object_page", name=name),
                          title=b("edit_object"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, "")
            doc = new
    label_en, label_zh = label_parts(doc.get("label"))
    plural_en, plural_zh = label_parts(doc.get("plural_label"))
    return render_template(
        "builder/object.html", name=name, app=app, doc=doc, version=version,
        label_en=label_en, label_zh=label_zh, plural_en=plural_en, plural_zh=plural_zh,
        removed=removed_fields(name, doc), errors=errors[0], general=errors[1],
        computed=COMPUTED, icons=icons()), 422 if errors[1] or errors[0] else 200


@web.post("/objects/<name>/delete")
@admin_page
def delete_object(actor: Actor, name: str) -> Any:
    object_document(name)
    return review(actor, "delete", kind="objects", name=name, base_version=base_version(),
                  done=url_for("builder_web.overview"),
                  back=url_for("builder_web.object_page", name=name), title=b("delete_object"))


@web.post("/objects/<name>/restore")
@admin_page
def restore_object(actor: Actor, name: str) -> Any:
    documents, version = stored()
    found = removed_objects(documents).get(name)
    if found is None:
        raise NotFound(f"no removed object {name!r}")
    app, doc = found
    return review(actor, "put", kind="objects", name=name, document=doc, app=app,
                  base_version=version, done=url_for("builder_web.object_page", name=name),
                  back=url_for("builder_web.overview"), title=b("restore"))


# -- fields ----------------------------------------------------------------------------------


def _field_page(actor: Actor, name: str, field_name: str | None) -> Any:
    app, doc, version, documents = object_document(name)
    fields = doc.setdefault("fields", [])
    index = next((i for i, f in enumerate(fields) if f.get("api_name") == field_name), None)
    if field_name is not None and index is None:
        raise NotFound(f"no field {field_name!r} on {name}")
    original = fields[index] if index is not None else None
    view = field_view(original or {"type": request.args.get("type", "text")})
    errors: Problems = ({}, [], [])
    if request.method == "POST":
        new_field = field_from_form(request.form, original)
        view = field_view(new_field)
        if index is None:
            position = len(fields)
            fields.append(new_field)
        else:
            position = index
            fields[index] = new_field
        if original is not None and new_field["api_name"] != original.get("api_name"):
            _follow_rename(doc, original["api_name"], new_field["api_name"])
        back = request.url
        try:
            return review(actor, "put", kind="objects", name=name, document=doc,
                          base_version=base_version(),
                          done=url_for("builder_web.object_page", name=name), back=back,
                          title=b("edit_field") if original else b("new_field"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, f"/fields/{position}")
    return render_template(
        "builder/field.html", name=name, doc=doc, view=view, original=original,
        version=version, types=FIELD_TYPES, type_keys=TYPE_KEYS, computed=COMPUTED,
        indexable=INDEXABLE,
        return_types=RETURN_TYPES, rollup_functions=ROLLUP_FUNCTIONS, errors=errors[0],
        general=errors[1], refused=errors[2], expected=EXPECTED,
        **editor_context(name, doc, documents)), 422 if errors[1] or errors[0] else 200


def _follow_rename(doc: dict[str, Any], old: str, new: str) -> None:
    """A renamed field keeps its place in the name field and the layout."""
    if doc.get("name_field") == old:
        doc["name_field"] = new
    for layout in (doc.get("layouts") or {}).values():
        for section in layout.get("sections", []):
            section["fields"] = [new if f == old else f for f in section.get("fields", [])]
    for view in doc.get("list_views") or []:
        if "columns" in view:
            view["columns"] = [new if f == old else f for f in view["columns"]]


@web.route("/objects/<name>/fields/new", methods=["GET", "POST"])
@admin_page
def new_field(actor: Actor, name: str) -> Any:
    return _field_page(actor, name, None)


@web.route("/objects/<name>/fields/<field_name>", methods=["GET", "POST"])
@admin_page
def field_page(actor: Actor, name: str, field_name: str) -> Any:
    return _field_page(actor, name, field_name)


@web.post("/objects/<name>/fields/<field_name>/delete")
@admin_page
def delete_field(actor: Actor, name: str, field_name: str) -> Any:
    app, doc, version, _ = object_document(name)
    before = len(doc.get("fields", []))
    doc["fields"] = [f for f in doc.get("fields", []) if f.get("api_name") != field_name]
    if len(doc["fields"]) == before:
        raise NotFound(f"no field {field_name!r} on {name}")
    for layout in (doc.get("layouts") or {}).values():
        for section in layout.get("sections", []):
            section["fields"] = [f for f in section.get("fields", []) if f != field_name]
    page = url_for("builder_web.object_page", name=name)
    return review(actor, "put", kind="objects", name=name, document=doc,
                  base_version=base_version(), done=page, back=page, title=b("delete"))


@web.post("/objects/<name>/fields/<field_name>/restore")
@admin_page
def restore_field(actor: Actor, name: str, field_name: str) -> Any:
    app, doc, version, _ = object_document(name)
    found = next((f for f in removed_fields(name, doc) if f.get("api_name") == field_name), None)
    if found is None:
        raise NotFound(f"no removed field {field_name!r} on {name}")
    doc.setdefault("fields", []).append(found)
    page = url_for("builder_web.object_page", name=name)
    return review(actor, "put", kind="objects", name=name, document=doc, base_version=version,
                  done=page, back=page, title=b("restore"))


# -- validation rules ----------------------------------------------------------------------


def _rule_page(actor: Actor, name: str, rule_name: str | None) -> Any:
    app, doc, version, documents = object_document(name)
    rules = doc.setdefault("validation_rules", [])
    index = next((i for i, r in enumerate(rules) if r.get("api_name") == rule_name), None)
    if rule_name is not None and index is None:
        raise NotFound(f"no validation rule {rule_name!r} on {name}")
    rule = rules[index] if index is not None else {"api_name": "", "error_condition": "",
                                                   "message": ""}
    errors: Problems = ({}, [], [])
    if request.method == "POST":
        form = request.form
        rule = {"api_name": (form.get("api_name") or "").strip(),
                "error_condition": (form.get("error_condition") or "").strip(),
                "message": label_from(form, "message") or ""}
        if form.get("field"):
            rule["field"] = form["field"]
        if not form.get("active"):
            rule["active"] = False
        position = len(rules) if index is None else index
        if index is None:
            rules.append(rule)
        else:
            rules[index] = rule
        try:
            return review(actor, "put", kind="objects", name=name, document=doc,
                          base_version=base_version(),
                          done=url_for("builder_web.object_page", name=name), back=request.url,
                          title=b("edit_rule") if rule_name else b("new_rule"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, f"/validation_rules/{position}")
    message_en, message_zh = label_parts(rule.get("message"))
    return render_template(
        "builder/rule.html", name=name, doc=doc, rule=rule, rule_name=rule_name,
        version=version, message_en=message_en, message_zh=message_zh, errors=errors[0],
        general=errors[1], **editor_context(name, doc, documents)), \
        422 if errors[1] or errors[0] else 200


@web.route("/objects/<name>/rules/new", methods=["GET", "POST"])
@admin_page
def new_rule(actor: Actor, name: str) -> Any:
    return _rule_page(actor, name, None)


@web.route("/objects/<name>/rules/<rule_name>", methods=["GET", "POST"])
@admin_page
def rule_page(actor: Actor, name: str, rule_name: str) -> Any:
    return _rule_page(actor, name, rule_name)


@web.post("/objects/<name>/rules/<rule_name>/delete")
@admin_page
def delete_rule(actor: Actor, name: str, rule_name: str) -> Any:
    app, doc, version, _ = object_document(name)
    doc["validation_rules"] = [r for r in doc.get("validation_rules", [])
                               if r.get("api_name") != rule_name]
    if not doc["validation_rules"]:
        del doc["validation_rules"]
    page = url_for("builder_web.object_page", name=name)
    return review(actor, "put", kind="objects", name=name, document=doc,
                  base_version=base_version(), done=page, back=page, title=b("delete"))


# -- the page layout -----------------------------------------------------------------------


@web.route("/objects/<name>/layout", methods=["GET", "POST"])
@admin_page
def layout_page(actor: Actor, name: str) -> Any:
    app, doc, version, _ = object_document(name)
    names = [f.get("api_name") for f in doc.get("fields", [])]
    errors: Problems = ({}, [], [])
    layout = (doc.get("layouts") or {}).get("default") or {
        "sections": [{"columns": 2, "fields": names}]}
    if request.method == "POST":
        form = request.form
        sections = []
        for i in range(row_count(form, "section_count")):
            section: dict[str, Any] = {"fields": [f for f in form.getlist(f"s{i}_fields")
                                                  if f in names]}
            label = label_from(form, f"s{i}_label")
            if label is not None:
                section["label"] = label
            section["columns"] = 1 if form.get(f"s{i}_columns") == "1" else 2
            if section["fields"] or label is not None:
                sections.append(section)
        layout = {"sections": sections or [{"columns": 2, "fields": []}]}
        doc["layouts"] = {**(doc.get("layouts") or {}), "default": layout}
        page = url_for("builder_web.object_page", name=name)
        try:
            return review(actor, "put", kind="objects", name=name, document=doc,
                          base_version=base_version(), done=page, back=request.url,
                          title=b("layout"))
        except (InvalidDocument, ConversionRefused, ConflictError) as err:
            errors = form_problems(err, "/layouts/default")
    placed = {f for s in layout.get("sections", []) for f in s.get("fields", [])}
    sections = [{"label": label_parts(s.get("label")), "columns": s.get("columns", 2),
                 "fields": s.get("fields", [])} for s in layout.get("sections", [])]
    sections.append({"label": ("", ""), "columns": 2, "fields": []})  # room for a new one
    labels = {f.get("api_name"): f.get("label") or f.get("api_name")
              for f in doc.get("fields", [])}
    return render_template("builder/layout.html", name=name, doc=doc, version=version,
                           sections=sections, unplaced=[n for n in names if n not in placed],
                           labels=labels, errors=errors[0], general=errors[1]), \
        422 if errors[1] or errors[0] else 200

