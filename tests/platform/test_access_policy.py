"""The access policy on its own: rights as the union of roles, record scope, field rules.

Pure tests (no database): what a role file grants, and that a value computed from a
hidden field is hidden as well, through formulas, roll-ups and lookups.
"""

from __future__ import annotations

import pytest

from metabiz.errors import PermissionDenied
from metabiz.platform.access import SYSTEM, AccessPolicy, Actor
from metabiz.platform.metadata.model import Label, RoleDef


def role(name, objects, record_access="own", fields=None):
    return RoleDef(api_name=name, label=Label.of(name),
                   objects={o: frozenset(r) for o, r in objects.items()},
                   record_access=record_access, fields=dict(fields or {}))


REP = role("rep", {"deal": ["read", "create", "edit"], "account": ["read"]},
           fields={"deal.margin": "hidden", "deal.discount": "read_only",
                   "account.credit_limit": "hidden"})
AUDITOR = role("auditor", {"deal": ["read"], "note": ["read"]}, "all",
               fields={"deal.discount": "hidden"})
CLERK = role("clerk", {"deal": ["edit"]}, "all")  # edit everything, read only own
NO_ACCOUNT = role("no_account", {"deal": ["read"]}, fields={"account.credit_limit": "hidden"})

#: deal.weighted = amount * 2; deal.margin_pct = margin / amount;
#: deal.account_limit = account.credit_limit; deal.double_pct = margin_pct * 2;
#: account.pipeline = SUM(deal.amount); account.margin_total = SUM(deal.margin)
COMPUTED = {
    "deal.weighted": ["deal.amount"],
    "deal.margin_pct": ["deal.margin", "deal.amount"],
    "deal.account_limit": ["deal.account", "account.credit_limit"],
    "deal.double_pct": ["deal.margin_pct"],
    "account.pipeline": ["deal.amount", "deal.account"],
    "account.margin_total": ["deal.margin", "deal.account"],
}


@pytest.fixture
def policy():
    return AccessPolicy([REP, AUDITOR, CLERK, NO_ACCOUNT], COMPUTED)


def actor(*roles, name="u", team=()):
    return Actor(name=name, roles=frozenset(roles), team=frozenset({name, *team}))


def test_rights_are_the_union_of_roles(policy):
    rep, both = actor("rep"), actor("rep", "auditor")
    assert policy.allowed(rep, "deal", "create") and not policy.allowed(rep, "deal", "delete")
    assert not policy.allowed(rep, "note", "read") and policy.allowed(both, "note", "read")
    assert not policy.allowed(actor("unknown_role"), "deal", "read")
    with pytest.raises(PermissionDenied, match="you may not delete deal records"):
        policy.require(rep, "deal", "delete")
    for right in ("read", "create", "edit", "delete", "export"):
        assert policy.allowed(actor("admin"), "anything", right)
        assert policy.allowed(SYSTEM, "anything", right)


def test_record_scope_is_own_team_unless_a_reading_role_says_all(policy):
    rep = actor("rep", name="mgr", team=("rep1", "rep2"))
    assert policy.visible_owners(rep, "deal") == {"mgr", "rep1", "rep2"}
    assert policy.visible_owners(actor("rep", "auditor"), "deal") is None
    assert policy.visible_owners(actor("rep", "auditor"), "account") == {"u"}  # per object
    # an 'all' role that does not grant read does not widen what is seen
    assert policy.visible_owners(actor("rep", "clerk"), "deal") == {"u"}
    assert policy.visible_owners(actor("admin"), "deal") is None


def test_the_least_restrictive_field_rule_wins(policy):
    rep, both = actor("rep"), actor("rep", "auditor")
    assert policy.field_rule(rep, "deal", "margin") == "hidden"
    assert policy.field_rule(rep, "deal", "discount") == "read_only"
    assert policy.field_rule(actor("auditor"), "deal", "discount") == "hidden"
    assert policy.field_rule(both, "deal", "discount") == "read_only"  # read_only beats hidden
    assert policy.field_rule(both, "deal", "margin") is None  # the auditor sees margins
    assert policy.field_rule(rep, "deal", "name") is None
    assert policy.field_rule(actor("admin"), "deal", "margin") is None
    assert policy.hidden_fields(rep, "deal", ["name", "margin", "discount"]) == {"margin"}


def test_a_rule_counts_even_from_a_role_without_rights_on_the_object(policy):
    # Read through a lookup, account.credit_limit must stay hidden for this role.
    assert policy.field_rule(actor("no_account"), "account", "credit_limit") == "hidden"
    # … unless another role grants the object without restricting the field.
    full = role("account_reader", {"account": ["read"]})
    both = AccessPolicy([NO_ACCOUNT, full])
    assert both.field_rule(actor("no_account", "account_reader"), "account",
                           "credit_limit") is None


@pytest.mark.parametrize("roles, node, expected", [
    (("rep",), "deal.weighted", None),  # reads visible fields only
    (("rep",), "deal.margin_pct", "hidden"),  # reads margin
    (("rep",), "deal.double_pct", "hidden"),  # through another formula
    (("rep",), "deal.account_limit", "hidden"),  # through a lookup
    (("no_account",), "deal.account_limit", "hidden"),
    (("rep",), "account.pipeline", None),
    (("rep",), "account.margin_total", "hidden"),  # a roll-up of a hidden child field
    (("auditor",), "deal.margin_pct", None),
    (("rep", "auditor"), "deal.margin_pct", None),  # margin visible through the auditor
    (("rep", "auditor"), "deal.account_limit", "hidden"),  # credit_limit hidden for both
    (("admin",), "deal.account_limit", None),
])
def test_computed_values_are_hidden_with_what_they_read(policy, roles, node, expected):
    object_name, _, field_name = node.partition(".")
    assert policy.field_rule(actor(*roles), object_name, field_name) == expected


def test_refuse_hidden_names_each_hidden_dependency(policy):
    rep = actor("rep")
    policy.refuse_hidden(rep, "deal", ["deal.name", "deal.amount", "deal.weighted"])
    with pytest.raises(PermissionDenied) as refused:
        policy.refuse_hidden(rep, "deal", ["deal.account", "account.credit_limit",
                                           "deal.margin", "deal.margin_pct"])
    assert refused.value.status == 403
    assert set(refused.value.fields) == {"account.credit_limit", "margin", "margin_pct"}
    assert policy.hidden_among(rep, ["deal.weighted", "deal.double_pct"]) == {"deal.double_pct"}


def test_declaring_a_dependency_later_takes_effect_at_once():
    policy = AccessPolicy([REP])
    rep = actor("rep")
    assert policy.field_rule(rep, "deal", "profit") is None  # cached as visible …
    policy.computed_from("deal.profit", ["deal.margin"])
    assert policy.field_rule(rep, "deal", "profit") == "hidden"  # … and recomputed


def test_cyclic_declarations_do_not_loop():
    policy = AccessPolicy([REP], {"deal.a": ["deal.b"], "deal.b": ["deal.a", "deal.margin"]})
    assert policy.field_rule(actor("rep"), "deal", "a") == "hidden"
    assert policy.field_rule(actor("rep"), "deal", "b") == "hidden"
