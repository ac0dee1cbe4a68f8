"""Defaults that follow lookups, in forms: choosing a product on a new quote line fills in
the unit price its default formula reads from the product, as the API does on save.

The form's script posts the form here when a lookup changes; the answer is the input value
of every field whose default reads through a lookup, and the script fills in those the
user has not typed into.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from metabiz.errors import MetabizError
from metabiz.formulas import check
from metabiz.objects import forms
from metabiz.objects.api import evaluate
from metabiz.objects.context import Context
from metabiz.objects.schema import CompiledField, CompiledObject
from metabiz.objects.web.blueprint import web
from metabiz.objects.web.detail import editable
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor
from metabiz.platform.request_input import whole_number
from metabiz.platform.web.session import login_required


def lookup_defaults(ctx: Context, obj: CompiledObject) -> list[CompiledField]:
    """The editable fields whose default formula reads a field through a lookup."""
    out = []
    for name, cf in obj.fields.items():
        if not cf.fdef.default or not editable(ctx, obj, name):
            continue
        try:
            checked = check(cf.fdef.default, ctx.schema.catalog, obj.name, context="condition")
        except MetabizError:
            continue
        if any(not node.startswith(f"{obj.name}.")
               for node in ctx.schema._dependencies(obj.name, checked)):
            out.append(cf)
    return out


@web.post("/o/<object_name>/defaults")
@login_required
def form_defaults(actor: Actor, object_name: str) -> Any:
    """`{field: input value}` of the lookup-following defaults for the posted form."""
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "create")
        chosen = {name: key for name, cf in obj.fields.items()
                  if cf.ftype.widget == "lookup" and editable(ctx, obj, name)
                  and (key := whole_number(request.form.get(name, "").strip())) is not None}
        out: dict[str, Any] = {}
        for cf in lookup_defaults(ctx, obj):
            try:
                result = evaluate(ctx, obj, cf.fdef.default or "", chosen)
            except MetabizError:
                continue  # a default that cannot run here is left to the save
            out[cf.name] = forms.to_input(cf, result["value"], ctx.zone) \
                if result["value"] is not None else ""
    return jsonify(out)
