"""Logical functions: IF IFS CASE AND OR NOT ISBLANK ISNULL BLANKVALUE NULLVALUE ISPICKVAL
INCLUDES ISNEW ISCHANGED PRIORVALUE. A blank condition counts as false.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, false, func, literal, or_

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import UNCOMPARABLE, FType, unify
from metabiz.formulas.functions.registry import (
    BOOL,
    TEXT,
    SqlCall,
    arg_error,
    expect,
    register,
)
from metabiz.formulas.functions.sql_support import equal, negate, position, truthy
from metabiz.formulas.nodes import Call, FieldRef
from metabiz.formulas.values import is_blank, normaliser


def _branches(node: Call, types: Sequence[FType], indexes: Sequence[int]) -> FType:
    result = FType.NULL
    for i in indexes:
        merged = unify(result, types[i])
        if merged is None:
            raise FormulaError(f"{node.name} results must all have the same type: "
                               f"{result.label} and {types[i].label}", kind="check",
                               line=node.args[i].span.line, column=node.args[i].span.column)
        result = merged
    return result


# -- IF -----------------------------------------------------------------------------------

def _if_type(types: Sequence[FType], node: Call) -> FType:
    expect(node, types, 0, BOOL)
    return _branches(node, types, (1, 2))


def _if(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    return args[1](ctx) if args[0](ctx) is True else args[2](ctx)


def _if_sql(c: SqlCall) -> Any:
    return case((truthy(c.args[0], c.never_null), c.args[1]), else_=c.args[2])


register("IF", 3, 3, _if_type, _if, _if_sql, lazy=True,
         summary="IF(test, value_if_true, value_if_false)")


# -- CASE ---------------------------------------------------------------------------------

def _case_type(types: Sequence[FType], node: Call) -> FType:
    if len(types) % 2 != 0:
        raise FormulaError("CASE takes an expression, pairs of value and result, and an else "
                           f"result (an even number of arguments), got {len(types)}",
                           kind="check", line=node.span.line, column=node.span.column)
    subject = types[0]
    if subject in UNCOMPARABLE:
        raise arg_error(node, 0, frozenset(FType) - UNCOMPARABLE - {FType.NULL}, subject)
    for i in range(1, len(types) - 1, 2):
        if unify(subject, types[i]) is None:
            raise arg_error(node, i, frozenset({subject}), types[i])
    return _branches(node, types, [*range(2, len(types) - 1, 2), len(types) - 1])


def _case(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    subject = args[0](ctx)
    for i in range(1, len(args) - 1, 2):
        if _equal(subject, args[i](ctx)):
            return args[i + 1](ctx)
    return args[-1](ctx)


def _case_sql(c: SqlCall) -> Any:
    subject, kind = c.args[0], c.types[0]
    whens = [(equal(subject, c.args[i], kind, c.types[i], c.never_null), c.args[i + 1])
             for i in range(1, len(c.args) - 1, 2)]
    return case(*whens, else_=c.args[-1])


register("CASE", 4, None, _case_type, _case, _case_sql, lazy=True,
         summary="CASE(expression, value1, result1, ..., else_result)")


def _equal(a: Any, b: Any) -> bool:
    if is_blank(a) or is_blank(b):
        return is_blank(a) and is_blank(b)
    return bool(a == b)


# -- IFS ----------------------------------------------------------------------------------

def _ifs_type(types: Sequence[FType], node: Call) -> FType:
    if len(types) % 2 != 0:
        raise FormulaError("IFS takes pairs of test and value (an even number of arguments), "
                           f"got {len(types)}", kind="check", line=node.span.line,
                           column=node.span.column)
    for i in range(0, len(types), 2):
        expect(node, types, i, BOOL)
    return _branches(node, types, range(1, len(types), 2))


def _ifs(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    for i in range(0, len(args), 2):
        if args[i](ctx) is True:
            return args[i + 1](ctx)
    return None


def _ifs_sql(c: SqlCall) -> Any:
    return case(*((truthy(c.args[i], c.never_null), c.args[i + 1])
                  for i in range(0, len(c.args), 2)), else_=None)


register("IFS", 2, None, _ifs_type, _ifs, _ifs_sql, lazy=True,
         summary="IFS(test1, value1, test2, value2, ...): the value of the first true test")


# -- AND OR NOT ---------------------------------------------------------------------------

def _all_boolean(types: Sequence[FType], node: Call) -> FType:
    for i in range(len(types)):
        expect(node, types, i, BOOL)
    return FType.BOOLEAN


def _and(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    return all(a(ctx) is True for a in args)


def _or(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    return any(a(ctx) is True for a in args)


register("AND", 1, None, _all_boolean, _and,
         lambda c: and_(*(truthy(a, c.never_null) for a in c.args)),
         lazy=True, summary="AND(test1, test2, ...): true when all are true")
register("OR", 1, None, _all_boolean, _or,
         lambda c: or_(*(truthy(a, c.never_null) for a in c.args)),
         lazy=True, summary="OR(test1, test2, ...): true when any is true")
register("NOT", 1, 1, _all_boolean, lambda v: v is not True,
         lambda c: negate(truthy(c.args[0], c.never_null), c.never_null), summary="NOT(test)")


# -- blanks -------------------------------------------------------------------------------

def _blank_sql(c: SqlCall) -> Any:
    value = c.args[0]
    if c.types[0] in (FType.TEXT, FType.PICKLIST, FType.MULTI_PICKLIST):
        return func.coalesce(value, literal("")) == literal("")
    return value.is_(None)


register("ISBLANK", 1, 1, lambda types, node: FType.BOOLEAN, is_blank, _blank_sql,
         summary="ISBLANK(value): true for blank (empty text counts as blank)")


def _isnull(value: Any) -> bool:
    return value is None or value == ()


def _isnull_sql(c: SqlCall) -> Any:
    if c.types[0] in (FType.TEXT, FType.PICKLIST):
        return false()
    if c.types[0] is FType.MULTI_PICKLIST:
        return func.coalesce(c.args[0], literal("")) == literal("")
    return c.args[0].is_(None)


def _isnull_type(types: Sequence[FType], node: Call) -> FType:
    return FType.BOOLEAN


def _isnull_lazy(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    # as in Salesforce, text (and a picklist) is never null: use ISBLANK for text
    if node.args[0].ftype in (FType.TEXT, FType.PICKLIST):
        return False
    return _isnull(args[0](ctx))


register("ISNULL", 1, 1, _isnull_type, _isnull_lazy, _isnull_sql, lazy=True,
         summary="ISNULL(value): true for a blank value; always false for text (use ISBLANK)")


def _blank_value_type(types: Sequence[FType], node: Call) -> FType:
    return _branches(node, types, (0, 1))


def _blank_value(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    value = args[0](ctx)
    return args[1](ctx) if is_blank(value) else value


def _blank_value_sql(c: SqlCall) -> Any:
    value = c.args[0]
    if c.types[0] in (FType.TEXT, FType.PICKLIST):
        value = func.nullif(value, literal(""))
    return func.coalesce(value, c.args[1])


register("BLANKVALUE", 2, 2, _blank_value_type, _blank_value, _blank_value_sql, lazy=True,
         summary="BLANKVALUE(value, substitute)")
register("NULLVALUE", 2, 2, _blank_value_type, _blank_value, _blank_value_sql, lazy=True,
         summary="NULLVALUE(value, substitute): same as BLANKVALUE")


# -- picklists ----------------------------------------------------------------------------

def _ispickval_type(types: Sequence[FType], node: Call) -> FType:
    if types[0] not in (FType.PICKLIST, FType.NULL):
        raise arg_error(node, 0, frozenset({FType.PICKLIST}), types[0])
    expect(node, types, 1, TEXT)
    return FType.BOOLEAN


register("ISPICKVAL", 2, 2, _ispickval_type, lambda v, t: _equal(v, t),
         lambda c: func.coalesce(c.args[0], literal("")) == func.coalesce(c.args[1], literal("")),
         summary='ISPICKVAL(picklist_field, "value")')


def _includes_type(types: Sequence[FType], node: Call) -> FType:
    if types[0] not in (FType.MULTI_PICKLIST, FType.NULL):
        raise arg_error(node, 0, frozenset({FType.MULTI_PICKLIST}), types[0])
    expect(node, types, 1, TEXT)
    return FType.BOOLEAN


def _includes(values: Any, wanted: Any) -> bool:
    return bool(values) and wanted in values


def _includes_sql(c: SqlCall) -> Any:
    # stored as "a;b;c": find ";value;" in ";a;b;c;" (a value never holds the separator)
    values, wanted = c.args[0], c.args[1]
    separator = literal(";")
    found = position(separator.concat(wanted).concat(separator),
                     separator.concat(values).concat(separator), c.dialect)
    return and_(truthy(found > 0, c.never_null), func.coalesce(wanted, literal("")) != literal(""),
                position(literal(";"), wanted, c.dialect) == 0)


register("INCLUDES", 2, 2, _includes_type, _includes, _includes_sql,
         summary='INCLUDES(multi_picklist_field, "value")')


# -- prior values (validation rules, automation and flow conditions) ----------------------

def _field_arg(types: Sequence[FType], node: Call) -> FType:
    arg = node.args[0]
    if not isinstance(arg, FieldRef) or len(arg.path) != 1:
        raise FormulaError(f"{node.name} takes a field of this object", kind="check",
                           line=arg.span.line, column=arg.span.column)
    return types[0]


def _ischanged(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    if ctx.prior is None:
        return False
    return not _equal(_priorvalue(ctx, args, node), args[0](ctx))


def _priorvalue(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    if ctx.prior is None:
        return None
    field = node.args[0]
    return normaliser(field.ftype)(ctx.prior.get(field.path[0]))  # type: ignore[attr-defined]


register("ISNEW", 0, 0, lambda types, node: FType.BOOLEAN,
         lambda ctx, args, node: ctx.is_new_record(), lazy=True, needs_prior=True,
         summary="ISNEW(): true while the record is being created")
register("ISCHANGED", 1, 1, lambda types, node: (_field_arg(types, node), FType.BOOLEAN)[1],
         _ischanged, lazy=True, needs_prior=True,
         summary="ISCHANGED(field): true when this save changes the field")
register("PRIORVALUE", 1, 1, _field_arg, _priorvalue, lazy=True, needs_prior=True,
         summary="PRIORVALUE(field): the value before this save")

