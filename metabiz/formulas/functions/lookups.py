"""VLOOKUP(object.field, object.key_field, key): a field of another object's record, found by
its key field. The checker resolves both references through the catalog.

Python reads through `EvalContext.lookup` (given by the objects layer); SQL through a
correlated subquery over `compile_sql(..., resolve_object=...)`. When several records hold
the key, both take the one with the lowest id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from metabiz.errors import FormulaError
from metabiz.formulas.ftypes import Catalog, FType, unify
from metabiz.formulas.functions.registry import (
    Resolved,
    SqlCall,
    arg_error,
    node_error,
    register,
)
from metabiz.formulas.functions.sql_support import correlated, field_value
from metabiz.formulas.nodes import Call, Constant, Expr, FieldRef
from metabiz.formulas.values import is_blank, normaliser


def _target(node: Call, index: int, catalog: Catalog, what: str) -> Constant:
    arg = node.args[index]
    if not isinstance(arg, FieldRef) or len(arg.path) != 2:
        raise node_error(arg, f"argument {index + 1} of VLOOKUP must be {what} of another "
                              "object, written object.field")
    object_name, field_name = arg.path
    spec = catalog.field(object_name, field_name)
    if spec is None:
        if catalog.field(object_name, "id") is None:
            raise node_error(arg, f"unknown object {object_name!r}")
        raise node_error(arg, f"unknown field {field_name!r} on {object_name}")
    return Constant(arg.span, arg.path, ".".join(arg.path), ftype=spec.type)


def _resolve(node: Call, catalog: Catalog) -> Resolved:
    wanted = _target(node, 0, catalog, "the field to read")
    key = _target(node, 1, catalog, "the key field")
    if wanted.value[0] != key.value[0]:
        raise node_error(node.args[1], f"the key field must be on {wanted.value[0]}, the object "
                                       "VLOOKUP reads")
    return Resolved({0: wanted, 1: key}, ((*wanted.value, key.value[1]),))


def _type(types: Sequence[FType], node: Call) -> FType:
    if unify(types[1], types[2]) is None:
        raise arg_error(node, 2, frozenset({types[1]}), types[2])
    return types[0]


def _paths(node: Call) -> tuple[tuple[str, str], str, Expr]:
    wanted, key = node.args[0], node.args[1]
    assert isinstance(wanted, Constant) and isinstance(key, Constant)
    return wanted.value, key.value[1], wanted


def _vlookup(ctx: Any, args: Sequence[Any], node: Call) -> Any:
    key = args[2](ctx)
    if is_blank(key):
        return None
    (object_name, field_name), key_field, wanted = _paths(node)
    return normaliser(wanted.ftype)(ctx.lookup(object_name, field_name, key_field, key))


def _vlookup_sql(c: SqlCall) -> Any:
    if c.resolve_object is None:
        raise FormulaError("VLOOKUP cannot run in the database here (no access to other "
                           "objects' tables)", kind="sql")
    (object_name, field_name), key_field, wanted = _paths(c.node)
    columns = c.resolve_object(object_name)
    value = field_value(columns((field_name,)), wanted.ftype, c.dialect)
    key = field_value(columns((key_field,)), c.types[1], c.dialect)
    return select(value).where(key == correlated(c.args[2])).order_by(columns(("id",))) \
        .limit(1).scalar_subquery()


register("VLOOKUP", 3, 3, _type, _vlookup, _vlookup_sql, lazy=True, resolve=_resolve,
         summary="VLOOKUP(object.field, object.key_field, key): the field of the "
                 "object's record whose key field equals key")
