"""The bundled industry templates (examples/crm, examples/service) load and hang together.

What a user of `metabiz template install crm --demo-data` relies on: the objects, flows,
roles and demo users documented in docs/templates.md, and demo records that fit them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from metabiz.errors import MetadataError
from metabiz.platform.metadata.loader import load_path
from metabiz.platform.metadata.model import (
    ApprovalFlowDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    FieldDef,
    MetadataBundle,
    ObjectDef,
)
from metabiz.platform.metadata.reserved import SYSTEM_FIELDS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COMPUTED = {"formula", "rollup", "auto_number"}


@pytest.fixture(scope="module")
def crm() -> MetadataBundle:
    return load_path(EXAMPLES / "crm")


@pytest.fixture(scope="module")
def service(crm: MetadataBundle) -> MetadataBundle:
    return load_path(EXAMPLES / "service", known_objects=crm.objects)


@pytest.fixture(scope="module")
def bundles(crm: MetadataBundle, service: MetadataBundle) -> dict[str, MetadataBundle]:
    return {"crm": crm, "service": service}


def all_objects(bundles: Mapping[str, MetadataBundle]) -> dict[str, ObjectDef]:
    return {o.api_name: o for b in bundles.values() for o in b.objects}


def field(bundle: MetadataBundle, ref: str) -> FieldDef:
    object_name, _, field_name = ref.partition(".")
    obj = bundle.object(object_name)
    assert obj is not None, f"no object {object_name}"
    fdef = obj.field(field_name)
    assert fdef is not None, f"no field {ref}"
    return fdef


# ---- crm ----------------------------------------------------------------------------------


def test_crm_app(crm: MetadataBundle) -> None:
    assert crm.app is not None
    assert (crm.app.name, crm.app.label.get("en"), crm.app.label.get("zh")) == \
        ("crm", "CRM", "客户管理")


def test_crm_objects(crm: MetadataBundle) -> None:
    assert {o.api_name for o in crm.objects} == {
        "account", "contact", "lead", "opportunity", "product", "quote", "quote_line",
        "sales_order", "task"}


@pytest.mark.parametrize(("ref", "type_"), [
    ("account.name", "text"), ("account.industry", "picklist"), ("account.type", "picklist"),
    ("account.website", "url"), ("account.annual_revenue", "currency"),
    ("account.credit_limit", "currency"), ("account.open_pipeline", "rollup"),
    ("account.opportunity_count", "rollup"),
    ("contact.full_name", "formula"), ("contact.email", "email"), ("contact.account", "lookup"),
    ("lead.status", "picklist"), ("lead.source", "picklist"), ("lead.converted", "boolean"),
    ("lead.estimated_amount", "currency"),
    ("opportunity.account", "lookup"), ("opportunity.contact", "lookup"),
    ("opportunity.stage", "picklist"), ("opportunity.amount", "currency"),
    ("opportunity.probability", "percent"), ("opportunity.discount", "percent"),
    ("opportunity.close_date", "date"), ("opportunity.weighted_amount", "formula"),
    ("opportunity.days_to_close", "formula"),
    ("product.code", "text"), ("product.unit_price", "currency"), ("product.active", "boolean"),
    ("quote.quote_number", "auto_number"), ("quote.opportunity", "master_detail"),
    ("quote.total", "rollup"), ("quote.valid_until", "date"),
    ("quote_line.quote", "master_detail"), ("quote_line.product", "lookup"),
    ("quote_line.quantity", "number"), ("quote_line.line_total", "formula"),
    ("sales_order.order_number", "auto_number"), ("sales_order.account", "lookup"),
    ("sales_order.opportunity", "lookup"), ("sales_order.order_date", "date"),
    ("task.subject", "text"), ("task.due_date", "date"), ("task.assigned_to", "user"),
    ("task.opportunity", "lookup"), ("task.account", "lookup"),
])
def test_crm_field_types(crm: MetadataBundle, ref: str, type_: str) -> None:
    assert field(crm, ref).type == type_


def test_opportunity_stage_and_formulas(crm: MetadataBundle) -> None:
    stage = field(crm, "opportunity.stage")
    assert stage.picklist_values() == (
        "prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")
    assert stage.default == '"prospecting"'
    assert field(crm, "opportunity.close_date").required
    weighted = field(crm, "opportunity.weighted_amount")
    assert (weighted.return_type, weighted.formula) == ("currency", "amount * probability / 100")
    assert field(crm, "opportunity.days_to_close").formula == "close_date - TODAY()"
    opportunity = crm.object("opportunity")
    assert opportunity is not None
    rules = {r.api_name: r for r in opportunity.validation_rules}
    assert rules["amount_not_negative"].error_condition == "amount < 0"
    assert "discount > 50" in rules["discount_limit"].error_condition


def test_lookup_delete_rules(crm: MetadataBundle) -> None:
    assert field(crm, "opportunity.account").on_delete == "restrict"
    assert field(crm, "opportunity.contact").on_delete == "set_null"
    assert field(crm, "contact.account").on_delete == "set_null"
    assert field(crm, "task.opportunity").on_delete == "set_null"


def test_rollups(crm: MetadataBundle) -> None:
    pipeline = field(crm, "account.open_pipeline")
    assert (pipeline.child_object, pipeline.relationship_field, pipeline.function,
            pipeline.rollup_field) == ("opportunity", "account", "sum", "amount")
    assert 'ISPICKVAL(stage, "closed_won")' in (pipeline.filter or "")
    total = field(crm, "quote.total")
    assert (total.child_object, total.relationship_field, total.function,
            total.rollup_field) == ("quote_line", "quote", "sum", "line_total")
    assert field(crm, "quote.quote_number").format == "Q-{00000}"
    assert field(crm, "sales_order.order_number").format == "SO-{00000}"


def test_lead_qualification_needs_email(crm: MetadataBundle) -> None:
    lead = crm.object("lead")
    assert lead is not None
    assert any("ISPICKVAL(status, \"qualified\")" in r.error_condition
               and "ISBLANK(email)" in r.error_condition for r in lead.validation_rules)


def test_crm_flows(crm: MetadataBundle) -> None:
    approval = crm.flow("discount_approval")
    assert isinstance(approval, ApprovalFlowDef)
    assert approval.object == "opportunity" and approval.lock_record
    assert "discount > 10" in (approval.entry_condition or "")
    manager, finance = approval.steps
    assert (manager.api_name, manager.mode, manager.approvers[0].kind,
            manager.approvers[0].value) == ("manager", "any", "manager_of", "owner")
    assert (finance.api_name, finance.mode, finance.condition) == \
        ("finance", "all", "discount > 20")
    assert [(a.kind, a.value) for a in finance.approvers] == [("role", "finance")]
    assert any(a.kind == "update" and a.params.get("discount") == "0"
               for a in approval.on_reject)

    won = crm.flow("won_followup")
    assert isinstance(won, AutomationRuleDef)
    assert (won.trigger.kind, won.trigger.fields) == ("field_changed", ("stage",))
    assert won.condition == 'ISPICKVAL(stage, "closed_won")'
    create = next(a for a in won.actions if a.kind == "create")
    assert create.params["object"] == "task"
    assert create.params["values"]["opportunity"] == "id"
    assert any(a.kind == "notify" for a in won.actions)

    reminder = crm.flow("close_date_reminder")
    assert isinstance(reminder, AutomationRuleDef)
    assert (reminder.trigger.kind, reminder.trigger.date_field, reminder.trigger.days) == \
        ("before_date", "close_date", 7)

    rule = crm.flow("lead_assignment")
    assert isinstance(rule, AssignmentRuleDef) and rule.object == "lead"
    assert rule.entries[-1].condition is None  # a catch-all, so every lead gets an owner
    assert any(e.assignee == {"role": "sales_rep", "strategy": "round_robin"}
               for e in rule.entries)
    assign = crm.flow("lead_auto_assign")
    assert isinstance(assign, AutomationRuleDef) and assign.trigger.kind == "created"
    assert [a.params for a in assign.actions if a.kind == "assign"] == \
        [{"rules": "lead_assignment"}]


def test_crm_roles(crm: MetadataBundle) -> None:
    assert {r.api_name for r in crm.roles} == {
        "sales_rep", "sales_manager", "finance", "product_catalog"}
    rep = crm.role("sales_rep")
    assert rep is not None and rep.record_access == "own"
    for name in ("opportunity", "account", "contact", "lead", "task", "quote", "quote_line"):
        assert {"read", "create", "edit"} <= rep.objects[name], name
        assert "delete" not in rep.objects[name]
    assert rep.objects["product"] == frozenset({"read"})
    assert rep.fields == {"account.credit_limit": "read_only"}
    manager = crm.role("sales_manager")
    assert manager is not None and "delete" in manager.objects["opportunity"]
    finance = crm.role("finance")
    assert finance is not None and finance.record_access == "all"
    assert {o.api_name for o in crm.objects} <= set(finance.objects)
    assert "edit" in finance.objects["sales_order"] and "edit" in finance.objects["quote"]
    # record access is per role: the price book must be visible to every seller
    catalog = crm.role("product_catalog")
    assert catalog is not None and catalog.record_access == "all"
    assert catalog.objects == {"product": frozenset({"read"})}


def test_crm_demo_users(crm: MetadataBundle) -> None:
    users = {u.name: u for u in crm.users}
    assert set(users) == {"alice", "bob", "carol", "dave"}
    assert all(u.password == "demo" for u in users.values())
    for rep in ("alice", "dave"):
        assert (users[rep].roles, users[rep].manager) == \
            (("sales_rep", "product_catalog"), "bob")
    assert users["bob"].roles == ("sales_manager", "product_catalog")
    assert users["carol"].roles == ("finance",)


def test_crm_demo_data_size(crm: MetadataBundle) -> None:
    sizes = {name: len(rows) for name, rows in crm.data.items()}
    assert sizes["account"] >= 5 and sizes["contact"] >= 8 and sizes["lead"] >= 6
    assert sizes["opportunity"] >= 8 and sizes["product"] >= 4 and sizes["quote"] >= 2
    assert sizes["quote_line"] >= 2 and sizes["task"] >= 6
    stages = {r["stage"] for r in crm.data["opportunity"]}
    assert {"prospecting", "proposal", "negotiation", "closed_won", "closed_lost"} <= stages


# ---- service ------------------------------------------------------------------------------


def test_service_objects(service: MetadataBundle) -> None:
    assert service.app is not None and service.app.name == "service"
    assert service.app.depends == ("crm",)
    assert {o.api_name for o in service.objects} == {
        "support_case", "case_comment", "knowledge_article", "service_contract"}
    assert field(service, "support_case.case_number").format == "CS-{00000}"
    assert field(service, "support_case.account").target == "account"
    assert field(service, "support_case.contact").target == "contact"
    assert field(service, "support_case.status").picklist_values() == (
        "new", "in_progress", "waiting", "resolved", "closed")
    assert field(service, "support_case.overdue").return_type == "boolean"
    assert field(service, "support_case.assigned_to").type == "user"
    assert field(service, "case_comment.support_case").type == "master_detail"
    assert field(service, "knowledge_article.published").type == "boolean"


def test_service_needs_crm_objects() -> None:
    with pytest.raises(MetadataError, match="unknown object 'account'"):
        load_path(EXAMPLES / "service")


def test_service_flows_and_roles(service: MetadataBundle) -> None:
    resolved = service.flow("case_resolved")
    assert isinstance(resolved, AutomationRuleDef)
    assert resolved.trigger.fields == ("status",)
    assert resolved.condition == 'ISPICKVAL(status, "resolved")'
    assert [a.params for a in resolved.actions] == [{"resolved_at": "NOW()"}]
    rule = service.flow("case_assignment")
    assert isinstance(rule, AssignmentRuleDef) and rule.object == "support_case"
    assert all("priority" in (e.condition or "priority") for e in rule.entries)
    refund = service.flow("refund_approval")
    assert isinstance(refund, ApprovalFlowDef)
    assert refund.entry_condition == "refund_amount > 0" and refund.lock_record
    agent = service.role("support_agent")
    assert agent is not None and {"read", "create", "edit"} <= agent.objects["support_case"]
    users = {u.name: u for u in service.users}
    assert users["erin"].roles == ("support_agent",) and users["erin"].password == "demo"


# ---- every template -----------------------------------------------------------------------


def test_labels_are_bilingual(bundles: Mapping[str, MetadataBundle]) -> None:
    missing = []
    for obj in all_objects(bundles).values():
        labels = [(obj.api_name, obj.label)]
        labels += [(f"{obj.api_name}.{f.api_name}", f.label) for f in obj.fields]
        labels += [(f"{obj.api_name}.{f.api_name}={v.value}", v.label)
                   for f in obj.fields for v in f.values]
        missing += [where for where, label in labels if dict(label.texts).keys() != {"en", "zh"}]
    assert missing == []


def test_every_object_is_usable(bundles: Mapping[str, MetadataBundle]) -> None:
    for obj in all_objects(bundles).values():
        assert obj.name_field and obj.field(obj.name_field), obj.api_name
        layout = obj.layout("default")
        assert layout is not None, obj.api_name
        on_layout = {name for s in layout.sections for name in s.fields}
        assert on_layout == {f.api_name for f in obj.fields}, obj.api_name
        assert obj.list_view("all") is not None, obj.api_name


def _records(bundles: Mapping[str, MetadataBundle]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for app, bundle in bundles.items():
        for name, rows in bundle.data.items():
            for i, row in enumerate(rows):
                yield f"{app}/data/{name}.json", i, {"__object__": name, **row}


def test_data_files_fit_their_objects(bundles: Mapping[str, MetadataBundle]) -> None:
    objects = all_objects(bundles)
    users = {u.name for b in bundles.values() for u in b.users}
    problems = []
    for where, i, row in _records(bundles):
        obj = objects.get(row.pop("__object__"))
        if obj is None:
            problems.append(f"{where}: no such object")
            continue
        for f in obj.fields:
            if f.required and f.default is None and f.type not in COMPUTED and f.api_name not in row:
                problems.append(f"{where} #{i}: required {f.api_name} missing")
        for key, value in row.items():
            fdef = obj.field(key)
            if key == "owner":
                ok = value in users
            elif fdef is None or fdef.type in COMPUTED:
                ok = False
            elif fdef.type == "picklist":
                ok = value in fdef.picklist_values()
            elif fdef.type == "user":
                ok = value in users
            elif fdef.type in ("number", "currency", "percent"):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            elif fdef.type == "boolean":
                ok = isinstance(value, bool)
            else:
                ok = isinstance(value, str)
            if not ok:
                problems.append(f"{where} #{i}: {key}={value!r}")
    assert problems == []


def _name_of(obj: ObjectDef, row: Mapping[str, Any]) -> set[str]:
    """The names a demo record may be looked up by."""
    name_field = obj.field(obj.name_field or "")
    if name_field is not None and name_field.type == "formula":
        # a computed name (contact.full_name): the words of its text fields, in order
        words = [str(row[f.api_name]) for f in obj.fields if f.api_name in row
                 and f.type == "text"]
        return {" ".join(words[:n]) for n in range(1, len(words) + 1)}
    return {str(row.get(obj.name_field or ""))}


def test_data_lookups_name_one_record(bundles: Mapping[str, MetadataBundle]) -> None:
    objects = all_objects(bundles)
    rows: dict[str, list[Mapping[str, Any]]] = {}
    for bundle in bundles.values():
        for name, records in bundle.data.items():
            rows.setdefault(name, []).extend(records)
    problems = []
    for where, i, row in _records(bundles):
        obj = objects[row.pop("__object__")]
        for key, value in row.items():
            fdef = obj.field(key)
            if fdef is None or fdef.type not in ("lookup", "master_detail"):
                continue
            target = objects[fdef.target or ""]
            matches = [r for r in rows.get(target.api_name, []) if value in _name_of(target, r)]
            if len(matches) != 1:
                problems.append(f"{where} #{i}: {key}={value!r} names {len(matches)} "
                                f"{target.api_name} records")
    assert problems == []


def test_demo_users_and_owners(bundles: Mapping[str, MetadataBundle]) -> None:
    roles = {r.api_name for b in bundles.values() for r in b.roles}
    users = {u.name: u for b in bundles.values() for u in b.users}
    for user in users.values():
        assert set(user.roles) <= roles, user.name
        assert user.manager is None or user.manager in users, user.name


# ---- formulas name real picklist values ---------------------------------------------------

ISPICKVAL = re.compile(r'ISPICKVAL\s*\(\s*([a-z][a-z0-9_.]*)\s*,\s*"([^"]*)"\s*\)', re.I)


def _formulas(bundles: Mapping[str, MetadataBundle]) -> Iterator[tuple[str, str, str]]:
    """(where, object the formula runs on, formula) for every formula in the templates."""
    for obj in all_objects(bundles).values():
        for f in obj.fields:
            for key, text, on in (("formula", f.formula, obj.api_name),
                                  ("default", f.default, obj.api_name),
                                  ("filter", f.filter, f.child_object)):
                if text and on:
                    yield f"{obj.api_name}.{f.api_name} {key}", on, text
        for r in obj.validation_rules:
            yield f"{obj.api_name} rule {r.api_name}", obj.api_name, r.error_condition
        for v in obj.list_views:
            if v.filter:
                yield f"{obj.api_name} view {v.api_name}", obj.api_name, v.filter
    for bundle in bundles.values():
        for flow in bundle.flows:
            where = f"flow {flow.api_name}"
            texts: list[str | None] = []
            if isinstance(flow, ApprovalFlowDef):
                texts += [flow.entry_condition] + [s.condition for s in flow.steps]
                actions = flow.on_submit + flow.on_approve + flow.on_reject + flow.on_recall
            elif isinstance(flow, AutomationRuleDef):
                texts.append(flow.condition)
                actions = flow.actions
            else:
                texts += [e.condition for e in flow.entries]
                actions = ()
            for action in actions:
                params = action.params
                if action.kind == "update":
                    texts += list(params.values())
                elif action.kind == "create":
                    texts += list(params["values"].values())
                elif action.kind == "notify":
                    texts += [params.get("subject"), params["message"]]
            for text in texts:
                if text:
                    yield where, flow.object, text


def test_ispickval_names_picklist_values(bundles: Mapping[str, MetadataBundle]) -> None:
    objects = all_objects(bundles)
    problems = []
    checked = 0
    for where, on, text in _formulas(bundles):
        for path, value in ISPICKVAL.findall(text):
            obj: ObjectDef | None = objects[on]
            *hops, last = path.split(".")
            for hop in hops:
                ref = obj.field(hop) if obj else None
                obj = objects.get(ref.target or "") if ref else None
            fdef = obj.field(last) if obj else None
            checked += 1
            if fdef is None or fdef.type != "picklist" or value not in fdef.picklist_values():
                problems.append(f"{where}: ISPICKVAL({path}, {value!r})")
    assert checked > 20 and problems == []


def test_formulas_name_existing_fields(bundles: Mapping[str, MetadataBundle]) -> None:
    objects = all_objects(bundles)
    strings = re.compile(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'')
    names = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(\()?")
    keywords = {"TRUE", "FALSE", "NULL"}
    problems = []
    for where, on, text in _formulas(bundles):
        for match in names.finditer(strings.sub('""', text)):
            path, call = match.group(1), match.group(2)
            if call or path.upper() in keywords:
                continue
            obj: ObjectDef | None = objects[on]
            *hops, last = path.split(".")
            for hop in hops:
                ref = obj.field(hop) if obj else None
                obj = objects.get(ref.target or "") if ref else None
            if obj is None or (last not in SYSTEM_FIELDS and obj.field(last) is None):
                problems.append(f"{where}: {path}")
    assert problems == []
