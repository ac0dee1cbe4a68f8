"""Who may do what: object rights, record access (own / all) and field rules from roles.

A user's rights are the union of their roles; the built-in role `admin` may do everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_
from sqlalchemy.sql.elements import ColumnElement

from metabiz.errors import PermissionDenied
from metabiz.platform.metadata.model import PoolDef, RoleDef
from metabiz.platform.metadata.reserved import POOL_COLUMN

ADMIN_ROLE = "admin"
RIGHTS = ("read", "create", "edit", "delete", "export", "import")


@dataclass(frozen=True)
class Actor:
    """The user a request or job acts for, with what authorisation needs to know."""

    name: str
    roles: frozenset[str] = frozenset()
    display_name: str | None = None
    email: str | None = None
    manager: str | None = None
    language: str = "en"
    #: the IANA time zone the user chose (None: the app's default time zone)
    timezone: str | None = None
    #: the user and everyone below them in the manager chain, at any depth
    team: frozenset[str] = field(default_factory=frozenset)
    is_system: bool = False

    @property
    def is_admin(self) -> bool:
        return self.is_system or ADMIN_ROLE in self.roles


SYSTEM = Actor(name="system", roles=frozenset({ADMIN_ROLE}), display_name="System",
               team=frozenset({"system"}), is_system=True)


class AccessPolicy:
    """Answers permission questions for one metadata version's roles."""

    def __init__(self, roles: Iterable[RoleDef],
                 computed: Mapping[str, Iterable[str]] | None = None) -> None:
        self.roles: Mapping[str, RoleDef] = {r.api_name: r for r in roles}
        #: "object.field" of a formula or roll-up → the "object.field"s it reads (lookups
        #: resolved), so that a value computed from a hidden field is hidden as well
        self.computed: dict[str, frozenset[str]] = {}
        self._rules: dict[tuple[frozenset[str], bool, str], str | None] = {}
        #: object → its public pools (see `declare_pools`)
        self.pools: dict[str, dict[str, PoolDef]] = {}
        for node, reads in (computed or {}).items():
            self.computed_from(node, reads)

    def declare_pools(self, object_name: str, pools: Iterable[PoolDef]) -> None:
        """The public pools of an object: their members and admins see their records."""
        self.pools[object_name] = {p.api_name: p for p in pools}

    def computed_from(self, node: str, reads: Iterable[str]) -> None:
        """Declare that the computed field `node` ("object.field") reads `reads`."""
        self.computed[node] = self.computed.get(node, frozenset()) | frozenset(reads)
        self._rules.clear()

    def _roles_of(self, actor: Actor) -> list[RoleDef]:
        return [self.roles[r] for r in sorted(actor.roles) if r in self.roles]

    def allowed(self, actor: Actor, object_name: str, right: str) -> bool:
        if actor.is_admin:
            return True
        return any(right in role.objects.get(object_name, ()) for role in self._roles_of(actor))

    def require(self, actor: Actor, object_name: str, right: str) -> None:
        if not self.allowed(actor, object_name, right):
            raise PermissionDenied(f"you may not {right} {object_name} records")

    def visible_owners(self, actor: Actor, object_name: str) -> frozenset[str] | None:
        """None when every record is visible, else the owners whose records are."""
        if actor.is_admin:
            return None
        granting = [r for r in self._roles_of(actor) if "read" in r.objects.get(object_name, ())]
        if any(r.record_access == "all" for r in granting):
            return None
        return actor.team or frozenset({actor.name})

    def pool_member(self, actor: Actor, object_name: str, pool: str) -> bool:
        """Whether the actor may see and claim the pool's records (members, admins)."""
        found = self.pools.get(object_name, {}).get(pool)
        if found is None:
            return False
        return actor.is_admin or bool(actor.roles & {*found.members, *found.admins})

    def pool_admin(self, actor: Actor, object_name: str, pool: str) -> bool:
        """Whether the actor may assign the pool's records to someone."""
        found = self.pools.get(object_name, {}).get(pool)
        return found is not None and (actor.is_admin or bool(actor.roles & set(found.admins)))

    def visible_pools(self, actor: Actor, object_name: str) -> frozenset[str]:
        """The object's pools whose records the actor sees as a member or an admin."""
        return frozenset(name for name in self.pools.get(object_name, {})
                         if self.pool_member(actor, object_name, name))

    def record_filter(self, actor: Actor, object_name: str,
                      table: Any) -> ColumnElement[bool] | None:
        """The WHERE condition keeping the rows of `table` (the object's table or an alias
        of it) the actor may read: their scope of owners, and the records of the pools they
        are a member of whatever their record access. None when they may read every row."""
        owners = self.visible_owners(actor, object_name)
        if owners is None:
            return None
        condition = table.c.owner.in_(sorted(owners))
        pools = self.visible_pools(actor, object_name)
        if pools and POOL_COLUMN in table.c:
            condition = or_(condition, table.c[POOL_COLUMN].in_(sorted(pools)))
        return condition

    def can_see_owner(self, actor: Actor, object_name: str, owner: str | None) -> bool:
        """Whether the actor may read a record of this object owned by `owner`."""
        owners = self.visible_owners(actor, object_name)
        return owners is None or owner in owners

    def field_rule(self, actor: Actor, object_name: str, field_name: str) -> str | None:
        """'hidden', 'read_only' or None; the least restrictive of the actor's roles wins.

        The roles that count are those granting any right on the object or stating a rule
        for the field. A formula or roll-up reading a field hidden from the actor (on its
        own object or through a lookup) is hidden too, so no computed value leaks it.
        """
        if actor.is_admin:
            return None
        key = (actor.roles, actor.is_system, f"{object_name}.{field_name}")
        if key not in self._rules:
            self._rules[key] = self._rule(actor, key[2], set())
        return self._rules[key]

    def _rule(self, actor: Actor, node: str, seen: set[str]) -> str | None:
        object_name = node.partition(".")[0]
        relevant = [r for r in self._roles_of(actor)
                    if r.objects.get(object_name) or node in r.fields]
        rules = [r.fields.get(node) for r in relevant]
        own = None
        if rules and all(rule is not None for rule in rules):
            own = "read_only" if "read_only" in rules else "hidden"
        if own == "hidden" or node in seen:
            return own
        seen.add(node)
        if any(self._rule(actor, read, seen) == "hidden" for read in self.computed.get(node, ())):
            return "hidden"
        return own

    def hidden_among(self, actor: Actor, nodes: Iterable[str]) -> set[str]:
        """Which of the "object.field" names (a formula's dependencies) are hidden."""
        hidden = set()
        for node in nodes:
            object_name, _, field_name = node.partition(".")
            if self.field_rule(actor, object_name, field_name) == "hidden":
                hidden.add(node)
        return hidden

    def refuse_hidden(self, actor: Actor, object_name: str, nodes: Iterable[str]) -> None:
        """403 naming the hidden fields among a formula's dependencies ("object.field").

        Fields of `object_name` itself are named bare, others as `object.field`.
        """
        hidden = sorted(n.removeprefix(f"{object_name}.") for n in self.hidden_among(actor, nodes))
        if hidden:
            raise PermissionDenied("hidden for your role: " + ", ".join(hidden),
                                   fields={n: ["hidden for your role"] for n in hidden})

    def hidden_fields(self, actor: Actor, object_name: str, names: Iterable[str]) -> set[str]:
        return {n for n in names if self.field_rule(actor, object_name, n) == "hidden"}
