"""Installing and exporting templates: a metadata folder plus optional demo data.

Demo records name lookups by the target's name field (`"account": "Acme"`), users come
from `data/_users.json`; loading goes through the record service like any other write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine

from metabiz.errors import NotFound
from metabiz.objects import demo_data as data_files
from metabiz.objects.context import Context
from metabiz.objects.evolution import Plan, app_folders, apply_path
from metabiz.objects.runtime import Runtime
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import SYSTEM
from metabiz.platform.metadata.loader import load_path
from metabiz.platform.metadata.store import load_documents, split_apps

USERS_FILE = data_files.USERS_FILE


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
    """Apply a template's metadata and, with `demo_data`, load its users and records — all
    in one transaction: a bad data file (or anything else) changes nothing.

    The runtime's extensions run their metadata checks on the applied version; records are
    created through the record service with the runtime's listeners (so automation runs on
    them as on any write).
    """
    path = resolve(name_or_path)
    loaded = data_files.Loaded()
    folders = app_folders(path)

    def load(conn: Connection, schema: RuntimeSchema | None) -> None:
        schema = schema or runtime.schema(conn)
        ctx = Context(conn, schema, SYSTEM, listeners=runtime.listeners,
                      before_save=runtime.before_save)
        for folder in folders:  # one app, or each app of an exported folder
            bundle = load_path(folder, known_objects=schema.objects, kinds=runtime.kinds)
            data_files.load_users(conn, [u.to_json() for u in bundle.users], loaded)
            data_files.load_records(ctx, bundle.data, loaded)

    plan = apply_path(runtime.engine, path, extensions=runtime.extensions,
                      applied_by=applied_by, then=load if demo_data else None)
    return InstallResult(plan, loaded.users, loaded.records, loaded.skipped)


def export(engine: Engine, destination: str | Path, *,
           with_data: Runtime | None = None) -> list[Path]:
    """Write the applied metadata as template folders (one per installed app); `with_data`
    (the runtime reading the records) adds each app's records as `data/<object>.json` and
    every user, without passwords, as `data/_users.json` (in the first app's folder)."""
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
    if with_data is not None:
        with engine.connect() as conn:
            ctx = Context(conn, with_data.schema(conn), SYSTEM)
            for index, (app, documents) in enumerate(sorted(apps.items())):
                folder = destination if len(apps) == 1 else destination / app
                objects = sorted(rel.split("/", 1)[1].removesuffix(".json")
                                 for rel in documents if rel.startswith("objects/"))
                written += data_files.export_records(ctx, objects, folder)
                if index == 0:
                    written.append(data_files.export_users(conn, folder))
    return written
