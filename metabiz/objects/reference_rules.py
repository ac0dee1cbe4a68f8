"""Which records a lookup may hold (`match`) and which users a user field may hold (`roles`).

Checked on every save by the record service and applied to the form's type-ahead and user
picker, so a form offers exactly what a save accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from metabiz.formulas.values import format_number
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.platform.db import user_roles, users

#: (record, prior record or None, changed field names), as the record service checks them
Item = tuple[dict[str, Any], Mapping[str, Any] | None, set[str]]
Errors = dict[int, dict[str, list[str]]]


def check(ctx: Context, obj: CompiledObject, items: Sequence[Item],
          fetch: Any, errors: Errors) -> None:
    """Adds an error for each lookup whose record does not match and each user field whose
    user lacks the roles. `fetch(obj, id)` loads a target record (formulas computed)."""
    for cf in obj.fields.values():
        if cf.fdef.match and cf.fdef.target:
            _check_match(ctx, obj, cf, items, fetch, errors)
        elif cf.fdef.type == "user" and cf.fdef.roles:
            _check_roles(ctx, cf, items, errors)


def _check_match(ctx: Context, obj: CompiledObject, cf: CompiledField, items: Sequence[Item],
                 fetch: Any, errors: Errors) -> None:
    target = ctx.schema.object(cf.fdef.target or "")
    # a matched field of this record changing re-checks the lookup (a new customer)
    watched = {cf.name} | {mine for _, mine in cf.fdef.match if isinstance(mine, str)}
    for index, (record, _, changed) in enumerate(items):
        value = record.get(cf.name)
        if value is None or not (watched & changed) or cf.name in errors.get(index, {}):
            continue
        chosen = fetch(target, value)
        if chosen is None:
            continue  # reported as a missing record already
        for their, mine in cf.fdef.match:
            wanted = mine if isinstance(mine, bool) else record.get(mine)
            if chosen.get(their) != wanted:
                errors.setdefault(index, {}).setdefault(cf.name, []).append(
                    _mismatch(ctx, obj, cf, target, their, mine))


def _mismatch(ctx: Context, obj: CompiledObject, cf: CompiledField, target: CompiledObject,
              their: str, mine: str | bool) -> str:
    lang = ctx.language
    what = target.odef.label.get(lang)
    their_label = target.fields[their].fdef.label.get(lang) if their in target.fields else their
    if isinstance(mine, bool):
        if lang == "zh":
            return f"所选{what}的“{their_label}”必须为{'是' if mine else '否'}"
        return f"the chosen {what.lower()} must be {their_label.lower() if mine else 'not ' + their_label.lower()}"
    mine_label = obj.fields[mine].fdef.label.get(lang) if mine in obj.fields else mine
    if lang == "zh":
        return f"所选{what}的“{their_label}”必须与本记录的“{mine_label}”一致"
    return (f"the chosen {what.lower()}'s {their_label.lower()} must be this record's "
            f"{mine_label.lower()}")


def _check_roles(ctx: Context, cf: CompiledField, items: Sequence[Item],
                 errors: Errors) -> None:
    wanted = {record[cf.name] for record, _, changed in items
              if cf.name in changed and record.get(cf.name) is not None}
    if not wanted:
        return
    holding = set(ctx.conn.execute(
        select(user_roles.c.user_name).where(user_roles.c.user_name.in_(sorted(wanted)),
                                             user_roles.c.role.in_(cf.fdef.roles))).scalars())
    for index, (record, _, changed) in enumerate(items):
        value = record.get(cf.name)
        if cf.name in changed and value is not None and value not in holding:
            roles = ", ".join(_role_label(ctx, r) for r in cf.fdef.roles)
            message = (f"{value} 不具备所需角色（{roles}）" if ctx.language == "zh" else
                       f"{value} does not hold the role {roles}")
            errors.setdefault(index, {}).setdefault(cf.name, []).append(message)


def _role_label(ctx: Context, role: str) -> str:
    rdef = ctx.schema.bundle.role(role)
    return rdef.label.get(ctx.language) if rdef is not None else role


# -- what a form offers -----------------------------------------------------------------


def match_filter(obj: CompiledObject, cf: CompiledField,
                 values: Mapping[str, Any]) -> str | None:
    """A formula on the lookup's target giving the records `cf` may hold, given this record's
    `values` (as posted by the form: text); None when the lookup has no `match`."""
    if not cf.fdef.match:
        return None
    terms = []
    for their, mine in cf.fdef.match:
        if isinstance(mine, bool):
            terms.append(their if mine else f"NOT({their})")
            continue
        if mine not in values:
            continue  # not on the form (read-only for the role): the save checks it
        raw = values.get(mine)
        text = "" if raw is None else str(raw).strip()
        mine_field = obj.fields.get(mine)
        if not text:
            terms.append(f"ISBLANK({their})")
        elif mine_field is not None and mine_field.fdef.type in ("lookup", "master_detail"):
            terms.append(f"{their} = {int(text)}" if text.isdigit() else "FALSE")
        elif isinstance(raw, int | Decimal):
            terms.append(f"{their} = {format_number(Decimal(raw))}")
        else:
            literal = text.replace("\\", "\\\\").replace('"', '\\"')
            terms.append(f'{their} = "{literal}"')
    return " && ".join(terms) or None


def allowed_users(ctx: Context, fdef: Any) -> list[str]:
    """The active users a user field may hold, by name (all of them without `roles`)."""
    query = select(users.c.name).where(users.c.active.is_(True), users.c.name != "system")
    if fdef is not None and fdef.roles:
        query = query.where(users.c.name.in_(
            select(user_roles.c.user_name).where(user_roles.c.role.in_(fdef.roles))))
    return sorted(ctx.conn.execute(query).scalars())
