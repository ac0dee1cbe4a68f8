"""The formula editor's live check: the result type, or the error with line, column and
caret, and a preview of the value on a few real records.

Runs the same checker and Python back end as the runtime, against the applied schema, as
the signed-in user (hidden fields refused, lookups followed only to records they may read).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from metabiz.errors import BadRequest, FormulaError
from metabiz.formulas import FType, check, compile_python, to_json_value
from metabiz.formulas.checker import CONTEXTS
from metabiz.objects import records
from metabiz.objects.context import Context
from metabiz.objects.fields.formula import RETURN_TYPES
from metabiz.objects.query import scope
from metabiz.objects.schema import CompiledObject

#: how many records the preview evaluates the formula on
PREVIEW_RECORDS = 5

#: what `return_type` may name: a formula field's return types and the formula types
EXPECTED: dict[str, FType] = {**{t.value: t for t in FType if t not in
                                 (FType.NULL, FType.CALENDAR)}, **RETURN_TYPES}


def _text(body: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be a string", fields={key: ["a text is required"]})
    return value


def check_formula(ctx: Context, body: dict[str, Any]) -> dict[str, Any]:
    """`{"type", "preview"?}` or `{"errors": [{"line", "column", "message", "caret"}]}`."""
    source = _text(body, "formula", required=True) or ""
    object_name = _text(body, "object")
    context = _text(body, "context") or "field"
    if context not in CONTEXTS:
        raise BadRequest(f"context: one of {', '.join(CONTEXTS)}",
                         fields={"context": ["unknown context"]})
    wanted = _text(body, "return_type")
    if wanted is not None and wanted not in EXPECTED:
        raise BadRequest(f"return_type: unknown type {wanted!r}",
                         fields={"return_type": [f"one of {', '.join(sorted(EXPECTED))}"]})
    obj = ctx.schema.object(object_name) if object_name else None
    if obj is not None:
        ctx.schema.access.require(ctx.actor, obj.name, "read")
    if not source.strip():
        return {"errors": [{"line": 1, "column": 1, "message": "the formula is empty",
                            "caret": "^", "source": ""}]}
    try:
        checked = check(source, ctx.schema.catalog, obj.name if obj else "", context=context,
                        expected=EXPECTED[wanted] if wanted else None)
        if obj is not None:
            ctx.schema.access.refuse_hidden(ctx.actor, obj.name,
                                            ctx.schema._dependencies(obj.name, checked))
    except FormulaError as err:
        return {"errors": [{"line": err.line, "column": err.column, "message": err.message,
                            "caret": err.caret(), "kind": err.kind}]}
    result: dict[str, Any] = {"type": checked.type.value}
    if obj is not None and body.get("preview", True) is not False:
        result["preview"] = preview(ctx, obj, checked)
    return result


def preview(ctx: Context, obj: CompiledObject, checked: Any) -> list[dict[str, Any]]:
    """The formula's value on the newest records the user may read (an evaluation error,
    such as a division by zero, is shown for that record)."""
    run = compile_python(checked)
    resolver = records.Resolver(ctx, scoped=True)
    rows = ctx.conn.execute(select(obj.table).where(*scope(ctx, obj))
                            .order_by(obj.table.c.id.desc()).limit(PREVIEW_RECORDS)).mappings()
    out = []
    name_field = obj.odef.name_field or "id"
    for row in rows:
        values = records.compute(ctx, obj, obj.decode(row), resolver)
        item: dict[str, Any] = {"id": values["id"],
                                "name": str(values.get(name_field) or f"#{values['id']}")}
        try:
            value = run(resolver.context(obj, values))
            item["value"] = to_json_value(value, checked.type)
        except FormulaError as err:
            item["error"] = err.message
        out.append(item)
    return out
