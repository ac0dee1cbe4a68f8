"""Cells that name another record or a user, resolved a batch at a time (one query per column).

A lookup cell may hold the target's name field, one of its unique fields, or its id (tried in
that order); a user cell (and `owner`) the user's name or display name. A name shared by
several records is refused rather than guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select

from metabiz.objects import record_scope
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledObject
from metabiz.platform.db import users

_CHUNK = 500
#: how many distinct cell texts `value` remembers as they were typed
_REMEMBERED = 50_000


class References:
    """Resolves the texts of one import's reference columns, remembering what it found."""

    def __init__(self, ctx: Context, obj: CompiledObject) -> None:
        self.ctx = ctx
        self.obj = obj
        #: (target or "" for users, folded text) → value, or an error message (str in a tuple)
        self.known: dict[tuple[str, str], Any] = {}
        #: (target, the cell's text as it is) → what `known` holds for it (cells repeat)
        self.as_typed: dict[tuple[str, str], Any] = {}

    def target_of(self, name: str) -> str:
        """"" for user columns (and the owner), else the lookup's target object."""
        if name == "owner":
            return ""
        cf = self.obj.fields[name]
        return "" if cf.fdef.type == "user" else str(cf.fdef.target)

    def resolve(self, target: str, texts: Iterable[str]) -> None:
        """Look up every text of `target` not seen before."""
        wanted = {" ".join(t.split()) for t in texts} - {""}
        wanted = {t for t in wanted if (target, t.casefold()) not in self.known}
        if not wanted:
            return
        if target:
            self._records(target, wanted)
        else:
            self._users(wanted)

    def value(self, target: str, text: str) -> Any:
        """The id (or user name) the text names (`resolve`d before); ValueError with the
        reason otherwise."""
        typed = (target, text)
        found = self.as_typed.get(typed, self)  # `self`: not asked before
        if found is self:
            found = self.known.get((target, " ".join(text.split()).casefold()))
            if len(self.as_typed) < _REMEMBERED:
                self.as_typed[typed] = found
        if isinstance(found, tuple):
            raise ValueError(found[0])
        if found is None:
            raise ValueError(f"no user named {text!r}" if not target else
                             f"no {target} record named {text!r}")
        return found

    def _users(self, wanted: set[str]) -> None:
        folded = {t.casefold(): t for t in wanted}
        exact: dict[str, str] = {}
        by_display: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(folded)):
            rows = self.ctx.conn.execute(
                select(users.c.name, users.c.display_name).where(
                    users.c.active.is_(True),
                    or_(func.lower(users.c.name).in_(chunk),
                        func.lower(users.c.display_name).in_(chunk))))
            for name, display in rows:
                if name.casefold() in folded:
                    exact[name.casefold()] = name
                if display and display.casefold() in folded:
                    by_display.setdefault(display.casefold(), set()).add(name)
        for key, text in folded.items():
            names = by_display.get(key, set())
            if key in exact:  # a user name wins over display names that happen to match
                self.known[("", key)] = exact[key]
            elif len(names) == 1:
                self.known[("", key)] = next(iter(names))
            elif names:
                self.known[("", key)] = (f"{len(names)} users are called {text!r}: "
                                         "use the user name",)

    def _records(self, target: str, wanted: set[str]) -> None:
        obj = self.ctx.schema.object(target)
        table = obj.table
        # the records a lookup may point to: the record service's own scope
        scope = record_scope.conditions(self.ctx.schema, self.ctx.actor, obj, reading=False)
        folded = {t.casefold(): t for t in wanted}
        keys = [cf.name for cf in obj.fields.values() if cf.ftype.stored and
                cf.fdef.type in ("text", "email", "phone", "url", "auto_number") and
                (cf.name == obj.odef.name_field or cf.fdef.unique)]
        # name → ids, per key column, in the order the columns are tried
        found: dict[str, dict[str, set[int]]] = {key: {} for key in keys}
        for key in keys:
            column = table.c[key]
            for chunk in _chunks(sorted(folded)):
                rows = self.ctx.conn.execute(
                    select(table.c.id, column).where(func.lower(column).in_(chunk), *scope))
                for record_id, value in rows:
                    found[key].setdefault(str(value).casefold(), set()).add(int(record_id))
        numbers = {int(t.lstrip("#")) for t in wanted if t.lstrip("#").isdigit()
                   and len(t) < 19}
        ids: set[int] = set()
        for chunk in _chunks(sorted(numbers)):
            ids.update(int(i) for i in self.ctx.conn.execute(
                select(table.c.id).where(table.c.id.in_(chunk), *scope)).scalars())
        for key, text in folded.items():
            self.known[(target, key)] = self._choose(obj, key, text, keys, found, ids)

    def _choose(self, obj: CompiledObject, key: str, text: str, keys: list[str],
                found: dict[str, dict[str, set[int]]], ids: set[int]) -> Any:
        for column in keys:
            matches = found[column].get(key, set())
            if len(matches) == 1:
                return next(iter(matches))
            if matches:
                return (f"{len(matches)} {obj.name} records have {column} {text!r}: use the id "
                        "or a unique field",)
        number = text.lstrip("#")
        if number.isdigit() and len(number) < 19 and int(number) in ids:
            return int(number)
        return None


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]
