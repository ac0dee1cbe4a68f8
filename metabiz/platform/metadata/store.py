"""The metadata store: every applied version (number, who, when, summary, documents).

Documents are kept per app as `<app>/<relative path>` → JSON, so several templates
can be installed side by side and each app's next version replaces only its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from metabiz.platform.db import metadata_versions

DEFAULT_APP = "custom"


@dataclass(frozen=True)
class VersionInfo:
    version: int
    applied_at: dt.datetime
    applied_by: str
    summary: str


def current_version(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(metadata_versions.c.version), 0))).scalar_one()


def load_documents(conn: Connection, version: int | None = None) -> dict[str, Any]:
    """The documents of a version (the current one by default); {} before the first apply."""
    if version is None:
        version = current_version(conn)
    if not version:
        return {}
    row = conn.execute(select(metadata_versions.c.documents)
                       .where(metadata_versions.c.version == version)).first()
    return dict(row.documents) if row else {}


def save_version(conn: Connection, documents: Mapping[str, Any], applied_by: str,
                 summary: str) -> int:
    """Store a new version; the primary key makes two concurrent applies conflict."""
    version = current_version(conn) + 1
    conn.execute(insert(metadata_versions).values(
        version=version, applied_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        applied_by=applied_by, summary=summary, documents=dict(documents)))
    return version


def list_versions(conn: Connection) -> list[VersionInfo]:
    rows = conn.execute(select(metadata_versions.c.version, metadata_versions.c.applied_at,
                               metadata_versions.c.applied_by, metadata_versions.c.summary)
                        .order_by(metadata_versions.c.version))
    return [VersionInfo(*row) for row in rows]


def split_apps(documents: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{"crm/objects/lead.json": …}` → `{"crm": {"objects/lead.json": …}}`."""
    apps: dict[str, dict[str, Any]] = {}
    for key, doc in documents.items():
        app, _, rel = key.partition("/")
        apps.setdefault(app, {})[rel] = doc
    return apps


def merge_app(documents: Mapping[str, Any], app: str | None,
              app_documents: Mapping[str, Any]) -> dict[str, Any]:
    """The documents after applying one app's folder, or loose files (app None).

    A folder replaces everything its app had (what it leaves out is removed); a loose
    file replaces the document at the same path in whichever app holds it.
    """
    merged = dict(documents)
    if app is not None:
        merged = {k: v for k, v in merged.items() if not k.startswith(f"{app}/")}
        merged.update({f"{app}/{rel}": doc for rel, doc in app_documents.items()})
        return merged
    for rel, doc in app_documents.items():
        holder = next((k for k in merged if k.partition("/")[2] == rel), None)
        merged[holder or f"{DEFAULT_APP}/{rel}"] = doc
    return merged
