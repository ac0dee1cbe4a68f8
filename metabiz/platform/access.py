"""Who may do what: object rights, record access (own / all) and field rules from roles.

A user's rights are the union of their roles; the built-in role `admin` may do everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from metabiz.errors import PermissionDenied
from metabiz.platform.metadata.model import RoleDef

ADMIN_ROLE = "admin"
RIGHTS = ("read", "create", "edit", "delete", "export")


@dataclass(frozen=True)
class Actor:
    """The user a request or job acts for, with what authorisation needs to know."""

    name: str
    roles: frozenset[str] = frozenset()
    display_name: str | None = None
    email: str | None = None
    manager: str | None = None
    language: str = "en"
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

    def __init__(self, roles: Iterable[RoleDef]) -> None:
        self.roles: Mapping[str, RoleDef] = {r.api_name: r for r in roles}

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

    def field_rule(self, actor: Actor, object_name: str, field_name: str) -> str | None:
        """'hidden', 'read_only' or None; the least restrictive of the actor's roles wins."""
        if actor.is_admin:
            return None
        key = f"{object_name}.{field_name}"
        relevant = [r for r in self._roles_of(actor) if r.objects.get(object_name)]
        if not relevant:
            return None
        rules = [r.fields.get(key) for r in relevant]
        if any(rule is None for rule in rules):
            return None
        return "read_only" if "read_only" in rules else "hidden"

    def hidden_fields(self, actor: Actor, object_name: str, names: Iterable[str]) -> set[str]:
        return {n for n in names if self.field_rule(actor, object_name, n) == "hidden"}
