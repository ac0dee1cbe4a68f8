"""The objects package's commands: apply, versions, restore, losses, purge, recompute,
formula check/eval and template install/export/list.

Each gets a CliEnv from the kernel's `command` decorator and works through the runtime the
composition root built, so apply runs every registered metadata check.
"""

from __future__ import annotations

import json
from typing import Any

import click

from metabiz.errors import MetadataError, NotFound
from metabiz.formulas import (
    DictCatalog,
    EvalContext,
    check,
    compile_python,
    from_json_value,
    to_json_value,
)
from metabiz.objects import rollups
from metabiz.objects.evolution import apply_path
from metabiz.objects.evolution import purge as do_purge
from metabiz.objects.evolution import restore as do_restore
from metabiz.objects.installer import bundled_templates, export, install
from metabiz.objects.records import Resolver
from metabiz.platform.access import SYSTEM
from metabiz.platform.cli import CliEnv, command
from metabiz.platform.db import writer
from metabiz.platform.metadata.store import list_losses, list_versions, version_record


@command(name="apply")
@click.argument("path", type=click.Path(exists=True))
@click.option("--dry-run", is_flag=True, help="print the plan, change nothing")
@click.option("--convert-failures", type=click.Choice(["blank"]), default=None,
              help="blank the values that cannot be converted instead of refusing")
def apply(env: CliEnv, path: str, dry_run: bool, convert_failures: str | None) -> None:
    """Validate and apply a metadata folder or one JSON file."""
    plan = apply_path(env.engine(), path, dry_run=dry_run, convert_failures=convert_failures,
                      applied_by="cli", extensions=env.extensions)
    click.echo(plan.render())


@command(name="versions")
@click.argument("action", required=False, type=click.Choice(["show"]))
@click.argument("number", required=False, type=int)
def versions(env: CliEnv, action: str | None, number: int | None) -> None:
    """List the applied metadata versions; `versions show N` prints one as JSON."""
    with env.engine().connect() as conn:
        if action == "show":
            if number is None:
                raise click.UsageError("versions show N: which version?")
            record = version_record(conn, number)
            if record is None:
                raise NotFound(f"no metadata version {number}")
            click.echo(json.dumps(record, ensure_ascii=False, indent=2, default=str))
            return
        for info in list_versions(conn):
            click.echo(f"{info.version:>4}  {info.applied_at:%Y-%m-%d %H:%M:%S}Z  "
                       f"{info.applied_by:<10}  {info.summary}")


@command(name="restore")
@click.argument("target")
def restore(env: CliEnv, target: str) -> None:
    """Bring back a removed OBJECT or OBJECT.FIELD with its data."""
    plan = do_restore(env.engine(), target, applied_by="cli",
                      extensions=env.extensions)
    click.echo(plan.render())


@command(name="losses")
@click.argument("target")
def losses(env: CliEnv, target: str) -> None:
    """List the values `apply --convert-failures=blank` blanked, of OBJECT or OBJECT.FIELD."""
    object_name, _, field_name = target.partition(".")
    with env.engine().connect() as conn:
        found = list_losses(conn, object_name, field_name or None)
    for loss in found:
        click.echo(f"v{loss.version}  {loss.object}.{loss.field}  id {loss.record_id}  "
                   f"{loss.old_type} {json.dumps(loss.old_value, ensure_ascii=False)}  "
                   f"({loss.reason})")
    if not found:
        click.echo(f"no blanked values of {target}")


@command(name="purge")
@click.argument("target")
@click.confirmation_option(prompt="This deletes the data for good. Continue?")
def purge(env: CliEnv, target: str) -> None:
    """Delete a removed OBJECT or OBJECT.FIELD and its data for good."""
    click.echo(do_purge(env.engine(), target, applied_by="cli").render())


@click.group()
def formula() -> None:
    """Check and evaluate formulas."""

def _schema(env: CliEnv) -> Any:
    return env.runtime().schema()


@command(name="recompute")
@click.argument("target", metavar="OBJECT.FIELD")
def recompute(env: CliEnv, target: str) -> None:
    """Rebuild a roll-up field's stored values for every record."""
    object_name, _, field_name = target.partition(".")
    runtime = env.runtime()
    with writer(runtime.engine).begin() as conn:
        schema = runtime.schema(conn)
        obj = schema.object(object_name)
        cf = obj.fields.get(field_name)
        if cf is None or cf.fdef.type != "rollup":
            raise click.UsageError(f"{target} is not a roll-up field")
        rollups.refresh_all(conn, schema, obj, cf)
    click.echo(f"recomputed {target}")


@command(formula, "check")
@click.argument("expr")
@click.option("--object", "object_name", required=True)
@click.option("--context", type=click.Choice(["field", "default", "validation", "condition",
                                              "filter"]), default="field")
def formula_check(env: CliEnv, expr: str, object_name: str, context: str) -> None:
    """Print the formula's result type, or its errors with a caret."""
    schema = _schema(env)
    schema.object(object_name)
    checked = check(expr, schema.catalog, object_name, context=context)
    click.echo(checked.type.value)


@command(formula, "eval")
@click.argument("expr")
@click.option("--object", "object_name", default=None)
@click.option("--record", "record_json", default=None, help="field values as a JSON object")
def formula_eval(env: CliEnv, expr: str, object_name: str | None,
                 record_json: str | None) -> None:
    """Print the formula's value as one JSON value."""
    try:
        record = json.loads(record_json) if record_json else {}
    except ValueError as err:
        raise click.UsageError(f"--record is not valid JSON: {err}") from None
    if not isinstance(record, dict):
        raise click.UsageError("--record must be a JSON object")
    if not object_name:
        checked = check(expr, DictCatalog({}), "", context="condition")
        if record:
            raise MetadataError([f"--record: unknown field {next(iter(record))!r}"])
        value = compile_python(checked)(EvalContext(record={}))
        click.echo(json.dumps(to_json_value(value, checked.type), ensure_ascii=False))
        return
    runtime = env.runtime()
    with runtime.engine.connect() as conn:
        # as the system: lookups and VLOOKUP read whatever records they name
        ctx = runtime.context(conn, SYSTEM)
        obj = ctx.schema.object(object_name)
        checked = check(expr, ctx.schema.catalog, obj.name, context="condition")
        values = {}
        for key, raw in record.items():
            spec = ctx.schema.catalog.field(obj.name, key)
            if spec is None:
                raise MetadataError([f"--record: unknown field {key!r}"])
            values[key] = from_json_value(raw, spec.type)
        value = compile_python(checked)(Resolver(ctx).context(obj, values))
    click.echo(json.dumps(to_json_value(value, checked.type), ensure_ascii=False))


# -- templates --------------------------------------------------------------------------

@click.group()
def template() -> None:
    """Install and export templates."""

@command(template, "install")
@click.argument("name_or_path")
@click.option("--demo-data", is_flag=True, help="also load the template's users and records")
def template_install(env: CliEnv, name_or_path: str, demo_data: bool) -> None:
    """Install a bundled template by name, or a template folder."""
    result = install(env.runtime(), name_or_path, demo_data=demo_data, applied_by="cli")
    click.echo(result.plan.render())
    if result.users:
        click.echo(f"demo users: {', '.join(result.users)}")
    for name, count in result.records.items():
        click.echo(f"loaded {count} {name} records")
    if result.skipped_data:
        click.echo("demo data not loaded: the template's objects already hold records")


@command(template, "export")
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--with-data", is_flag=True,
              help="also every record (data/*.json) and the users without passwords")
def template_export(env: CliEnv, path: str, with_data: bool) -> None:
    """Write the applied metadata as a template folder."""
    written = export(env.engine(), path, with_data=env.runtime() if with_data else None)
    click.echo(f"wrote {len(written)} files to {path}")


@template.command("list")
def template_list() -> None:
    """List the bundled templates."""
    for name, path in bundled_templates().items():
        click.echo(f"{name}\t{path}")


