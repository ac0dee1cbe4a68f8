"""The unit of work of a web request: a transaction on the current Flask app's runtime.

API views and pages open one per request (`with unit_of_work(actor) as ctx:`); it commits
when the block ends cleanly and rolls back on any error. The units of one request read the
metadata version once (unless the request saved a version). Once it has committed, the stored
files its writes left behind are deleted; once it has rolled back, the files it stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g

from metabiz.objects import files
from metabiz.objects.context import Context
from metabiz.objects.file_storage import FileStorage, storage_for
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.access import Actor
from metabiz.platform.api import read_transaction, write_transaction
from metabiz.platform.metadata.store import versions_saved_here

_STORAGE = "metabiz.files"
_SCHEMA = "metabiz_schema"


@contextmanager
def unit_of_work(actor: Actor, *, write: bool = False) -> Iterator[Context]:
    """A transaction with the current schema: committed when the block ends cleanly."""
    services = current_app.extensions["metabiz"]
    saves = versions_saved_here()
    checked = g.get(_SCHEMA)  # (saves, schema): a page's panels share one version check
    schema = checked[1] if checked and checked[0] == saves else None
    # units share the request's connection (platform.api.read_transaction, write_transaction)
    transaction: Any = write_transaction() if write else read_transaction()
    ctx: Context | None = None
    try:
        with transaction as conn:
            ctx = services.runtime.context(conn, actor, schema=schema)
            setattr(g, _SCHEMA, (saves, ctx.schema))
            yield ctx
    except BaseException:  # rolled back (or the commit failed): its new blobs are orphans
        if ctx is not None and ctx.cache.get(files.FRESH):
            files.delete_fresh(ctx.cache, app_storage())
        raise
    if ctx.cache.get(files.OBSOLETE):
        files.delete_obsolete(ctx.cache, app_storage())


def request_schema(actor: Actor) -> RuntimeSchema:
    """The metadata the request's units of work read (its version checked once per
    request), without opening a unit of work when one has read it already: for what is
    kept per version (`schema.compiled`) and needs no transaction when it is found there."""
    checked = g.get(_SCHEMA)
    if checked and checked[0] == versions_saved_here():
        return checked[1]  # type: ignore[no-any-return]
    with unit_of_work(actor) as ctx:
        return ctx.schema


def app_storage() -> FileStorage:
    """The current app's file storage (METABIZ_FILES), made once per app."""
    storage = current_app.extensions.get(_STORAGE)
    if storage is None:
        config = current_app.extensions["metabiz"].config
        storage = current_app.extensions[_STORAGE] = storage_for(config.files,
                                                                 config.instance_path)
    return storage  # type: ignore[no-any-return]
