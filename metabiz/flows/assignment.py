"""Assignment rules and owner-picking strategies: who a new lead or case goes to.

Ordered entries, condition → assignee; an assignee is one user, the next member of a role
in turn (round robin, one turn order per role) or the member owning the fewest records.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from metabiz.errors import NotFound, ValidationError
from metabiz.flows import directory
from metabiz.flows.definitions.model import AssignmentRuleDef
from metabiz.flows.formula import FlowFormula, Subject, Where, load_record
from metabiz.flows.store import assignment_cursors
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.schema import RuntimeSchema

log = logging.getLogger(__name__)


class Assignee:
    """One way of choosing an owner: `{"user": N}` or `{"role": R, "strategy": S}`."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]] = {
        "$ref": "https://metabiz.dev/schemas/v1/actions.json#/$defs/assignee"}

    def pick(self, subject: Subject) -> str | None:
        raise NotImplementedError


class OneUser(Assignee):
    name = "user"

    def __init__(self, user: str) -> None:
        self.user = user

    def pick(self, subject: Subject) -> str | None:
        return self.user if directory.is_active(subject.ctx.conn, self.user) else None


class RoleMember(Assignee):
    """One of the role's active members (by name), or nobody when it has none."""

    def __init__(self, role: str) -> None:
        self.role = role

    def pick(self, subject: Subject) -> str | None:
        members = directory.role_members(subject.ctx.conn, self.role)
        return self.choose(subject, members) if members else None

    def choose(self, subject: Subject, members: list[str]) -> str:
        raise NotImplementedError


class RoundRobin(RoleMember):
    """The member of the role after the one who got the last record (by name, wrapping)."""

    name = "round_robin"

    def choose(self, subject: Subject, members: list[str]) -> str:
        conn = subject.ctx.conn
        key = f"role:{self.role}"
        last = _lock_cursor(conn, key, subject.ctx.now)
        chosen = next((m for m in members if last is None or m > last), members[0])
        conn.execute(update(assignment_cursors).where(assignment_cursors.c.key == key)
                     .values(last_user=chosen, updated_at=subject.ctx.now))
        return chosen


class LeastLoaded(RoleMember):
    """The member of the role who owns the fewest records of the object (ties: by name)."""

    name = "least_loaded"

    def choose(self, subject: Subject, members: list[str]) -> str:
        table = subject.obj.table
        counts: dict[str, int] = dict(subject.ctx.conn.execute(  # type: ignore[arg-type]
            select(table.c.owner, func.count()).where(table.c.owner.in_(members))
            .group_by(table.c.owner)).all())
        return min(members, key=lambda m: (counts.get(m, 0), m))


def _lock_cursor(conn: Connection, key: str, now: dt.datetime) -> str | None:
    """The cursor's last user, its row locked until commit (created when missing)."""
    query = select(assignment_cursors.c.last_user).where(assignment_cursors.c.key == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is not None:
        return row.last_user  # type: ignore[no-any-return]
    try:
        with conn.begin_nested():
            conn.execute(insert(assignment_cursors).values(key=key, last_user=None,
                                                           updated_at=now))
        return None
    except IntegrityError:  # a concurrent transaction created it first
        return conn.execute(query).scalar()


def assignee(raw: Mapping[str, Any]) -> Assignee:
    if "user" in raw:
        return OneUser(raw["user"])
    strategy = raw.get("strategy", "round_robin")
    return LeastLoaded(raw["role"]) if strategy == "least_loaded" else RoundRobin(raw["role"])


class AssignmentRule:
    """A compiled assignment rule: the first entry whose condition holds and whose
    assignee yields an active user decides."""

    def __init__(self, rdef: AssignmentRuleDef, schema: RuntimeSchema) -> None:
        self.name = rdef.api_name
        self.label = rdef.label
        self.object = rdef.object
        self.active = rdef.active
        self.on_create = rdef.on_create
        where = Where(rdef.api_name)
        self.entries: list[tuple[FlowFormula | None, Assignee]] = []
        for i, entry in enumerate(rdef.entries):
            condition = None
            if entry.condition:
                condition = FlowFormula(schema, rdef.object, entry.condition,
                                        where / "entries" / i / "condition")
            self.entries.append((condition, assignee(entry.assignee)))

    def choose(self, subject: Subject) -> str | None:
        for condition, who in self.entries:
            if condition is not None and not condition.holds(subject):
                continue
            user = who.pick(subject)
            if user is not None:
                return user
            log.warning("assignment rule %s: %s gave nobody for %s %s; trying the next entry",
                        self.name, who.name, subject.obj.name, subject.record_id)
        return None


#: the history kind of an owner change an assignment rule made (its note: the rule's name)
RULE_CHANGE = "rule"
#: the history kinds of an owner change a flow's `assign` action made, by the kind of flow
#: (its note: the flow's name)
FLOW_CHANGES = ("automation", "approval")


def set_owner(subject: Subject, user: str, *, rule: AssignmentRule | None = None,
              acting: str | None = None, flow: str | None = None) -> bool:
    """Give the record to `user` through the record service; False when already theirs.

    The change is marked as whose it was (history kind and note; the new owner is told):
    with `rule`, as the rule's (kind `rule`) unless `user` is `acting`, the person whose
    write or request ran the rule; otherwise with `flow`, the source of the `assign` action
    that ran ("automation won_followup"), as that flow's (kind `automation` or `approval`)."""
    if subject.values.get("owner") == user:
        return False
    kind = note = None
    if rule is not None:
        if user != acting:
            kind, note = RULE_CHANGE, rule.name
    elif flow is not None:
        kind, _, note = flow.partition(" ")
        assert kind in FLOW_CHANGES, flow
    records.update(subject.ctx, subject.obj.name, subject.record_id, {"owner": user},
                   kind=kind, note=note)
    return True


def run_rule(ctx: Context, rule_name: str | None, object_name: str,
             record_id: Any) -> dict[str, Any]:
    """Run an assignment rule on one record now (on demand); returns the record.

    The caller must be allowed to edit the record; the owner is then set by the system.
    Without `rule_name` the object's first active assignment rule runs.
    """
    from metabiz.flows.actions.base import system_context
    from metabiz.flows.compiled import flows_of

    obj = ctx.schema.object(object_name)
    ctx.schema.access.require(ctx.actor, obj.name, "edit")
    values = records.load(ctx, obj, record_id, for_update=True)
    compiled = flows_of(ctx.schema)
    candidates = [r for r in compiled.assignment_rules(obj.name) if r.active]
    if rule_name is not None:
        rule = compiled.assignment_rule(rule_name)
        if rule is None or rule.object != obj.name:
            raise ValidationError(f"no assignment rule named {rule_name!r} for {obj.name}",
                                  fields={"rule": [f"unknown assignment rule {rule_name!r}"]})
    elif candidates:
        rule = candidates[0]
    else:
        raise NotFound(f"{obj.name} has no active assignment rule")
    system = system_context(ctx)
    subject = Subject(system, obj, load_record(system, obj, values["id"]))
    user = rule.choose(subject)
    if user is not None:
        set_owner(subject, user, rule=rule, acting=ctx.actor.name)
    # the caller may no longer see the record once it is someone else's: show it anyway
    return records.serialise(ctx, obj, load_record(system, obj, values["id"]))
