"""JSON Schema validation of metadata documents, and its errors phrased for whoever edits them.

The kernel's schemas live in `schemas/`; a document kind added by a higher package brings its
own schema folder, whose `$ref`s resolve against the kernel's (`common.json`) and its own.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from metabiz.platform.metadata.problems import JsonPath, quoted, unknown_key

SCHEMA_DIR = Path(__file__).with_name("schemas")


def _one_key_of(validator: Any, keys: list[str], instance: Any,
                schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """metabiz's own keyword: exactly one of `keys` is present (a message users can read)."""
    if not validator.is_type(instance, "object"):
        return
    present = [k for k in keys if k in instance]
    if len(present) > 1:
        yield ValidationError(f"{quoted(present, 'and')} cannot be combined: "
                              f"use one of {quoted(keys)}")
    elif not present and not set(instance) - set(schema.get("properties", {})):
        # unknown keys are reported by additionalProperties, with a suggestion
        yield ValidationError(f"expected one of {quoted(keys)}")


_Validator = validators.extend(Draft202012Validator, {"oneKeyOf": _one_key_of})


def _read_schemas(folder: Path) -> dict[str, dict[str, Any]]:
    """The schema files of `folder` by name, without `$schema`: all are draft 2020-12, and a
    `$schema` would make jsonschema switch to its stock validator class (without `oneKeyOf`)."""
    schemas = {}
    for path in sorted(folder.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schema.pop("$schema", None)
        schemas[path.stem] = schema
    return schemas


@functools.cache
def kernel_schemas() -> dict[str, dict[str, Any]]:
    """The kernel's schemas by name: app, object, role, data, users and the shared common."""
    return _read_schemas(SCHEMA_DIR)


def _registry(schemas: Iterable[dict[str, Any]]) -> Registry:
    """Every schema under its `$id`, so `$ref`s between files resolve."""
    return Registry().with_resources(  # type: ignore[no-any-return]
        (s["$id"], DRAFT202012.create_resource(s)) for s in schemas)


@functools.cache
def kernel_validator(kind: str) -> Any:
    """The validator of a kernel document kind (`object`, `role`, …)."""
    schemas = kernel_schemas()
    return _Validator(schemas[kind], registry=_registry(schemas.values()))


@functools.cache
def kind_validator(schema: Path) -> Any:
    """The validator of a higher package's kind: its schema file, which may `$ref` the files
    beside it and the kernel's schemas."""
    kernel = kernel_schemas()
    own = _read_schemas(schema.parent)
    taken = {s["$id"] for s in kernel.values()}
    clashes = sorted(s["$id"] for s in own.values() if s["$id"] in taken)
    if clashes:
        raise ValueError(f"{schema.parent}: schema ids {clashes} are the kernel's")
    registry = _registry([*kernel.values(), *own.values()])
    return _Validator(own[schema.stem], registry=registry)


@functools.cache
def field_type_keys() -> dict[str, frozenset[str]]:
    """Every field type → the keys a field of that type may have (read from object.json)."""
    spec = kernel_schemas()["object"]["$defs"]["field"]
    common = set(spec["properties"])
    keys = {t: set(common) for t in spec["properties"]["type"]["enum"]}
    for branch in spec["allOf"]:
        cond = branch["if"]["properties"]["type"]
        for t in cond.get("enum") or [cond["const"]]:
            keys[t] |= set(branch["then"]["properties"])
    return {t: frozenset(k) for t, k in keys.items()}


def explain(err: ValidationError) -> Iterator[tuple[JsonPath, str]]:
    """One jsonschema error as (path, message) pairs, phrased for whoever edits the file."""
    if err.context:  # anyOf / oneOf: the alternative that came closest says the most
        yield from explain(best_match(err.context))
        return
    path: JsonPath = tuple(err.absolute_path)
    instance, schema = err.instance, err.schema
    if err.validator == "additionalProperties":
        allowed = set(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield path + (key,), unknown_key(key, allowed)
    elif err.validator == "unevaluatedProperties" and schema.get("title") == "field":
        keys = field_type_keys()
        ftype = instance.get("type")
        if not isinstance(ftype, str) or ftype not in keys:
            return  # the bad or missing `type` is the problem to report
        every_key = frozenset().union(*keys.values())
        for key in instance:
            if key in keys[ftype]:
                continue
            if key in every_key:
                yield path + (key,), f"{key!r} does not apply to a {ftype} field"
            else:
                yield path + (key,), unknown_key(key, keys[ftype])
    elif err.validator == "pattern" and "title" in schema:
        about = f": {schema['description']}" if "description" in schema else ""
        yield path, f"{instance!r} is not a valid {schema['title']}{about}"
    elif err.validator == "dependentRequired":
        for key, needs in err.validator_value.items():
            missing = [n for n in needs if key in instance and n not in instance]
            if missing:
                yield path, f"{key!r} needs {quoted(missing, 'and')}"
    else:
        yield path, err.message


def schema_problems(validator: Any, content: Any) -> list[tuple[JsonPath, str]]:
    """Every way `content` breaks the validator's schema, as (path, message) pairs."""
    found: list[tuple[JsonPath, str]] = []
    for err in validator.iter_errors(content):
        found.extend(explain(err))
    return found
