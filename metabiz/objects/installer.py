"""Installing and exporting templates: a metadata folder plus optional demo data.

Demo records name lookups by the target's name field (`"account": "Acme"`), users come
from `data/_users.json`; loading goes through the record service like any other write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from metabiz.errors import MetabizError, NotFound, ValidationError
from metabiz.objects import pools, records
from metabiz.objects.context import Context
from metabiz.objects.evolution import Plan, app_folders, apply_path
from metabiz.objects.runtime import Runtime
from metabiz.platform.access import SYSTEM
from metabiz.platform.auth import create_user, user_names
from metabiz.platform.db import writer
from metabiz.platform.metadata.loader import load_path
from metabiz.platform.metadata.store import load_documents, split_apps

USERS_FILE = "_users.json"


def bundled_templates() -> dict[str, Path]:
    """The templates shipped with metabiz, by name: the folders of `metabiz/templates_bundled/`.

    They are package data, so a wheel carries them; in a checkout `examples/` links there.
    """
    root = Path(__file__).resolve().parents[1] / "templates_bundled"
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "app.json").is_file()}


def resolve(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.exists():
        return path
    bundled = bundled_templates()
    if name_or_path in bundled:
        return bundled[name_or_path]
    known = ", ".join(bundled) or "none"
    raise NotFound(f"no template folder or bundled template named {name_or_path!r} "
                   f"(bundled: {known})")


@dataclass
class InstallResult:
    plan: Plan
    users: list[str] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    #: the template's objects already held records, so no demo record was loaded
    skipped_data: bool = False


def install(runtime: Runtime, name_or_path: str, *, demo_data: bool = False,
            applied_by: str = "system") -> InstallResult:
    """Apply a template's metadata and, with `demo_data`, load its users and records.

    The runtime's extensions run their metadata checks on the applied version; records are
    created through the runtime (so automation runs on them as on any write).
    """
    engine = runtime.engine
    path = resolve(name_or_path)
    result = InstallResult(apply_path(engine, path, extensions=runtime.extensions,
                                      applied_by=applied_by))
    if demo_data:
        with engine.connect() as conn:
            stored = load_documents(conn)
        others = {rel.split("/", 1)[1].removesuffix(".json")
                  for docs in split_apps(stored).values() for rel in docs
                  if rel.startswith("objects/")}
        for folder in app_folders(path):  # one app, or each app of an exported folder
            bundle = load_path(folder, known_objects=others, kinds=runtime.kinds)
            _load_users(engine, folder / "data" / USERS_FILE, result)
            _load_records(runtime, bundle.data, result)
    return result


def _load_users(engine: Engine, path: Path, result: InstallResult) -> None:
    if not path.is_file():
        return
    users = json.loads(path.read_text(encoding="utf-8"))
    with writer(engine).begin() as conn:
        existing = user_names(conn)
        # Managers first, so `manager` always names an existing user.
        pending = [u for u in users if u["name"] not in existing]
        while pending:
            ready = [u for u in pending if not u.get("manager") or u["manager"] in existing
                     or u["manager"] == u["name"]]
            if not ready:
                ready = pending[:1]
            for user in ready:
                create_user(conn, user["name"], user["password"], roles=user.get("roles", ()),
                            manager=user.get("manager") if user.get("manager") in existing
                            else None, email=user.get("email"),
                            display_name=user.get("display_name"),
                            language=user.get("language", "en"))
                existing.add(user["name"])
                result.users.append(user["name"])
                pending.remove(user)


def _load_records(runtime: Runtime, data: Mapping[str, Sequence[Mapping[str, Any]]],
                  result: InstallResult) -> None:
    with writer(runtime.engine).begin() as conn:
        ctx = runtime.context(conn, SYSTEM)
        schema = ctx.schema
        # Demo data is loaded once, into empty objects: records that refer to each other
        # by name only make sense as a whole set.
        if any(conn.execute(select(func.count()).select_from(schema.object(n).table)).scalar()
               for n in data):
            result.skipped_data = True
            return
        for name in _dependency_order(schema, data):
            obj = schema.object(name)
            for index, raw in enumerate(data[name]):
                values = {}
                pool = raw.get("pool")  # a record loaded straight into a public pool
                for key, value in raw.items():
                    if key == "pool":
                        continue
                    cf = obj.fields.get(key)
                    if cf is not None and cf.fdef.target and isinstance(value, str):
                        value = _find_by_name(ctx, cf.fdef.target, value,
                                              f"data/{name}.json: /{index}/{key}")
                    values[key] = value
                try:
                    created = records.create(ctx, name, values)
                    if pool is not None:
                        pools.return_to_pool(ctx, name, created["id"], pool=pool,
                                             automation="demo data")
                except MetabizError as err:
                    detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in err.fields.items())
                    raise ValidationError(
                        f"data/{name}.json: /{index}: {err.message}"
                        + (f" ({detail})" if detail else ""), fields=err.fields) from None
            result.records[name] = len(data[name])


def _dependency_order(schema: Any, data: Mapping[str, Any]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in data:
            return
        visiting.add(name)
        for cf in schema.object(name).fields.values():
            if cf.fdef.target and cf.fdef.target != name:
                visit(cf.fdef.target)
        visiting.discard(name)
        order.append(name)

    for name in sorted(data):
        visit(name)
    return order


def _find_by_name(ctx: Context, target: str, value: str, where: str) -> int:
    """The id of the target record whose name field (stored or formula) is `value`."""
    obj = ctx.schema.object(target)
    name_field = obj.odef.name_field
    if not name_field or name_field not in obj.fields:
        raise ValidationError(f"{where}: {target} has no name field to look up {value!r}")
    name = ctx.schema.sql_columns(target)((name_field,))
    found = ctx.conn.execute(select(obj.table.c.id).where(name == value)
                             .order_by(obj.table.c.id)).scalar()
    if found is None:
        raise ValidationError(f"{where}: no {target} named {value!r}")
    return int(found)


def export(engine: Engine, destination: str | Path) -> list[Path]:
    """Write the applied metadata as template folders (one per installed app)."""
    destination = Path(destination)
    with engine.connect() as conn:
        apps = split_apps(load_documents(conn))
    if not apps:
        raise NotFound("nothing to export: no metadata has been applied")
    written = []
    for app, documents in sorted(apps.items()):
        folder = destination if len(apps) == 1 else destination / app
        for rel, doc in sorted(documents.items()):
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")
            written.append(target)
        if not (folder / "app.json").exists():
            (folder / "app.json").write_text(json.dumps(
                {"name": app, "version": "1.0.0", "label": app}, indent=2) + "\n")
    return written
