"""People named by flow metadata: approvers of a step and recipients of a notification.

One class per kind (`user`, `role`, `field`, `manager_of`), each with its JSON schema;
`resolve` gives the active users it names for a record, in a stable order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from metabiz.flows import directory
from metabiz.flows.formula import Subject

_COMMON = "https://metabiz.dev/schemas/v1/common.json"


class Recipient:
    """A kind of person reference: `{"<name>": value}`."""

    name: ClassVar[str]
    schema: ClassVar[dict[str, Any]]

    def __init__(self, value: str) -> None:
        self.value = value

    def resolve(self, subject: Subject) -> list[str]:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} {self.value}"

    def to_json(self) -> dict[str, str]:
        return {self.name: self.value}


class UserRecipient(Recipient):
    """`{"user": NAME}`: that user, when active."""

    name = "user"
    schema = {"type": "object", "required": ["user"],
              "properties": {"user": {"$ref": f"{_COMMON}#/$defs/user_name"}}}

    def resolve(self, subject: Subject) -> list[str]:
        return [self.value] if directory.is_active(subject.ctx.conn, self.value) else []


class RoleRecipient(Recipient):
    """`{"role": ROLE}`: every active user holding the role."""

    name = "role"
    schema = {"type": "object", "required": ["role"],
              "properties": {"role": {"$ref": f"{_COMMON}#/$defs/api_name"}}}

    def resolve(self, subject: Subject) -> list[str]:
        return directory.role_members(subject.ctx.conn, self.value)


class FieldRecipient(Recipient):
    """`{"field": USER_FIELD}`: the user held in a user field (`owner` included)."""

    name = "field"
    schema = {"type": "object", "required": ["field"],
              "properties": {"field": {"$ref": f"{_COMMON}#/$defs/api_name"}}}

    def resolve(self, subject: Subject) -> list[str]:
        user = subject.values.get(self.value)
        return [user] if isinstance(user, str) and directory.is_active(subject.ctx.conn, user) \
            else []


class ManagerOfRecipient(Recipient):
    """`{"manager_of": USER_FIELD}`: the manager of the user held in a user field."""

    name = "manager_of"
    schema = {"type": "object", "required": ["manager_of"],
              "properties": {"manager_of": {"$ref": f"{_COMMON}#/$defs/api_name"}}}

    def resolve(self, subject: Subject) -> list[str]:
        manager = directory.manager_of(subject.ctx.conn, subject.values.get(self.value))
        return [manager] if manager else []

    def describe(self) -> str:
        return f"the manager of {self.value}"


KINDS: dict[str, type[Recipient]] = {
    cls.name: cls for cls in (UserRecipient, RoleRecipient, FieldRecipient, ManagerOfRecipient)}


def recipient(kind: str, value: str) -> Recipient:
    return KINDS[kind](value)


def from_json(raw: Mapping[str, Any]) -> Recipient:
    ((kind, value),) = raw.items()
    return recipient(kind, value)


def resolve_all(people: list[Recipient], subject: Subject) -> list[str]:
    """Everyone named by any of `people`, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for person in people:
        for name in person.resolve(subject):
            seen.setdefault(name, None)
    return list(seen)
