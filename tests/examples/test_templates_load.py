"""The bundled industry templates (crm, service) load, hang together and check.

What a user of `metabiz template install crm --demo-data` relies on: the objects, flows,
roles and demo users documented in docs/templates.md, demo records that fit them, and
formulas (fields, rules, list views, flows) that type-check on both databases. No database
is needed here; tests/examples/test_templates_install.py installs them for real.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from metabiz.app import build_extensions
from metabiz.errors import FormulaError, MetadataError
from metabiz.flows.compiled import check_flows
from metabiz.flows.definitions import (
    FLOW,
    ApprovalFlowDef,
    AssignmentRuleDef,
    AutomationRuleDef,
)
from metabiz.formulas import FType, check
from metabiz.objects.installer import bundled_templates
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.metadata.loader import load_path
from metabiz.platform.metadata.model import FieldDef, MetadataBundle, ObjectDef
from metabiz.platform.metadata.reserved import SYSTEM_FIELDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
COMPUTED = {"formula", "rollup", "auto_number"}
#: every document kind a real process knows (flows, reports, dashboards)
KINDS = build_extensions().document_kinds


@pytest.fixture(scope="module")
def crm() -> MetadataBundle:
    return load_path(bundled_templates()["crm"], kinds=KINDS)


@pytest.fixture(scope="module")
def service(crm: MetadataBundle) -> MetadataBundle:
    return load_path(bundled_templates()["service"], known_objects=crm.objects,
                     kinds=KINDS)


@pytest.fixture(scope="module")
def bundles(crm: MetadataBundle, service: MetadataBundle) -> dict[str, MetadataBundle]:
    return {"crm": crm, "service": service}


@pytest.fixture(scope="module")
def merged(crm: MetadataBundle, service: MetadataBundle) -> MetadataBundle:
    return MetadataBundle(app=crm.app, objects=crm.objects + service.objects,
                          roles=crm.roles + service.roles,
                          documents={FLOW: crm.definitions(FLOW) + service.definitions(FLOW)},
                          calendars=crm.calendars + service.calendars)


def all_objects(bundles: Mapping[str, MetadataBundle]) -> dict[str, ObjectDef]:
    return {o.api_name: o for b in bundles.values() for o in b.objects}


def field(bundle: MetadataBundle, ref: str) -> FieldDef:
    object_name, _, field_name = ref.partition(".")
    obj = bundle.object(object_name)
    assert obj is not None, f"no object {object_name}"
    fdef = obj.field(field_name)
    assert fdef is not None, f"no field {ref}"
    return fdef


def squash(formula: str | None) -> str:
    """A formula with its layout whitespace removed, for comparing with a literal."""
    return re.sub(r"\s+", " ", formula or "").strip()


# ---- shipping -----------------------------------------------------------------------------


def test_bundled_templates_ship_in_the_package() -> None:
    found = bundled_templates()
    assert set(found) == {"crm", "service"}
    for name, path in found.items():
        # package data beside the code (so the wheel carries it) ...
        assert path.parent == ROOT / "metabiz" / "templates_bundled", name
        # ... and `examples/` in a checkout is the same folder
        assert (EXAMPLES / name).resolve() == path.resolve(), name


def test_apps(crm: MetadataBundle, service: MetadataBundle) -> None:
    assert crm.app is not None and service.app is not None
    assert (crm.app.name, crm.app.label.get("en"), crm.app.label.get("zh")) == \
        ("crm", "CRM", "客户管理")
    assert (service.app.name, service.app.depends) == ("service", ("crm",))
    assert (crm.app.version, service.app.version) == ("2.0.3", "2.1.2")  # crm 2.0.1: days to close blank once closed; service 2.1: SLAs in working hours; 2.0.2 / 2.1.1: notices in Chinese too; 2.0.3 / 2.1.2: pooled demo records say why, created tasks in their owner's language; 2.1.2: first response in working hours


# ---- crm ----------------------------------------------------------------------------------

CRM_OBJECTS = {"account", "contact", "lead", "opportunity", "product", "quote", "quote_line",
               "sales_order", "contract", "payment", "task", "visit", "quota", "commission"}


def test_crm_objects(crm: MetadataBundle) -> None:
    assert {o.api_name for o in crm.objects} == CRM_OBJECTS


@pytest.mark.parametrize(("ref", "type_"), [
    ("lead.source", "picklist"), ("lead.region", "picklist"), ("lead.industry", "picklist"),
    ("lead.score", "formula"), ("lead.status", "picklist"), ("lead.last_follow_up", "date"),
    ("lead.converted_account", "lookup"),
    ("account.industry", "picklist"), ("account.region", "picklist"),
    ("account.grade", "formula"), ("account.open_opportunity_count", "rollup"),
    ("account.open_pipeline", "rollup"), ("account.won_amount", "rollup"),
    ("account.last_won_date", "rollup"), ("account.credit_limit", "currency"),
    ("contact.full_name", "formula"), ("contact.account", "lookup"),
    ("contact.email", "email"),
    ("opportunity.stage", "picklist"), ("opportunity.probability", "formula"),
    ("opportunity.amount", "currency"), ("opportunity.discount", "percent"),
    ("opportunity.net_amount", "formula"), ("opportunity.weighted_amount", "formula"),
    ("opportunity.close_date", "date"), ("opportunity.quota", "lookup"),
    ("product.code", "text"), ("product.unit_price", "currency"),
    ("quote.opportunity", "master_detail"), ("quote.total", "rollup"),
    ("quote_line.quote", "master_detail"), ("quote_line.line_total", "formula"),
    ("contract.account", "lookup"), ("contract.amount", "currency"),
    ("contract.paid_amount", "rollup"), ("contract.outstanding", "formula"),
    ("payment.contract", "master_detail"), ("payment.amount", "currency"),
    ("payment.status", "picklist"),
    ("task.lead", "lookup"), ("task.account", "lookup"), ("task.opportunity", "lookup"),
    ("visit.account", "lookup"), ("visit.check_in_time", "datetime"),
    ("visit.location", "text"), ("visit.latitude", "number"), ("visit.notes", "long_text"),
    ("quota.sales_rep", "user"), ("quota.team", "picklist"),
    ("quota.period_type", "picklist"), ("quota.target_amount", "currency"),
    ("quota.won_amount", "rollup"), ("quota.team_won_amount", "rollup"),
    ("quota.attainment", "formula"),
    ("commission.sales_rep", "user"), ("commission.basis", "picklist"),
    ("commission.base_amount", "formula"), ("commission.amount", "formula"),
    ("sales_order.order_number", "auto_number"),
])
def test_crm_field_types(crm: MetadataBundle, ref: str, type_: str) -> None:
    assert field(crm, ref).type == type_


def test_lead_stages_and_pool(crm: MetadataBundle) -> None:
    status = field(crm, "lead.status")
    assert status.picklist_values() == (
        "new", "working", "mql", "qualified", "converted", "unqualified")
    labels = {v.value: v.label.get("en") for v in status.values}
    assert "MQL" in labels["mql"] and "SQL" in labels["qualified"]
    score = squash(field(crm, "lead.score").formula)
    assert score.startswith("CASE(source,") and "CASE(industry," in score
    assert field(crm, "lead.last_follow_up").default == "TODAY()"
    # the pool is the platform's: members, admins, a claim limit and return reasons
    (lead,) = [o for o in crm.objects if o.api_name == "lead"]
    (pool,) = lead.pools
    assert (pool.api_name, pool.members, pool.admins, pool.claim_limit) == \
        ("lead_pool", ("sales_rep", "sales_manager"), ("sales_manager",), 20)
    assert pool.adopt_field == "in_public_pool"  # what release 0.1's template kept it in
    assert lead.field("in_public_pool") is None and lead.field("previous_owner") is None
    assert {r.value for r in pool.return_reasons} >= {"no_answer", "no_follow_up"}
    (account,) = [o for o in crm.objects if o.api_name == "account"]
    assert [p.api_name for p in account.pools] == ["customer_pool"]
    # "log a follow-up" on a lead logs a completed call and restarts its recycling clock
    assert lead.follow_up is not None
    assert (lead.follow_up.object, lead.follow_up.link, lead.follow_up.stamp) == \
        ("task", "lead", "last_follow_up")
    assert dict(lead.follow_up.values) == {"task_type": "call", "status": "completed"}


def test_opportunity_formulas_and_rules(crm: MetadataBundle) -> None:
    stage = field(crm, "opportunity.stage")
    assert stage.picklist_values() == (
        "prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")
    probability = field(crm, "opportunity.probability")
    assert probability.return_type == "percent"
    assert squash(probability.formula) == (
        'CASE(stage, "prospecting", 10, "qualification", 20, "proposal", 50, '
        '"negotiation", 75, "closed_won", 100, 0)')
    assert field(crm, "opportunity.weighted_amount").formula == \
        "ROUND(net_amount * probability / 100, 2)"
    opportunity = crm.object("opportunity")
    assert opportunity is not None
    rules = {r.api_name: r.error_condition for r in opportunity.validation_rules}
    assert 'ISPICKVAL(stage, "closed_won")' in rules["won_needs_amount"]
    assert "ISBLANK(amount)" in rules["won_needs_amount"]
    assert "ISBLANK(close_date)" in rules["closed_needs_close_date"]
    assert "discount > 50" in rules["discount_limit"]


def test_account_grade_and_rollups(crm: MetadataBundle) -> None:
    grade = squash(field(crm, "account.grade").formula)
    assert "won_amount" in grade and "TODAY() - last_won_date" in grade
    won = field(crm, "account.won_amount")
    assert (won.child_object, won.relationship_field, won.function, won.rollup_field) == \
        ("opportunity", "account", "sum", "net_amount")
    open_count = field(crm, "account.open_opportunity_count")
    assert open_count.function == "count" and "closed_won" in (open_count.filter or "")
    total = field(crm, "quote.total")
    assert (total.child_object, total.relationship_field, total.function,
            total.rollup_field) == ("quote_line", "quote", "sum", "line_total")
    paid = field(crm, "contract.paid_amount")
    assert (paid.child_object, paid.relationship_field, paid.function, paid.rollup_field,
            paid.filter) == ("payment", "contract", "sum", "amount",
                             'ISPICKVAL(status, "received")')
    assert field(crm, "contract.outstanding").formula == "amount - paid_amount"
    team = field(crm, "quota.team_won_amount")
    assert (team.child_object, team.relationship_field, team.rollup_field) == \
        ("quota", "parent_quota", "won_amount")


def test_commission_tiers(crm: MetadataBundle) -> None:
    amount = squash(field(crm, "commission.amount").formula)
    for part in ("MIN(base_amount, 100000) * 0.03", "* 0.05", "MAX(base_amount - 500000, 0) * 0.08"):
        assert part in amount
    base = field(crm, "commission.base_amount").formula or ""
    assert "payment.amount" in base and "opportunity.net_amount" in base


def test_crm_flows(crm: MetadataBundle) -> None:
    assert {f.api_name for f in crm.definitions(FLOW)} >= {
        "discount_approval", "contract_approval", "lead_assignment", "lead_auto_assign",
        "lead_recycle", "lead_claimed", "opportunity_stage_tasks", "won_followup",
        "won_create_order", "won_commission"}

    discount = crm.definition(FLOW, "discount_approval")
    assert isinstance(discount, ApprovalFlowDef)
    assert discount.object == "opportunity" and discount.lock_record
    assert "discount > 10" in (discount.entry_condition or "")
    manager, finance = discount.steps
    assert (manager.mode, [(a.kind, a.value) for a in manager.approvers]) == \
        ("any", [("manager_of", "owner")])
    assert (finance.mode, finance.condition, [(a.kind, a.value) for a in finance.approvers]) \
        == ("all", "discount > 20", [("role", "finance")])
    assert any(a.kind == "update" and a.params == {"discount": "0"} for a in discount.on_reject)

    contract = crm.definition(FLOW, "contract_approval")
    assert isinstance(contract, ApprovalFlowDef) and contract.object == "contract"
    assert [s.api_name for s in contract.steps] == ["manager", "finance"]
    assert any(a.kind == "update" and a.params == {"status": '"approved"'}
               for a in contract.on_approve)

    rule = crm.definition(FLOW, "lead_assignment")
    assert isinstance(rule, AssignmentRuleDef) and rule.object == "lead"
    regions = {e.condition: e.assignee for e in rule.entries}
    for region in ("east", "north", "south", "west", "overseas"):
        assert regions[f'ISPICKVAL(region, "{region}")'] == \
            {"role": f"sales_{region}", "strategy": "round_robin"}
    assert rule.entries[-1].condition is None  # a catch-all: every lead gets an owner
    assign = crm.definition(FLOW, "lead_auto_assign")
    assert isinstance(assign, AutomationRuleDef) and assign.trigger.kind == "created"
    assert [a.params for a in assign.actions if a.kind == "assign"] == \
        [{"rules": "lead_assignment"}]

    recycle = crm.definition(FLOW, "lead_recycle")
    assert isinstance(recycle, AutomationRuleDef)
    assert (recycle.trigger.kind, recycle.trigger.date_field, recycle.trigger.days) == \
        ("after_date", "last_follow_up", 3)
    notify, back = recycle.actions
    assert notify.kind == "notify" and {"field": "owner"} in notify.params["to"]
    assert (back.kind, dict(back.params)) == \
        ("return_to_pool", {"pool": "lead_pool", "reason": "no_follow_up"})

    stage_tasks = crm.definition(FLOW, "opportunity_stage_tasks")
    assert isinstance(stage_tasks, AutomationRuleDef)
    assert (stage_tasks.trigger.kind, stage_tasks.trigger.fields) == ("field_changed", ("stage",))
    assert [a.params["object"] for a in stage_tasks.actions if a.kind == "create"] == ["task"]


def test_crm_roles(crm: MetadataBundle) -> None:
    roles = {r.api_name: r for r in crm.roles}
    assert set(roles) == {"sales_rep", "sales_manager", "finance", "product_catalog",
                          "sales_east", "sales_north", "sales_south", "sales_west",
                          "sales_overseas"}
    rep, manager, finance = roles["sales_rep"], roles["sales_manager"], roles["finance"]
    assert rep.record_access == manager.record_access == "own"
    for name in ("account", "contact", "lead", "opportunity", "task", "visit", "quote",
                 "contract"):
        assert {"read", "create", "edit"} <= rep.objects[name], name
        assert "delete" not in rep.objects[name] and "delete" in manager.objects[name], name
    assert rep.objects["commission"] == rep.objects["quota"] == frozenset({"read"})
    assert rep.fields["payment.status"] == "read_only"  # finance confirms receipts
    assert finance.record_access == "all"
    assert set(finance.objects) >= CRM_OBJECTS
    assert {"edit"} <= finance.objects["payment"] and {"edit"} <= finance.objects["commission"]
    assert "edit" in manager.objects["quota"]
    for team in ("sales_east", "sales_north", "sales_south", "sales_west", "sales_overseas"):
        assert roles[team].objects == {}, team  # a team to assign to, no rights of its own


def test_crm_demo_users(crm: MetadataBundle) -> None:
    users = {u.name: u for u in crm.users}
    assert {"alice", "bob", "carol", "dave"} <= set(users)
    assert all(u.password == "demo" for u in users.values())
    holders = Counter(role for u in users.values() for role in u.roles)
    assert holders["sales_rep"] >= 2 and holders["sales_manager"] >= 1
    assert holders["finance"] >= 2  # the finance step is 会签: more than one must approve
    for rep in ("alice", "dave"):
        assert users[rep].manager == "bob" and "sales_rep" in users[rep].roles
    assert users["carol"].roles == ("finance",)


def test_crm_demo_data_size_and_spread(crm: MetadataBundle) -> None:
    sizes = {name: len(rows) for name, rows in crm.data.items()}
    assert set(sizes) == CRM_OBJECTS
    for name in CRM_OBJECTS:
        assert sizes[name] >= 20, name
    assert sizes["lead"] >= 40 and sizes["opportunity"] >= 40
    leads, opportunities = crm.data["lead"], crm.data["opportunity"]
    assert {r["status"] for r in leads} == set(field(crm, "lead.status").picklist_values())
    assert {r["region"] for r in leads} == set(field(crm, "lead.region").picklist_values())
    assert len({r.get("owner") for r in leads}) >= 4
    assert sum(r.get("pool") == "lead_pool" and "owner" not in r for r in leads) >= 4
    assert sum(r.get("pool") == "customer_pool" for r in crm.data["account"]) >= 2
    assert {r["stage"] for r in opportunities} == \
        set(field(crm, "opportunity.stage").picklist_values())
    assert len({r["owner"] for r in opportunities}) >= 4
    # ready to submit for approval: an open deal over 20 % and one between 10 and 20 %
    open_deals = [r for r in opportunities if not r["stage"].startswith("closed")]
    assert any(r.get("discount", 0) > 20 for r in open_deals)
    assert any(10 < r.get("discount", 0) <= 20 for r in open_deals)


# ---- service ------------------------------------------------------------------------------

SERVICE_OBJECTS = {"ticket", "ticket_comment", "work_order", "service_contract", "feedback",
                   "knowledge_article"}


def test_service_objects(service: MetadataBundle) -> None:
    assert {o.api_name for o in service.objects} == SERVICE_OBJECTS
    ticket = service.object("ticket")
    assert ticket is not None and ticket.renamed_from == "support_case"  # v1 data is kept
    assert field(service, "ticket.status").picklist_values() == (
        "new", "in_progress", "waiting", "resolved", "closed")
    assert field(service, "ticket.priority").picklist_values() == (
        "urgent", "high", "medium", "low")
    sla = field(service, "ticket.sla_hours")
    assert squash(sla.formula).startswith('CASE(priority, "urgent", 4, "high", 8, "medium", 24')
    due = field(service, "ticket.sla_due")
    assert due.return_type == "datetime"
    assert 'ADDWORKHOURS(created_at, sla_hours, "cn")' in squash(due.formula)
    assert service.app is not None and [c.name for c in service.app.calendars] == ["cn"]
    cn = service.app.calendars[0]  # open 09:00-18:00 China time
    assert (cn.hours, cn.offset) == ((9 * 3_600_000, 18 * 3_600_000), 8 * 3_600_000)
    assert field(service, "ticket.account").target == "account"
    assert field(service, "ticket_comment.ticket").type == "master_detail"
    assert field(service, "feedback.ticket").type == "master_detail"
    score = field(service, "feedback.satisfaction")
    assert (score.type, score.min, score.max) == ("number", 1, 5)
    assert field(service, "work_order.technician").type == "user"


def test_service_needs_crm_objects() -> None:
    with pytest.raises(MetadataError, match="unknown object 'account'"):
        load_path(bundled_templates()["service"], kinds=KINDS)


def test_service_flows_and_roles(service: MetadataBundle) -> None:
    rule = service.definition(FLOW, "ticket_assignment")
    assert isinstance(rule, AssignmentRuleDef) and rule.object == "ticket"
    auto = service.definition(FLOW, "ticket_auto_assign")
    assert isinstance(auto, AutomationRuleDef) and auto.trigger.kind == "created"
    escalation = service.definition(FLOW, "ticket_sla_escalation")
    assert isinstance(escalation, AutomationRuleDef)
    assert (escalation.trigger.kind, escalation.trigger.date_field) == ("after_date", "sla_due")
    assert any(a.kind == "update" and a.params.get("escalated") == "TRUE"
               for a in escalation.actions)
    feedback = service.definition(FLOW, "ticket_closed_feedback")
    assert isinstance(feedback, AutomationRuleDef)
    assert feedback.trigger.fields == ("status",)
    assert 'ISPICKVAL(status, "closed")' in (feedback.condition or "")
    assert [a.params["object"] for a in feedback.actions if a.kind == "create"] == ["feedback"]
    refund = service.definition(FLOW, "refund_approval")
    assert isinstance(refund, ApprovalFlowDef) and refund.object == "ticket"
    roles = {r.api_name: r for r in service.roles}
    assert set(roles) == {"support_agent", "support_manager", "field_technician"}
    assert {"read", "create", "edit"} <= roles["support_agent"].objects["ticket"]
    users = {u.name: u for u in service.users}
    assert users["erin"].roles == ("support_agent",) and users["erin"].password == "demo"
    assert {role for u in users.values() for role in u.roles} == set(roles)


def test_service_demo_data(service: MetadataBundle) -> None:
    sizes = {name: len(rows) for name, rows in service.data.items()}
    for name in ("ticket", "work_order", "service_contract", "feedback"):
        assert sizes[name] >= 20, name
    tickets = service.data["ticket"]
    assert {r["status"] for r in tickets} == set(field(service, "ticket.status")
                                                  .picklist_values())
    assert {r["priority"] for r in tickets} == set(field(service, "ticket.priority")
                                                    .picklist_values())
    scores = {r.get("satisfaction") for r in service.data["feedback"]} - {None}
    assert min(scores) <= 2 and max(scores) == 5


# ---- every template -----------------------------------------------------------------------


def _labels(bundles: Mapping[str, MetadataBundle]) -> Iterator[tuple[str, Any]]:
    for obj in all_objects(bundles).values():
        yield obj.api_name, obj.label
        for f in obj.fields:
            yield f"{obj.api_name}.{f.api_name}", f.label
            yield from ((f"{obj.api_name}.{f.api_name}={v.value}", v.label) for v in f.values)
            if f.help is not None:
                yield f"{obj.api_name}.{f.api_name} help", f.help
        for r in obj.validation_rules:
            yield f"{obj.api_name} rule {r.api_name}", r.message
        for v in obj.list_views:
            yield f"{obj.api_name} view {v.api_name}", v.label
        for layout in obj.layouts:
            for i, s in enumerate(layout.sections):
                yield f"{obj.api_name} section {i}", s.label
    for bundle in bundles.values():
        for flow in bundle.definitions(FLOW):
            yield f"flow {flow.api_name}", flow.label
        for role in bundle.roles:
            yield f"role {role.api_name}", role.label


def test_labels_are_bilingual(bundles: Mapping[str, MetadataBundle]) -> None:
    missing = [where for where, label in _labels(bundles)
               if label is None or dict(label.texts).keys() != {"en", "zh"}]
    assert missing == []


def test_every_object_is_usable(bundles: Mapping[str, MetadataBundle]) -> None:
    for obj in all_objects(bundles).values():
        assert obj.name_field and obj.field(obj.name_field), obj.api_name
        layout = obj.layout("default")
        assert layout is not None, obj.api_name
        on_layout = [name for s in layout.sections for name in s.fields]
        assert sorted(on_layout) == sorted(f.api_name for f in obj.fields), obj.api_name
        assert obj.list_view("all") is not None, obj.api_name
        assert len(obj.list_views) >= 2, obj.api_name


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
            if f.required and f.default is None and f.type not in COMPUTED \
                    and f.api_name not in row:
                problems.append(f"{where} #{i}: required {f.api_name} missing")
        for key, value in row.items():
            fdef = obj.field(key)
            if key == "owner":
                ok = value in users
            elif key == "pool":  # loaded straight into one of the object's pools
                ok = obj.pool(value) is not None and "owner" not in row
            elif key == "pool_reason":  # why: one of that pool's return reasons
                pool = obj.pool(row.get("pool", ""))
                ok = pool is not None and pool.reason(value) is not None
            elif fdef is None or fdef.type in COMPUTED:
                ok = False
            elif fdef.type == "picklist":
                ok = value in fdef.picklist_values()
            elif fdef.type == "user":
                ok = value in users
            elif fdef.type in ("number", "currency", "percent"):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                ok = ok and (fdef.min is None or value >= fdef.min) \
                    and (fdef.max is None or value <= fdef.max)
            elif fdef.type == "boolean":
                ok = isinstance(value, bool)
            elif fdef.type == "datetime":
                ok = isinstance(value, str) and value.endswith("Z")
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
    # every role of a template has a demo user to try it with
    assert roles <= {role for u in users.values() for role in u.roles} | {"product_catalog"}


# ---- formulas -----------------------------------------------------------------------------

ISPICKVAL = re.compile(r'ISPICKVAL\s*\(\s*([a-z][a-z0-9_.]*)\s*,\s*"([^"]*)"\s*\)', re.I)


def _flow_formulas(bundles: Mapping[str, MetadataBundle]) -> Iterator[
        tuple[str, str, str, str | None]]:
    """(where, object, formula, field it sets or None) for every formula of every flow."""
    for bundle in bundles.values():
        for flow in bundle.definitions(FLOW):
            where = f"flow {flow.api_name}"
            if isinstance(flow, ApprovalFlowDef):
                texts = [flow.entry_condition] + [s.condition for s in flow.steps]
                actions = flow.on_submit + flow.on_approve + flow.on_reject + flow.on_recall
            elif isinstance(flow, AutomationRuleDef):
                texts, actions = [flow.condition], flow.actions
            else:
                texts, actions = [e.condition for e in flow.entries], ()
            for text in texts:
                if text:
                    yield where, flow.object, text, None
            for action in actions:
                params = action.params
                if action.kind == "update":
                    for name, text in params.items():
                        yield f"{where} update {name}", flow.object, text, name
                elif action.kind == "create":
                    for name, given in params["values"].items():
                        # a value may be given per language: {"en": …, "zh": …}
                        for text in given.values() if isinstance(given, dict) else [given]:
                            yield f"{where} create {params['object']}.{name}", flow.object, \
                                text, f"{params['object']}.{name}"
                elif action.kind == "notify":
                    for text in (params.get("subject"), params["message"],
                                 params.get("email_to")):
                        # a text may be given per language: {"en": …, "zh": …}
                        for one in text.values() if isinstance(text, dict) else [text]:
                            if one:
                                yield f"{where} notify", flow.object, one, None


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
    for where, on, text, _ in _flow_formulas(bundles):
        yield where, on, text


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_formula_checks(merged: MetadataBundle, bundles: Mapping[str, MetadataBundle],
                              dialect: str) -> None:
    # fields, defaults, validation rules and roll-up filters compile (or this raises)
    schema = RuntimeSchema(1, merged, dialect=dialect)
    problems = []
    for obj in merged.objects:
        for v in obj.list_views:
            if v.filter:  # list views filter in SQL
                try:
                    schema.compile_filter(obj.api_name, v.filter)
                except FormulaError as err:
                    problems.append(f"{obj.api_name} view {v.api_name}: {err}")
    for where, on, text, sets in _flow_formulas(bundles):
        expected = FType.BOOLEAN if sets is None and "notify" not in where else None
        if sets is not None and sets != "owner":
            target, _, name = sets.rpartition(".")
            spec = schema.catalog.field(target or on, name)
            expected = spec.type if spec is not None else None
            if expected is FType.PICKLIST:
                expected = FType.TEXT
        try:
            check(text, schema.catalog, on, context="condition", expected=expected)
        except FormulaError as err:
            problems.append(f"{where}: {err}")
    assert problems == []


def test_flows_compile(merged: MetadataBundle) -> None:
    assert check_flows(RuntimeSchema(1, merged, dialect="sqlite")) == []


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
    assert checked > 50 and problems == []


def _arguments(text: str, start: int) -> list[str]:
    """The top-level arguments of the call whose "(" is at `start`."""
    args, depth, quote, current = [], 0, "", ""
    for ch in text[start + 1:]:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    return [*args, current.strip()]


def test_case_names_picklist_values(bundles: Mapping[str, MetadataBundle]) -> None:
    """`CASE(picklist, "value", result, …, else)` matches values: a label or a typo never
    would."""
    objects = all_objects(bundles)
    problems = []
    checked = 0
    for where, on, text in _formulas(bundles):
        for match in re.finditer(r"CASE\s*\(", text, re.I):
            args = _arguments(text, match.end() - 1)
            obj: ObjectDef | None = objects[on]
            *hops, last = args[0].split(".")
            for hop in hops:
                ref = obj.field(hop) if obj else None
                obj = objects.get(ref.target or "") if ref else None
            fdef = obj.field(last) if obj else None
            if fdef is None or fdef.type != "picklist":
                continue
            for value in args[1:-1:2]:
                checked += 1
                if value.strip('"') not in fdef.picklist_values():
                    problems.append(f"{where}: CASE({args[0]}, {value})")
    assert checked > 20 and problems == []


def test_formulas_name_existing_fields(bundles: Mapping[str, MetadataBundle]) -> None:
    objects = all_objects(bundles)
    strings = re.compile(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|/\*.*?\*/', re.DOTALL)
    names = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(\()?")
    keywords = {"TRUE", "FALSE", "NULL"}
    problems = []
    for where, on, text in _formulas(bundles):
        for match in names.finditer(strings.sub('""', text)):  # strings and comments out
            path, call = match.group(1), match.group(2)
            if call or path.upper() in keywords or re.fullmatch(r"\d+(\.\d+)?", path):
                continue
            obj: ObjectDef | None = objects[on]
            *hops, last = path.split(".")
            for hop in hops:
                ref = obj.field(hop) if obj else None
                obj = objects.get(ref.target or "") if ref else None
            system = SYSTEM_FIELDS | ({"pool"} if obj is not None and obj.pools else set())
            if obj is None or (last not in system and obj.field(last) is None):
                problems.append(f"{where}: {path}")
    assert problems == []
