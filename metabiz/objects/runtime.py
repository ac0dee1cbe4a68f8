"""The per-process runtime: the engine plus the compiled schema, cached by metadata version.

Each request asks for `schema(conn)`; when another process has applied a newer
version, the cache is rebuilt from the database, so servers never need a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Engine

from metabiz.errors import MetadataError
from metabiz.formulas import Calendar
from metabiz.objects.context import Context
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.platform.extensions import DocumentKind, Extensions
from metabiz.platform.metadata.loader import load_documents
from metabiz.platform.metadata.model import MetadataBundle
from metabiz.platform.metadata.store import current_version, hold_for_write, split_apps
from metabiz.platform.metadata.store import load_documents as stored_documents


def bundle_from_documents(documents: Mapping[str, Any],
                          kinds: Sequence[DocumentKind] = ()) -> MetadataBundle:
    """Merge the stored apps into one bundle (object names are global across apps, and so
    are the names of each added kind's definitions and of business calendars)."""
    apps = split_apps(documents)
    known = {rel.split("/", 1)[1].removesuffix(".json")
             for docs in apps.values() for rel in docs if rel.startswith("objects/")}
    objects: list[Any] = []
    roles: list[Any] = []
    added: dict[str, list[Any]] = {kind.name: [] for kind in kinds}
    problems: list[str] = []
    app_def = None
    calendars: dict[str, tuple[Calendar, str]] = {}
    for name in sorted(apps):
        try:
            bundle = load_documents(apps[name], known_objects=known, kinds=kinds)
        except MetadataError as err:
            problems.extend(f"{name}/{p}" for p in err.problems)
            continue
        app_def = app_def or bundle.app
        if app_def is not None and app_def.timezone is None and bundle.app is not None \
                and bundle.app.timezone:  # the first app (by name) that names a zone sets it
            app_def = replace(app_def, timezone=bundle.app.timezone)
        for kind, target, items in (("object", objects, bundle.objects),
                                    *((k.name, added[k.name], bundle.definitions(k.name))
                                      for k in kinds),
                                    ("role", roles, bundle.roles)):
            taken = {x.api_name for x in target}
            for item in items:
                if item.api_name in taken:
                    problems.append(f"{name}: /: {kind} {item.api_name!r} is defined by "
                                    "another installed app")
                else:
                    target.append(item)
        for calendar in bundle.calendars:  # a formula names a calendar without its app
            if calendar.name in calendars:
                problems.append(f"{name}/app.json: /calendars/{calendar.name}: calendar "
                                f"{calendar.name!r} is defined by both "
                                f"{calendars[calendar.name][1]!r} and {name!r} (all apps "
                                "share calendar names)")
            else:
                calendars[calendar.name] = (calendar, name)
    if problems:
        raise MetadataError(problems)
    return MetadataBundle(app=app_def, objects=tuple(objects), roles=tuple(roles),
                          documents={kind: tuple(items) for kind, items in added.items()
                                     if items},
                          calendars=tuple(c for c, _ in calendars.values()))


class Runtime:
    """Shared by all requests of one process; holds no per-request state.

    `extensions` are what the packages registered at start-up: their write listeners are
    called inside every record write (automation, approvals); the composition roots
    (`metabiz/app.py`, `metabiz/cli.py`) build them.
    """

    def __init__(self, engine: Engine, extensions: Extensions) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.extensions = extensions
        self.listeners = tuple(extensions.listeners)
        self.before_save = tuple(extensions.before_save)
        self.kinds = tuple(extensions.document_kinds)
        self._schema: RuntimeSchema | None = None
        self._lock = threading.Lock()

    def context(self, conn: Connection, actor: Actor, *, schema: RuntimeSchema | None = None,
                **options: Any) -> Context:
        """A unit of work on `conn` (already in a transaction) acting as `actor`; a writing
        one waits for an apply in progress, then works with the schema it made. A reading
        one may be given the `schema` its request already checked (objects/work.py)."""
        if conn.get_execution_options().get("metabiz_write"):
            hold_for_write(conn)
            schema = None
        return Context(conn, schema or self.schema(conn), actor, listeners=self.listeners,
                       before_save=self.before_save, **options)

    def default_time_zone(self, conn: Connection | None = None) -> str:
        """The app's time zone (app.json "timezone"), for users who chose none: the kernel's
        settings page names it."""
        app = self.schema(conn).bundle.app
        return app.timezone if app is not None and app.timezone else "UTC"

    def schema(self, conn: Connection | None = None) -> RuntimeSchema:
        if conn is None:
            with self.engine.connect() as own:
                return self.schema(own)
        version = current_version(conn)
        cached = self._schema
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            if self._schema is None or self._schema.version != version:
                bundle = bundle_from_documents(stored_documents(conn, version), self.kinds)
                schema = RuntimeSchema(version, bundle, dialect=self.dialect)
                schema.read_grants = tuple(self.extensions.read_grants)
                self._schema = schema
            return self._schema
