"""The metadata loader on good input: folders, lone files, stored documents, round trips.

Bad input and its messages are covered by test_metadata_problems.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from metabiz.errors import MetadataError
from metabiz.flows.definitions import (
    FLOW_KIND,
    ActionDef,
    ApprovalFlowDef,
    ApproverDef,
    AssignmentRuleDef,
    AutomationRuleDef,
    TriggerDef,
)
from metabiz.platform.metadata.loader import bundle_documents, load_documents, load_path
from metabiz.platform.metadata.model import (
    AppDef,
    FieldDef,
    Label,
    MetadataBundle,
    ObjectDef,
    RoleDef,
    UserDef,
)

#: the document kinds these folders hold beside the kernel's
KINDS = [FLOW_KIND]

CRM: dict[str, Any] = {
    "app.json": {"name": "crm", "version": "1.2.0", "label": {"en": "CRM", "zh": "客户管理"},
                 "description": "Accounts and opportunities"},
    "objects/account.json": {
        "api_name": "account", "label": {"en": "Account", "zh": "客户"},
        "name_field": "name",
        "fields": [
            {"api_name": "name", "type": "text", "required": True, "unique": True},
            {"api_name": "number", "type": "auto_number", "format": "ACC-{0000}"},
            {"api_name": "industry", "type": "picklist",
             "values": [{"value": "retail"}, {"value": "banking", "label": "Banking"}]},
            {"api_name": "pipeline", "type": "rollup", "child_object": "opportunity",
             "relationship_field": "account", "function": "sum", "field": "amount",
             "filter": "NOT(ISPICKVAL(stage, \"closed_lost\"))"},
            {"api_name": "deals", "type": "rollup", "child_object": "opportunity",
             "relationship_field": "account", "function": "count"},
        ],
    },
    "objects/opportunity.json": {
        "api_name": "opportunity",
        "label": {"zh": "商机", "en": "Opportunity"},
        "name_field": "name",
        "fields": [
            {"api_name": "name", "type": "text", "label": "Name", "required": True,
             "max_length": 120},
            {"api_name": "account", "type": "lookup", "target": "account"},
            {"api_name": "stage", "type": "picklist", "label": "Stage",
             "values": [{"value": "prospecting",
                         "label": {"en": "Prospecting", "zh": "初步接洽"}},
                        {"value": "closed_won", "label": "Closed Won"},
                        {"value": "closed_lost"}],
             "default": "\"prospecting\""},
            {"api_name": "amount", "type": "currency"},
            {"api_name": "probability", "type": "percent", "help": "Chance to win"},
            {"api_name": "discount", "type": "number", "scale": 1, "min": 0, "max": 100},
            {"api_name": "close_date", "type": "date"},
            {"api_name": "sales_rep", "type": "user"},
            {"api_name": "notes", "type": "long_text"},
            {"api_name": "weighted_amount", "type": "formula", "return_type": "currency",
             "formula": "amount * probability / 100", "treat_blanks_as": "zero"},
        ],
        "validation_rules": [
            {"api_name": "amount_positive", "error_condition": "amount < 0",
             "message": "Amount cannot be negative", "field": "amount"},
            {"api_name": "close_date_set", "error_condition": "ISBLANK(close_date)",
             "message": {"en": "Set a close date", "zh": "请填写结束日期"}, "active": False},
        ],
        "layouts": {"default": {"sections": [
            {"label": "Deal", "columns": 2, "fields": ["name", "account", "stage", "amount"]},
            {"fields": ["notes", "owner"], "columns": 1},
        ]}},
        "list_views": [
            {"api_name": "big_deals", "label": "Big deals", "columns": ["name", "amount"],
             "filter": "amount > 10000", "sort": "-amount,name"},
            {"api_name": "all"},
        ],
    },
    "flows/discount_approval.json": {
        "api_name": "discount_approval", "kind": "approval", "object": "opportunity",
        "entry_condition": "discount > 10",
        "steps": [
            {"api_name": "manager", "approvers": [{"manager_of": "owner"}], "mode": "any"},
            {"api_name": "finance", "condition": "discount > 20",
             "approvers": [{"role": "finance"}, {"user": "carol"}, {"field": "sales_rep"}],
             "mode": "all"},
        ],
        "on_submit": [{"notify": {"to": [{"manager_of": "owner"}],
                                  "message": "\"Please approve \" & name"}}],
        "on_approve": [{"update": {"stage": "\"closed_won\""}}],
        "on_reject": [{"update": {"discount": "0"}}],
        "on_recall": [{"webhook": {"url": "https://hooks.example.com/recall",
                                   "payload": {"deal": "name", "by": "owner"}}}],
    },
    "flows/won_followup.json": {
        "api_name": "won_followup", "kind": "automation", "object": "opportunity",
        "trigger": {"field_changed": ["stage"]},
        "condition": "ISPICKVAL(stage, \"closed_won\")",
        "actions": [
            {"create": {"object": "account", "values": {"name": "\"Follow-up \" & name"}}},
            {"assign": {"role": "sales_rep"}},
        ],
    },
    "flows/closing_soon.json": {
        "api_name": "closing_soon", "kind": "automation", "object": "opportunity",
        "trigger": {"before_date": {"field": "close_date", "days": 3}},
        "actions": [{"assign": {"rules": "route_deals"}}],
    },
    "flows/route_deals.json": {
        "api_name": "route_deals", "kind": "assignment", "object": "opportunity",
        "entries": [{"condition": "amount > 100000", "assignee": {"user": "carol"}},
                    {"assignee": {"role": "sales_rep", "strategy": "least_loaded"}}],
    },
    "roles/sales_rep.json": {
        "api_name": "sales_rep", "label": "Sales rep",
        "objects": {"opportunity": ["read", "create", "edit"], "account": ["read"]},
        "record_access": "own",
        "fields": {"opportunity.discount": "read_only", "account.pipeline": "hidden"},
    },
    "roles/finance.json": {"api_name": "finance",
                           "objects": {"opportunity": ["edit", "read"]},
                           "record_access": "all"},
    "data/account.json": [{"name": "Acme", "industry": "retail"}],
    "data/_users.json": [
        {"name": "alice", "password": "secret", "display_name": "Alice", "roles": ["sales_rep"],
         "manager": "carol", "email": "alice@example.com"},
        {"name": "carol", "password": "secret", "roles": ["finance", "admin"]},
    ],
}


def write_folder(root: Path, docs: dict[str, Any]) -> Path:
    for relpath, content in docs.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    return root


def problems_of(exc: pytest.ExceptionInfo[MetadataError]) -> list[str]:
    return exc.value.problems


@pytest.fixture
def crm(tmp_path: Path) -> MetadataBundle:
    return load_path(write_folder(tmp_path / "crm", CRM), kinds=KINDS)


# ---- a good folder -----------------------------------------------------------------------


def test_app_manifest(crm: MetadataBundle) -> None:
    assert crm.app == AppDef("crm", "1.2.0", Label.of({"en": "CRM", "zh": "客户管理"}),
                             "Accounts and opportunities")
    assert crm.app.label.get("zh") == "客户管理"


def test_objects_are_ordered_by_name(crm: MetadataBundle) -> None:
    assert [o.api_name for o in crm.objects] == ["account", "opportunity"]
    assert crm.object("opportunity").table_name == "obj_opportunity"
    assert crm.object("lead") is None


def test_object_labels_and_fields(crm: MetadataBundle) -> None:
    opp = crm.object("opportunity")
    assert opp.label.get("zh") == "商机" and opp.label.get("en") == "Opportunity"
    assert opp.name_field == "name"
    assert [f.api_name for f in opp.fields][:4] == ["name", "account", "stage", "amount"]
    assert opp.field("name") == FieldDef("name", "text", Label.of("Name"), required=True,
                                         max_length=120)
    # a missing label is made from the api_name
    assert str(opp.field("close_date").label) == "Close date"
    assert str(opp.field("probability").help) == "Chance to win"


def test_type_defaults_are_filled_in(crm: MetadataBundle) -> None:
    opp, acc = crm.object("opportunity"), crm.object("account")
    assert acc.field("name").max_length == 255
    assert opp.field("amount").scale == 2
    assert opp.field("probability").scale == 2
    assert opp.field("discount").scale == 1
    assert (opp.field("discount").min, opp.field("discount").max) == (0, 100)
    assert opp.field("account").on_delete == "restrict"
    assert opp.field("weighted_amount").treat_blanks_as == "zero"
    assert opp.field("stage").default == "\"prospecting\""  # a formula, kept as text


def test_picklists(crm: MetadataBundle) -> None:
    stage = crm.object("opportunity").field("stage")
    assert stage.picklist_values() == ("prospecting", "closed_won", "closed_lost")
    assert stage.values[0].label.get("zh") == "初步接洽"
    assert str(stage.values[2].label) == "Closed lost"  # made from the value


def test_computed_fields(crm: MetadataBundle) -> None:
    acc, opp = crm.object("account"), crm.object("opportunity")
    pipeline = acc.field("pipeline")
    assert (pipeline.child_object, pipeline.relationship_field, pipeline.function,
            pipeline.rollup_field) == ("opportunity", "account", "sum", "amount")
    assert pipeline.filter == "NOT(ISPICKVAL(stage, \"closed_lost\"))"
    assert acc.field("deals").rollup_field is None
    assert acc.field("number").format == "ACC-{0000}"
    weighted = opp.field("weighted_amount")
    assert (weighted.return_type, weighted.formula) == ("currency", "amount * probability / 100")
    assert all(f.is_computed for f in (pipeline, weighted, acc.field("number")))


def test_validation_rules_layouts_and_list_views(crm: MetadataBundle) -> None:
    opp = crm.object("opportunity")
    first, second = opp.validation_rules
    assert (first.api_name, first.field, first.active) == ("amount_positive", "amount", True)
    assert str(first.message) == "Amount cannot be negative"
    assert second.active is False and second.message.get("zh") == "请填写结束日期"
    layout = opp.layout()
    assert [(str(s.label), s.columns, s.fields) for s in layout.sections] == [
        ("Deal", 2, ("name", "account", "stage", "amount")), ("", 1, ("notes", "owner"))]
    big = opp.list_view("big_deals")
    assert (big.columns, big.filter, big.sort) == (("name", "amount"), "amount > 10000",
                                                   "-amount,name")
    assert opp.list_view("all").columns == () and str(opp.list_view("all").label) == "All"


def test_approval_flow(crm: MetadataBundle) -> None:
    flow = crm.definition("flow", "discount_approval")
    assert isinstance(flow, ApprovalFlowDef)
    assert (flow.object, flow.entry_condition, flow.lock_record) == (
        "opportunity", "discount > 10", True)
    manager, finance = flow.steps
    assert manager.approvers == (ApproverDef("manager_of", "owner"),)
    assert finance.mode == "all" and finance.condition == "discount > 20"
    assert [a.kind for a in finance.approvers] == ["role", "user", "field"]
    assert flow.on_approve == (ActionDef("update", {"stage": "\"closed_won\""}),)
    assert flow.on_recall[0].params["payload"] == {"deal": "name", "by": "owner"}
    assert flow.on_submit[0].kind == "notify"


def test_automation_and_assignment_rules(crm: MetadataBundle) -> None:
    won = crm.definition("flow", "won_followup")
    assert isinstance(won, AutomationRuleDef)
    assert won.trigger == TriggerDef("field_changed", fields=("stage",))
    # a role without a strategy means round robin, and the canonical form says so
    assert won.actions[1] == ActionDef("assign", {"role": "sales_rep",
                                                  "strategy": "round_robin"})
    soon = crm.definition("flow", "closing_soon")
    assert soon.trigger == TriggerDef("before_date", date_field="close_date", days=3)
    assert soon.trigger.is_scheduled
    rule = crm.definition("flow", "route_deals")
    assert isinstance(rule, AssignmentRuleDef)
    assert [e.assignee for e in rule.entries] == [
        {"user": "carol"}, {"role": "sales_rep", "strategy": "least_loaded"}]
    assert rule.entries[1].condition is None


def test_roles_users_and_data(crm: MetadataBundle) -> None:
    rep = crm.role("sales_rep")
    assert rep == RoleDef("sales_rep", Label.of("Sales rep"),
                          {"opportunity": frozenset({"read", "create", "edit"}),
                           "account": frozenset({"read"})},
                          "own", {"opportunity.discount": "read_only",
                                  "account.pipeline": "hidden"})
    assert crm.role("finance").record_access == "all"
    assert crm.users[0] == UserDef("alice", "secret", "Alice", "alice@example.com",
                                   ("sales_rep",), "carol")
    assert crm.data == {"account": ({"name": "Acme", "industry": "retail"},)}


def test_a_folder_without_app_json_loads(tmp_path: Path) -> None:
    docs = {k: v for k, v in CRM.items() if k != "app.json"}
    assert load_path(write_folder(tmp_path, docs), kinds=KINDS).app is None


def test_other_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    root = write_folder(tmp_path, CRM)
    (root / "README.md").write_text("# CRM\n")
    (root / "objects" / "notes.txt").write_text("not metadata")
    (root / "assets").mkdir()
    (root / "assets" / "logo.png").write_bytes(b"\x89PNG")
    (root / ".git").mkdir()
    (root / ".git" / "state.json").write_text("{}")
    assert len(load_path(root, kinds=KINDS).objects) == 2


def test_json_in_an_unknown_folder_is_an_error_naming_the_folder(tmp_path: Path) -> None:
    root = write_folder(tmp_path, CRM)
    (root / "reports").mkdir()
    (root / "reports" / "pipeline.json").write_text("{}")
    expected = ["reports/pipeline.json: /: unknown folder 'reports': expected app.json, "
                "objects/*.json, flows/*.json, roles/*.json or data/*.json"]
    with pytest.raises(MetadataError) as exc:
        load_path(root, kinds=KINDS)
    assert problems_of(exc) == expected
    with pytest.raises(MetadataError) as exc:
        load_documents({**CRM, "reports/pipeline.json": {}}, kinds=KINDS)
    assert problems_of(exc) == expected


def test_flows_are_unknown_unless_their_kind_is_given(tmp_path: Path) -> None:
    root = write_folder(tmp_path, CRM)
    with pytest.raises(MetadataError) as exc:
        load_path(root)
    assert problems_of(exc) == [
        f"flows/{name}.json: /: unknown folder 'flows': expected app.json, objects/*.json, "
        "roles/*.json or data/*.json"
        for name in ("closing_soon", "discount_approval", "route_deals", "won_followup")]


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    root = write_folder(tmp_path, CRM)
    path = root / "roles" / "finance.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_path(root, kinds=KINDS).role("finance") is not None


# ---- canonical documents and round trips --------------------------------------------------


def test_round_trip_through_documents(crm: MetadataBundle) -> None:
    docs = bundle_documents(crm, kinds=KINDS)
    assert load_documents(docs, kinds=KINDS) == crm
    # canonical documents are plain JSON and stable
    assert json.loads(json.dumps(docs)) == docs
    assert bundle_documents(load_documents(docs, kinds=KINDS), kinds=KINDS) == docs


def test_documents_are_the_folder_layout(crm: MetadataBundle) -> None:
    docs = bundle_documents(crm, kinds=KINDS)
    assert sorted(docs) == sorted(CRM)
    assert docs["data/_users.json"][1] == {"name": "carol", "password": "secret",
                                           "roles": ["finance", "admin"]}


def test_canonical_documents_spell_out_defaults(crm: MetadataBundle) -> None:
    docs = bundle_documents(crm, kinds=KINDS)
    fields = {f["api_name"]: f for f in docs["objects/opportunity.json"]["fields"]}
    assert fields["amount"] == {"api_name": "amount", "type": "currency", "label": "Amount",
                                "scale": 2}
    assert fields["account"]["on_delete"] == "restrict"
    assert docs["roles/finance.json"]["objects"] == {"opportunity": ["read", "edit"]}
    assert docs["flows/won_followup.json"]["actions"][1] == {
        "assign": {"role": "sales_rep", "strategy": "round_robin"}}


def test_stored_documents_in_any_order_load_the_same(crm: MetadataBundle) -> None:
    docs = bundle_documents(crm, kinds=KINDS)
    assert load_documents(dict(reversed(list(docs.items()))), kinds=KINDS) == crm


def test_a_bundle_built_in_code_has_documents(tmp_path: Path) -> None:
    bundle = MetadataBundle(
        app=None,
        objects=(ObjectDef("ticket", Label.of("Ticket"),
                           (FieldDef("subject", "text", Label.of("Subject"), max_length=80),
                            FieldDef("severity", "number", Label.of("Severity"), scale=0))),),
    )
    docs = bundle_documents(bundle, kinds=KINDS)
    assert docs == {"objects/ticket.json": {
        "api_name": "ticket", "label": "Ticket",
        "fields": [{"api_name": "subject", "type": "text", "label": "Subject", "max_length": 80},
                   {"api_name": "severity", "type": "number", "label": "Severity",
                    "scale": 0}]}}
    assert load_documents(docs, kinds=KINDS) == bundle
    write_folder(tmp_path, docs)
    assert load_path(tmp_path, kinds=KINDS) == bundle


def test_raw_keeps_the_document_as_written(crm: MetadataBundle) -> None:
    opp = crm.object("opportunity")
    assert opp.raw == CRM["objects/opportunity.json"]
    assert "scale" not in opp.field("amount").raw


# ---- lone files and installed objects ------------------------------------------------------


def test_a_lone_object_file(tmp_path: Path) -> None:
    path = write_folder(tmp_path, {"account.json": CRM["objects/account.json"]}) / "account.json"
    with pytest.raises(MetadataError) as exc:
        load_path(path, kinds=KINDS)
    assert problems_of(exc) == [
        f"{path}: /fields/3/child_object: unknown object 'opportunity'",
        f"{path}: /fields/4/child_object: unknown object 'opportunity'",
    ]
    bundle = load_path(path, known_objects=["opportunity"], kinds=KINDS)
    assert [o.api_name for o in bundle.objects] == ["account"]
    assert list(bundle_documents(bundle, kinds=KINDS)) == ["objects/account.json"]


def test_a_lone_file_checks_fields_of_installed_objects(tmp_path: Path) -> None:
    installed = load_documents({k: v for k, v in CRM.items() if k.startswith("objects/")})
    flow = copy.deepcopy(CRM["flows/won_followup.json"])
    flow["trigger"] = {"field_changed": ["stages"]}
    path = write_folder(tmp_path, {"won.json": flow}) / "won.json"
    # by name only, fields cannot be checked
    assert load_path(path, known_objects=["opportunity", "account"],
                     kinds=KINDS).definition("flow", "won_followup")
    with pytest.raises(MetadataError) as exc:
        load_path(path, known_objects=installed.objects, kinds=KINDS)
    assert problems_of(exc) == [
        f"{path}: /trigger/field_changed/0: unknown field 'stages' on opportunity"]


@pytest.mark.parametrize(("relpath", "kind"), [
    ("objects/opportunity.json", "object"),
    ("flows/discount_approval.json", "flow"),
    ("flows/route_deals.json", "flow"),
    ("roles/sales_rep.json", "role"),
    ("app.json", "app"),
])
def test_a_lone_file_is_recognised_by_its_keys(tmp_path: Path, relpath: str, kind: str) -> None:
    path = tmp_path / "somewhere" / "doc.json"
    write_folder(tmp_path, {"somewhere/doc.json": CRM[relpath]})
    bundle = load_path(path, known_objects=["account", "opportunity"], kinds=KINDS)
    found = {"object": bundle.objects, "flow": bundle.definitions("flow"), "role": bundle.roles,
             "app": (bundle.app,) if bundle.app else ()}
    assert [k for k, items in found.items() if items] == [kind]
    assert list(bundle_documents(bundle, kinds=KINDS)) == [relpath]


def test_a_lone_file_is_recognised_by_its_folder(tmp_path: Path) -> None:
    write_folder(tmp_path, {"roles/viewer.json": {"api_name": "viewer"},
                            "data/account.json": [{"name": "Acme"}],
                            "data/_users.json": [{"name": "bob"}]})
    assert load_path(tmp_path / "roles" / "viewer.json").role("viewer").objects == {}
    assert load_path(tmp_path / "data" / "account.json",
                     known_objects=["account"]).data == {"account": ({"name": "Acme"},)}
    assert load_path(tmp_path / "data" / "_users.json").users == (UserDef("bob"),)


def test_a_lone_file_of_unknown_kind(tmp_path: Path) -> None:
    path = write_folder(tmp_path, {"x.json": {"api_name": "x"}}) / "x.json"
    with pytest.raises(MetadataError) as exc:
        load_path(path, kinds=KINDS)
    assert problems_of(exc) == [
        f"{path}: /: cannot tell what this document is: an object has \"fields\", a flow "
        "\"kind\", a role \"objects\", an app \"name\" and \"version\""]


def test_known_objects_satisfy_lookups_in_a_folder(tmp_path: Path) -> None:
    docs = {"objects/contact.json": {"api_name": "contact", "fields": [
        {"api_name": "account", "type": "master_detail", "target": "account"}]}}
    with pytest.raises(MetadataError) as exc:
        load_path(write_folder(tmp_path, docs), kinds=KINDS)
    assert problems_of(exc) == [
        "objects/contact.json: /fields/0/target: unknown object 'account'"]
    bundle = load_path(tmp_path, known_objects=iter(["account"]), kinds=KINDS)
    field = bundle.object("contact").field("account")
    assert (field.required, field.on_delete) == (True, "cascade")


def test_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(MetadataError) as exc:
        load_path(tmp_path / "nope", kinds=KINDS)
    assert problems_of(exc) == [f"{tmp_path / 'nope'}: /: no such file or folder"]
