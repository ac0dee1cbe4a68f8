"""Bad metadata: each mistake gives one `file: /json/pointer: message` line, all at once.

Every case edits a known-good folder in one place and expects exactly the listed lines.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from metabiz.errors import MetadataError
from metabiz.flows.definitions import FLOW_KIND
from metabiz.platform.metadata.loader import load_documents, load_path

#: the document kinds these folders hold beside the kernel's
KINDS = [FLOW_KIND]

GOOD: dict[str, Any] = {
    "app.json": {"name": "crm", "version": "1.0.0", "label": "CRM"},
    "objects/account.json": {"api_name": "account", "name_field": "name", "fields": [
        {"api_name": "name", "type": "text", "required": True},
        {"api_name": "manager", "type": "user"},
        {"api_name": "pipeline", "type": "rollup", "child_object": "opportunity",
         "relationship_field": "account", "function": "sum", "field": "amount"},
    ]},
    "objects/opportunity.json": {
        "api_name": "opportunity", "label": {"en": "Opportunity", "zh": "商机"},
        "name_field": "name",
        "fields": [
            {"api_name": "name", "type": "text"},
            {"api_name": "account", "type": "lookup", "target": "account"},
            {"api_name": "stage", "type": "picklist",
             "values": [{"value": "prospecting"}, {"value": "closed_won"}]},
            {"api_name": "amount", "type": "currency"},
            {"api_name": "close_date", "type": "date"},
            {"api_name": "sales_rep", "type": "user"},
            {"api_name": "weighted", "type": "formula", "return_type": "currency",
             "formula": "amount * 2"},
        ],
        "validation_rules": [{"api_name": "amount_positive", "error_condition": "amount < 0",
                              "message": "Amount cannot be negative", "field": "amount"}],
        "layouts": {"default": {"sections": [{"label": "Main", "fields": ["name", "amount"]}]}},
        "list_views": [{"api_name": "big", "columns": ["name", "amount"], "sort": "-amount"}],
    },
    "flows/approve.json": {
        "api_name": "approve", "kind": "approval", "object": "opportunity",
        "steps": [{"api_name": "manager", "approvers": [{"manager_of": "owner"}]}],
        "on_approve": [{"update": {"stage": "\"closed_won\""}}],
    },
    "flows/followup.json": {
        "api_name": "followup", "kind": "automation", "object": "opportunity",
        "trigger": "updated", "actions": [{"update": {"amount": "amount"}}],
    },
    "flows/route.json": {"api_name": "route", "kind": "assignment", "object": "opportunity",
                         "entries": [{"assignee": {"user": "bob"}}]},
    "roles/rep.json": {"api_name": "rep", "objects": {"opportunity": ["read", "edit"]},
                       "fields": {"opportunity.amount": "read_only"}},
    "data/account.json": [{"name": "Acme"}],
    "data/_users.json": [{"name": "bob", "password": "pw", "roles": ["rep"]}],
}

DELETE = object()
OBJ = "objects/opportunity.json"
ACC = "objects/account.json"
TYPES = ("['text', 'long_text', 'number', 'currency', 'percent', 'boolean', 'date', 'datetime', "
         "'email', 'phone', 'url', 'picklist', 'multi_picklist', 'lookup', 'master_detail', "
         "'user', 'file', 'image', 'auto_number', 'formula', 'rollup']")
API_NAME = ("is not a valid api_name: lower-case letters, digits and '_', starting with a "
            "letter, at most 63 characters")


def edited(*edits: tuple[str, str, Any]) -> dict[str, Any]:
    """GOOD with `(file, /pointer, value)` edits; `-` appends, DELETE removes."""
    docs = copy.deepcopy(GOOD)
    for relpath, ptr, value in edits:
        if ptr == "":
            if value is DELETE:
                del docs[relpath]
            else:
                docs[relpath] = value
            continue
        *parents, last = ptr.lstrip("/").split("/")
        node = docs[relpath]
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            if last == "-":
                node.append(value)
            elif value is DELETE:
                del node[int(last)]
            else:
                node[int(last)] = value
        elif value is DELETE:
            del node[last]
        else:
            node[last] = value
    return docs


def problems(docs: dict[str, Any], tmp_path: Path) -> list[str]:
    """The problems of `docs` written as a folder; stored documents must agree."""
    root = tmp_path / "app"
    for relpath, content in docs.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, ensure_ascii=False))
    with pytest.raises(MetadataError) as exc:
        load_path(root, kinds=KINDS)
    with pytest.raises(MetadataError) as stored:
        load_documents(docs, kinds=KINDS)
    assert stored.value.problems == exc.value.problems
    return exc.value.problems


def test_the_good_folder_is_good(tmp_path: Path) -> None:
    assert load_documents(GOOD, kinds=KINDS).object("opportunity") is not None


# ---- shape: the JSON Schemas ------------------------------------------------------------

SCHEMA_CASES = [
    ("field type typo",
     [(OBJ, "/fields/3/type", "currncy")],
     [f"{OBJ}: /fields/3/type: 'currncy' is not one of {TYPES}"]),
    ("field type not a string",
     [(OBJ, "/fields/3/type", ["currency"])],
     [f"{OBJ}: /fields/3/type: ['currency'] is not one of {TYPES}"]),
    ("field type missing",
     [(OBJ, "/fields/3/type", DELETE)],
     [f"{OBJ}: /fields/3: 'type' is a required property"]),
    ("misspelt key with a suggestion",
     [(OBJ, "/fields/0/max_lenght", 80)],
     [f"{OBJ}: /fields/0/max_lenght: unknown key 'max_lenght' (did you mean 'max_length'?)"]),
    ("key of another field type",
     [(OBJ, "/fields/0/scale", 2)],
     [f"{OBJ}: /fields/0/scale: 'scale' does not apply to a text field"]),
    ("bad key value",
     [(OBJ, "/fields/0/max_length", "long")],
     [f"{OBJ}: /fields/0/max_length: 'long' is not of type 'integer'"]),
    ("api_name pattern",
     [(OBJ, "/fields/4/api_name", "Close Date")],
     [f"{OBJ}: /fields/4/api_name: 'Close Date' {API_NAME}"]),
    ("api_name too long",
     [(OBJ, "/fields/4/api_name", "x" * 64)],
     [f"{OBJ}: /fields/4/api_name: '{'x' * 64}' {API_NAME}"]),
    ("lookup without target",
     [(OBJ, "/fields/1/target", DELETE)],
     [f"{OBJ}: /fields/1: 'target' is a required property"]),
    ("lookup on_delete",
     [(OBJ, "/fields/1/on_delete", "cascade")],
     [f"{OBJ}: /fields/1/on_delete: 'cascade' is not one of ['restrict', 'set_null']"]),
    ("master_detail has no on_delete",
     [(OBJ, "/fields/1/type", "master_detail"), (OBJ, "/fields/1/on_delete", "set_null")],
     [f"{OBJ}: /fields/1/on_delete: 'on_delete' does not apply to a master_detail field"]),
    ("auto_number format",
     [(OBJ, "/fields/-", {"api_name": "number", "type": "auto_number", "format": "INV-"})],
     [f"{OBJ}: /fields/7/format: 'INV-' is not a valid auto-number format: Text around exactly "
      "one {0...} group giving the minimum number of digits, e.g. INV-{0000}."]),
    ("formula return type",
     [(OBJ, "/fields/6/return_type", "money")],
     [f"{OBJ}: /fields/6/return_type: 'money' is not one of ['number', 'currency', "
      "'percent', 'text', 'boolean', 'date', 'datetime', 'time', 'location', 'link', "
      "'image']"]),
    ("formula treat_blanks_as",
     [(OBJ, "/fields/6/treat_blanks_as", "nothing")],
     [f"{OBJ}: /fields/6/treat_blanks_as: 'nothing' is not one of ['blank', 'zero']"]),
    ("formula without formula",
     [(OBJ, "/fields/6/formula", DELETE)],
     [f"{OBJ}: /fields/6: 'formula' is a required property"]),
    ("rollup sum without field",
     [(ACC, "/fields/2/field", DELETE)],
     [f"{ACC}: /fields/2: 'field' is a required property"]),
    ("rollup function",
     [(ACC, "/fields/2/function", "median")],
     [f"{ACC}: /fields/2/function: 'median' is not one of ['count', 'sum', 'min', 'max', "
      "'avg']"]),
    ("picklist without values",
     [(OBJ, "/fields/2/values", DELETE)],
     [f"{OBJ}: /fields/2: 'values' is a required property"]),
    ("picklist value with a semicolon",
     [(OBJ, "/fields/2/values/1/value", "won;lost")],
     [f"{OBJ}: /fields/2/values/1/value: 'won;lost' is not a valid picklist value: 1 to 80 "
      "characters, no ';' (multi-picklists store values ';'-joined), no surrounding spaces."]),
    ("label language",
     [(OBJ, "/label/fr", "Opportunité")],
     [f"{OBJ}: /label/fr: unknown key 'fr'; expected 'en' or 'zh'"]),
    ("label type",
     [(OBJ, "/fields/0/label", 5)],
     [f"{OBJ}: /fields/0/label: 5 is not of type 'string', 'object'"]),
    ("unknown object key",
     [(OBJ, "/validation_rule", [])],
     [f"{OBJ}: /validation_rule: unknown key 'validation_rule' "
      "(did you mean 'validation_rules'?)"]),
    ("validation rule without message",
     [(OBJ, "/validation_rules/0/message", DELETE)],
     [f"{OBJ}: /validation_rules/0: 'message' is a required property"]),
    ("layout columns",
     [(OBJ, "/layouts/default/sections/0/columns", 3)],
     [f"{OBJ}: /layouts/default/sections/0/columns: 3 is not one of [1, 2]"]),
    ("list view sort",
     [(OBJ, "/list_views/0/sort", "amount desc")],
     [f"{OBJ}: /list_views/0/sort: 'amount desc' is not a valid sort: Comma-separated field "
      "names, '-' for descending: -amount,name."]),
    ("approver with two kinds",
     [("flows/approve.json", "/steps/0/approvers/0/user", "carol")],
     ["flows/approve.json: /steps/0/approvers/0: 'user' and 'manager_of' cannot be combined: "
      "use one of 'user', 'role', 'manager_of' or 'field'"]),
    ("empty approver",
     [("flows/approve.json", "/steps/0/approvers/0", {})],
     ["flows/approve.json: /steps/0/approvers/0: expected one of 'user', 'role', "
      "'manager_of' or 'field'"]),
    ("approval mode",
     [("flows/approve.json", "/steps/0/mode", "majority")],
     ["flows/approve.json: /steps/0/mode: 'majority' is not one of ['any', 'all']"]),
    ("flow kind",
     [("flows/approve.json", "/kind", "approvel")],
     ["flows/approve.json: /kind: 'approvel' is not one of ['approval', 'automation', "
      "'assignment']"]),
    ("trigger name",
     [("flows/followup.json", "/trigger", "create")],
     ["flows/followup.json: /trigger: 'create' is not one of ['created', 'updated', "
      "'deleted']"]),
    ("date trigger without days",
     [("flows/followup.json", "/trigger", {"before_date": {"field": "close_date"}})],
     ["flows/followup.json: /trigger/before_date: 'days' is a required property"]),
    ("two triggers",
     [("flows/followup.json", "/trigger",
       {"field_changed": ["stage"], "after_date": {"field": "close_date", "days": 1}})],
     ["flows/followup.json: /trigger: 'field_changed' and 'after_date' cannot be combined: "
      "use one of 'field_changed', 'before_date' or 'after_date'"]),
    ("misspelt action",
     [("flows/followup.json", "/actions/0", {"updaet": {"amount": "1"}})],
     ["flows/followup.json: /actions/0/updaet: unknown key 'updaet' "
      "(did you mean 'update'?)"]),
    ("no actions",
     [("flows/followup.json", "/actions", [])],
     ["flows/followup.json: /actions: [] should be non-empty"]),
    ("assign to a user and a role",
     [("flows/followup.json", "/actions/0", {"assign": {"user": "bob", "role": "rep"}})],
     ["flows/followup.json: /actions/0/assign: 'user' and 'role' cannot be combined: "
      "use one of 'user', 'role' or 'rules'"]),
    ("round robin without a role",
     [("flows/followup.json", "/actions/0",
       {"assign": {"user": "bob", "strategy": "round_robin"}})],
     ["flows/followup.json: /actions/0/assign: 'strategy' needs 'role'"]),
    ("notify without message",
     [("flows/followup.json", "/actions/0", {"notify": {"to": [{"user": "bob"}]}})],
     ["flows/followup.json: /actions/0/notify: 'message' is a required property"]),
    ("webhook url",
     [("flows/followup.json", "/actions/0", {"webhook": {"url": "ftp://example.com"}})],
     ["flows/followup.json: /actions/0/webhook/url: 'ftp://example.com' is not a valid "
      "http(s) URL: http:// or https:// followed by a host"]),
    ("update value is a formula string",
     [("flows/followup.json", "/actions/0/update/amount", 5)],
     ["flows/followup.json: /actions/0/update/amount: 5 is not of type 'string'"]),
    ("assignment entry assignee",
     [("flows/route.json", "/entries/0/assignee", {"rules": "route"})],
     ["flows/route.json: /entries/0/assignee/rules: unknown key 'rules' "
      "(did you mean 'role'?)"]),
    ("role right",
     [("roles/rep.json", "/objects/opportunity/0", "reed")],
     ["roles/rep.json: /objects/opportunity/0: 'reed' is not one of ['read', 'create', "
      "'edit', 'delete', 'export', 'import']"]),
    ("record access",
     [("roles/rep.json", "/record_access", "team")],
     ["roles/rep.json: /record_access: 'team' is not one of ['own', 'all']"]),
    ("role field rule key",
     [("roles/rep.json", "/fields", {"amount": "hidden"})],
     ["roles/rep.json: /fields: 'amount' is not a valid object.field"]),
    ("role field rule value",
     [("roles/rep.json", "/fields/opportunity.amount", "readonly")],
     ["roles/rep.json: /fields/opportunity.amount: 'readonly' is not one of ['hidden', "
      "'read_only']"]),
    ("app version",
     [("app.json", "/version", "1")],
     ["app.json: /version: '1' is not a valid version: MAJOR.MINOR[.PATCH] with an optional "
      "-pre-release or +build suffix."]),
    ("app without name",
     [("app.json", "/name", DELETE)],
     ["app.json: /: 'name' is a required property"]),
    ("user key",
     [("data/_users.json", "/0/pasword", "pw")],
     ["data/_users.json: /0/pasword: unknown key 'pasword' (did you mean 'password'?)"]),
    ("data is not a list",
     [("data/account.json", "", {"name": "Acme"})],
     ["data/account.json: /: {'name': 'Acme'} is not of type 'array'"]),
]


@pytest.mark.parametrize(("edits", "expected"), [c[1:] for c in SCHEMA_CASES],
                         ids=[c[0] for c in SCHEMA_CASES])
def test_schema_problem(tmp_path: Path, edits: list[Any], expected: list[str]) -> None:
    assert problems(edited(*edits), tmp_path) == expected


# ---- meaning: names and references -------------------------------------------------------

CHECK_CASES = [
    ("unknown lookup target",
     [(OBJ, "/fields/1/target", "acount")],
     [f"{ACC}: /fields/2/relationship_field: 'account' on opportunity points to 'acount', "
      "not to 'account'",
      f"{OBJ}: /fields/1/target: unknown object 'acount'"]),
    ("system field name",
     [(OBJ, "/fields/5/api_name", "owner")],
     [f"{OBJ}: /fields/5/api_name: 'owner' is a system field every object already has"]),
    ("locked is a system field",
     [(OBJ, "/fields/5/api_name", "locked")],
     [f"{OBJ}: /fields/5/api_name: 'locked' is a system field every object already has"]),
    ("reserved field name",
     [(OBJ, "/fields/5/api_name", "order")],
     [f"{OBJ}: /fields/5/api_name: 'order' is a reserved word of SQL or the formula language"]),
    ("reserved object name",
     [(OBJ, "", DELETE), ("objects/select.json", "", {"api_name": "select", "fields": [
         {"api_name": "name", "type": "text"}]}), (ACC, "/fields/2", DELETE),
      ("flows/approve.json", "", DELETE), ("flows/followup.json", "", DELETE),
      ("flows/route.json", "", DELETE), ("roles/rep.json", "/objects", {}),
      ("roles/rep.json", "/fields", {})],
     ["objects/select.json: /api_name: 'select' is a reserved word of SQL or the formula "
      "language"]),
    ("duplicate field",
     [(OBJ, "/fields/4/api_name", "amount")],
     [f"{OBJ}: /fields/4/api_name: duplicate field 'amount' (also at /fields/3/api_name)"]),
    ("object file name",
     [("objects/ticket.json", "", {"api_name": "tickets", "fields": [
         {"api_name": "subject", "type": "text"}]})],
     ["objects/ticket.json: /api_name: 'tickets' must be stored as objects/tickets.json, "
      "not objects/ticket.json"]),
    ("unknown name field",
     [(OBJ, "/name_field", "title")],
     [f"{OBJ}: /name_field: unknown field 'title' on opportunity"]),
    ("name field of the wrong type",
     [(OBJ, "/name_field", "amount")],
     [f"{OBJ}: /name_field: 'amount' is a currency field; the name field must be text, "
      "auto_number or a text formula"]),
    ("rollup of an unknown child",
     [(ACC, "/fields/2/child_object", "deal")],
     [f"{ACC}: /fields/2/child_object: unknown object 'deal'"]),
    ("rollup over a field that is no relationship",
     [(ACC, "/fields/2/relationship_field", "name")],
     [f"{ACC}: /fields/2/relationship_field: 'name' on opportunity is a text field, not a "
      "lookup or master_detail"]),
    ("rollup over an unknown relationship",
     [(ACC, "/fields/2/relationship_field", "acct")],
     [f"{ACC}: /fields/2/relationship_field: unknown field 'acct' on opportunity"]),
    ("rollup of an unknown field",
     [(ACC, "/fields/2/field", "amt")],
     [f"{ACC}: /fields/2/field: unknown field 'amt' on opportunity"]),
    ("sum of text",
     [(ACC, "/fields/2/field", "name")],
     [f"{ACC}: /fields/2/field: sum needs a number, currency or percent field; 'name' is a "
      "text field"]),
    ("max of a date is fine, of a user is not",
     [(ACC, "/fields/2/function", "max"), (ACC, "/fields/-", {
         "api_name": "last_rep", "type": "rollup", "child_object": "opportunity",
         "relationship_field": "account", "function": "max", "field": "sales_rep"}),
      (ACC, "/fields/-", {
          "api_name": "last_close", "type": "rollup", "child_object": "opportunity",
          "relationship_field": "account", "function": "max", "field": "close_date"})],
     [f"{ACC}: /fields/3/field: max needs a number, currency, percent, date or datetime "
      "field; 'sales_rep' is a user field"]),
    ("duplicate picklist value",
     [(OBJ, "/fields/2/values/1/value", "prospecting")],
     [f"{OBJ}: /fields/2/values/1/value: duplicate picklist value 'prospecting' "
      "(also at /fields/2/values/0/value)"]),
    ("min above max",
     [(OBJ, "/fields/3/type", "number"), (OBJ, "/fields/3/min", 10),
      (OBJ, "/fields/3/max", 5)],
     [f"{OBJ}: /fields/3/min: min 10 is greater than max 5"]),
    ("formula with a default",
     [(OBJ, "/fields/6/default", "1")],
     [f"{OBJ}: /fields/6/default: a formula field is computed and cannot have 'default'"]),
    ("unique roll-up",
     [(ACC, "/fields/2/unique", True)],
     [f"{ACC}: /fields/2/unique: a rollup field cannot be unique"]),
    ("optional master-detail",
     [(OBJ, "/fields/1/type", "master_detail"), (OBJ, "/fields/1/required", False)],
     [f"{OBJ}: /fields/1/required: a master_detail field is always required (use a lookup "
      "for an optional reference)"]),
    ("renamed from a current field",
     [(OBJ, "/fields/4/renamed_from", "amount")],
     [f"{OBJ}: /fields/4/renamed_from: 'amount' is another current field; renamed_from names "
      "the field's old name"]),
    ("renamed from itself",
     [(OBJ, "/fields/4/renamed_from", "close_date")],
     [f"{OBJ}: /fields/4/renamed_from: a field cannot be renamed from its own name"]),
    ("two fields renamed from one",
     [(OBJ, "/fields/4/renamed_from", "closes"), (OBJ, "/fields/5/renamed_from", "closes")],
     [f"{OBJ}: /fields/5/renamed_from: duplicate renamed_from 'closes' "
      "(also at /fields/4/renamed_from)"]),
    ("object renamed from another current object",
     [(OBJ, "/renamed_from", "account")],
     [f"{OBJ}: /renamed_from: 'account' is another current object; renamed_from names the "
      "object's old name"]),
    ("duplicate validation rule",
     [(OBJ, "/validation_rules/-", {"api_name": "amount_positive",
                                    "error_condition": "FALSE", "message": "m"})],
     [f"{OBJ}: /validation_rules/1/api_name: duplicate validation rule 'amount_positive' "
      "(also at /validation_rules/0/api_name)"]),
    ("validation rule on an unknown field",
     [(OBJ, "/validation_rules/0/field", "amt")],
     [f"{OBJ}: /validation_rules/0/field: unknown field 'amt' on opportunity"]),
    ("layout with an unknown field",
     [(OBJ, "/layouts/default/sections/0/fields/-", "stagee")],
     [f"{OBJ}: /layouts/default/sections/0/fields/2: unknown field 'stagee' on opportunity"]),
    ("layout with a field twice",
     [(OBJ, "/layouts/default/sections/-", {"fields": ["stage", "name"]})],
     [f"{OBJ}: /layouts/default/sections/1/fields/1: duplicate layout field 'name' "
      "(also at /layouts/default/sections/0/fields/0)"]),
    ("list view column",
     [(OBJ, "/list_views/0/columns/-", "amt")],
     [f"{OBJ}: /list_views/0/columns/2: unknown field 'amt' on opportunity"]),
    ("list view sort field",
     [(OBJ, "/list_views/0/sort", "-amount,created_at,stag")],
     [f"{OBJ}: /list_views/0/sort: unknown field 'stag' on opportunity"]),
    ("duplicate list view",
     [(OBJ, "/list_views/-", {"api_name": "big"})],
     [f"{OBJ}: /list_views/1/api_name: duplicate list view 'big' (also at "
      "/list_views/0/api_name)"]),
    ("flow on an unknown object",
     [("flows/followup.json", "/object", "opportunities")],
     ["flows/followup.json: /object: unknown object 'opportunities'"]),
    ("flow file name",
     [("flows/followup.json", "/api_name", "follow_up")],
     ["flows/followup.json: /api_name: 'follow_up' must be stored as "
      "flows/follow_up.json, not flows/followup.json"]),
    ("duplicate step",
     [("flows/approve.json", "/steps/-", {"api_name": "manager",
                                          "approvers": [{"role": "rep"}]})],
     ["flows/approve.json: /steps/1/api_name: duplicate step 'manager' (also at "
      "/steps/0/api_name)"]),
    ("approver field is not a user field",
     [("flows/approve.json", "/steps/0/approvers/0", {"field": "stage"})],
     ["flows/approve.json: /steps/0/approvers/0/field: 'stage' is a picklist field, not a "
      "user field"]),
    ("approver manager of a system datetime",
     [("flows/approve.json", "/steps/0/approvers/0", {"manager_of": "created_at"})],
     ["flows/approve.json: /steps/0/approvers/0/manager_of: 'created_at' is a system field, "
      "not a user field"]),
    ("update of an unknown field",
     [("flows/approve.json", "/on_approve/0/update/stagee", "\"x\"")],
     ["flows/approve.json: /on_approve/0/update/stagee: unknown field 'stagee' on "
      "opportunity"]),
    ("update of a formula field",
     [("flows/followup.json", "/actions/0/update", {"weighted": "1"})],
     ["flows/followup.json: /actions/0/update/weighted: 'weighted' is a currency formula "
      "field and cannot be set"]),
    ("update of a system field",
     [("flows/followup.json", "/actions/0/update", {"created_by": "\"bob\""})],
     ["flows/followup.json: /actions/0/update/created_by: 'created_by' is a system field "
      "and cannot be set"]),
    ("create of an unknown object",
     [("flows/followup.json", "/actions/-", {"create": {"object": "task", "values": {}}})],
     ["flows/followup.json: /actions/1/create/object: unknown object 'task'"]),
    ("create with an unknown field",
     [("flows/followup.json", "/actions/-",
       {"create": {"object": "account", "values": {"name": "name", "title": "name"}}})],
     ["flows/followup.json: /actions/1/create/values/title: unknown field 'title' on "
      "account"]),
    ("assign by unknown rules",
     [("flows/followup.json", "/actions/-", {"assign": {"rules": "routing"}})],
     ["flows/followup.json: /actions/1/assign/rules: unknown assignment rule 'routing'"]),
    ("assign by rules of another object",
     [("flows/route.json", "/object", "account"),
      ("flows/followup.json", "/actions/-", {"assign": {"rules": "route"}})],
     ["flows/followup.json: /actions/1/assign/rules: assignment rule 'route' assigns account "
      "records, not opportunity"]),
    ("assign by a flow that is no assignment rule",
     [("flows/followup.json", "/actions/-", {"assign": {"rules": "approve"}})],
     ["flows/followup.json: /actions/1/assign/rules: unknown assignment rule 'approve'"]),
    ("notify a field that is no user",
     [("flows/followup.json", "/actions/-",
       {"notify": {"to": [{"field": "sales_rep"}, {"manager_of": "name"}], "message": "x"}})],
     ["flows/followup.json: /actions/1/notify/to/1/manager_of: 'name' is a text field, not "
      "a user field"]),
    ("field_changed on an unknown field",
     [("flows/followup.json", "/trigger", {"field_changed": ["stage", "amout"]})],
     ["flows/followup.json: /trigger/field_changed/1: unknown field 'amout' on opportunity"]),
    ("date trigger on a field that is no date",
     [("flows/followup.json", "/trigger", {"after_date": {"field": "amount", "days": 2}}),
      ("flows/followup.json", "/actions/0", {"notify": {"to": [{"field": "owner"}],
                                                        "message": "\"due\""}})],
     ["flows/followup.json: /trigger/after_date/field: 'amount' is a currency field, not a "
      "date or datetime field"]),
    ("update of a deleted record",
     [("flows/followup.json", "/trigger", "deleted")],
     ["flows/followup.json: /actions/0/update: an update action cannot change a deleted "
      "record"]),
    ("role on an unknown object",
     [("roles/rep.json", "/objects/deal", ["read"])],
     ["roles/rep.json: /objects/deal: unknown object 'deal'"]),
    ("role rights without read",
     [("roles/rep.json", "/objects/account", ["edit"])],
     ["roles/rep.json: /objects/account: rights to create, edit, delete, export or "
      "import need 'read' too"]),
    ("role field rule on an unknown field",
     [("roles/rep.json", "/fields/opportunity.amt", "hidden")],
     ["roles/rep.json: /fields/opportunity.amt: unknown field 'amt' on opportunity"]),
    ("role field rule on an unknown object",
     [("roles/rep.json", "/fields/deal.amount", "hidden")],
     ["roles/rep.json: /fields/deal.amount: unknown object 'deal'"]),
    ("a role named admin",
     [("roles/rep.json", "", DELETE), ("data/_users.json", "/0/roles", []),
      ("roles/admin.json", "", {"api_name": "admin", "record_access": "all"})],
     ["roles/admin.json: /api_name: 'admin' is the built-in role that may do everything; "
      "choose another name"]),
    ("user with an unknown role",
     [("data/_users.json", "/0/roles/-", "sales")],
     ["data/_users.json: /0/roles/1: unknown role 'sales'"]),
    ("duplicate user",
     [("data/_users.json", "/-", {"name": "bob"})],
     ["data/_users.json: /1/name: duplicate user 'bob' (also at /0/name)"]),
    ("user managing themself",
     [("data/_users.json", "/0/manager", "bob")],
     ["data/_users.json: /0/manager: a user cannot be their own manager"]),
    ("data of an unknown object",
     [("data/lead.json", "", [{"name": "x"}])],
     ["data/lead.json: /: unknown object 'lead' (data/<object>.json holds records of that "
      "object)"]),
    ("a document out of place",
     [("account.json", "", GOOD[ACC])],
     ["account.json: /: not a metadata document: expected app.json, objects/*.json, "
      "flows/*.json, roles/*.json or data/*.json"]),
    ("a document in a subfolder",
     [("objects/old/account.json", "", GOOD[ACC])],
     ["objects/old/account.json: /: not a metadata document: expected app.json, "
      "objects/*.json, flows/*.json, roles/*.json or data/*.json"]),
]


@pytest.mark.parametrize(("edits", "expected"), [c[1:] for c in CHECK_CASES],
                         ids=[c[0] for c in CHECK_CASES])
def test_check_problem(tmp_path: Path, edits: list[Any], expected: list[str]) -> None:
    assert problems(edited(*edits), tmp_path) == expected


# ---- files and collecting -------------------------------------------------------------------


def write(root: Path, relpath: str, text: str | bytes) -> None:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    write(tmp_path, "objects/x.json", '{\n  "api_name": "x",\n  "fields" []\n}\n')
    with pytest.raises(MetadataError) as exc:
        load_path(tmp_path, kinds=KINDS)
    assert exc.value.problems == [
        "objects/x.json: /: invalid JSON at line 3 column 12: Expecting ':' delimiter"]


def test_a_key_given_twice(tmp_path: Path) -> None:
    write(tmp_path, "roles/x.json", '{"api_name": "x", "record_access": "own", '
                                    '"record_access": "all"}')
    with pytest.raises(MetadataError) as exc:
        load_path(tmp_path, kinds=KINDS)
    assert exc.value.problems == [
        "roles/x.json: /: the key 'record_access' appears twice in one JSON object; only the "
        "last would count"]


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    write(tmp_path, "roles/x.json", '{"api_name": "x", "label": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(MetadataError) as exc:
        load_path(tmp_path, kinds=KINDS)
    assert exc.value.problems == ["roles/x.json: /: not UTF-8 text: invalid continuation byte "
                                  "at byte 31"]


def test_every_problem_is_reported_at_once_in_reading_order(tmp_path: Path) -> None:
    docs = edited(
        (OBJ, "/fields/5/type", "usr"),
        (OBJ, "/fields/1/target", "acount"),
        (OBJ, "/fields/0/max_lenght", 9),
        ("flows/followup.json", "/object", "deal"),
        ("roles/rep.json", "/objects/opportunity/0", "reed"),
        ("data/_users.json", "/0/roles/0", "sales"),
        ("app.json", "/version", "one"),
    )
    write(tmp_path, "objects/broken.json", "{")
    for relpath, content in docs.items():
        write(tmp_path, relpath, json.dumps(content))
    with pytest.raises(MetadataError) as exc:
        load_path(tmp_path, kinds=KINDS)
    assert exc.value.problems == [
        "app.json: /version: 'one' is not a valid version: MAJOR.MINOR[.PATCH] with an "
        "optional -pre-release or +build suffix.",
        "objects/broken.json: /: invalid JSON at line 1 column 2: Expecting property name "
        "enclosed in double quotes",
        f"{OBJ}: /fields/0/max_lenght: unknown key 'max_lenght' (did you mean 'max_length'?)",
        f"{OBJ}: /fields/5/type: 'usr' is not one of {TYPES}",
        "flows/followup.json: /object: unknown object 'deal'",
        "roles/rep.json: /objects/opportunity/0: 'reed' is not one of ['read', 'create', "
        "'edit', 'delete', 'export', 'import']",
        "data/_users.json: /0/roles/0: unknown role 'sales'",
    ]
    assert str(exc.value).splitlines() == exc.value.problems


def test_an_invalid_object_still_counts_as_defined(tmp_path: Path) -> None:
    # the lookup to a broken object is not reported again as an unknown object
    docs = edited((ACC, "/fields/0/type", "txt"))
    assert problems(docs, tmp_path) == [f"{ACC}: /fields/0/type: 'txt' is not one of {TYPES}"]


def test_stored_documents_under_an_unexpected_path() -> None:
    with pytest.raises(MetadataError) as exc:
        load_documents({"objects/account.yaml": GOOD[ACC]}, kinds=KINDS)
    assert exc.value.problems == [
        "objects/account.yaml: /: not a metadata document: expected app.json, objects/*.json, "
        "flows/*.json, roles/*.json or data/*.json"]


def test_pointers_escape_slashes_and_tildes(tmp_path: Path) -> None:
    docs = edited(("flows/followup.json", "/actions/0",
                   {"webhook": {"url": "https://x.example", "payload": {"a/b~c": 1}}}))
    assert problems(docs, tmp_path) == [
        "flows/followup.json: /actions/0/webhook/payload/a~1b~0c: 1 is not of type 'string'"]


def _json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        found.extend(_json_paths(value, prefix + (key,)))
    return found


@pytest.mark.parametrize("seed", range(4))
def test_any_damage_gives_problems_never_a_crash(seed: int) -> None:
    """Random edits to the good folder: the loader answers with problems or a bundle."""
    rng = random.Random(seed)
    junk = [None, 0, -1, 2.5, "", "Bad Name", [], {}, [1], {"a": 1}, True, "amount",
            "owner", "lookup", "rollup", "account", "sum", "deleted", {"user": "x"},
            {"field_changed": ["x"]}, {"update": {"id": "1"}}, {"assign": {"rules": "route"}}]
    for _ in range(150):
        docs = copy.deepcopy(GOOD)
        relpath = rng.choice(list(docs))
        path = rng.choice(_json_paths(docs[relpath])[1:])
        node = docs[relpath]
        for part in path[:-1]:
            node = node[part]
        if isinstance(node, dict) and rng.random() < 0.3:
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(rng.choice(junk))
        try:
            load_documents(docs, kinds=KINDS)
        except MetadataError as err:
            assert err.problems
            assert all(p.partition(": /")[0] in docs for p in err.problems), err.problems
