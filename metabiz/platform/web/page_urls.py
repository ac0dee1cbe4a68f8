"""Page addresses built once: `url_for` remembered per mount point, endpoint and arguments.

While no package adds URL defaults (`url_defaults`), an internal (path-only) address
depends on nothing else; a page's shell asks for the same thirty of them on every request.
Anything else (`_external`, a blueprint-relative endpoint, unhashable arguments, no
request) is built by Flask as usual. `init_page_urls(app)` makes it the templates' `url_for`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask import url_for as flask_url_for

from metabiz.platform.memo import Memo

#: addresses kept per app; the memo starts again when full (query strings vary)
KEPT = 4096


def url_for(endpoint: str, **values: Any) -> str:
    """`flask.url_for(endpoint, **values)`, remembered for path-only addresses."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    built: Memo[tuple[Any, ...], str] | None = app.extensions.get("page_urls")
    if built is None or not has_request_context() or endpoint.startswith(".") or \
            any(name.startswith("_") for name in values) or \
            any(app.url_default_functions.values()):
        return flask_url_for(endpoint, **values)
    # a list argument is not a key: built each time
    key = (request.script_root, endpoint, *sorted(values.items()))
    return built.get_or_make(key, lambda: flask_url_for(endpoint, **values))


def init_page_urls(app: Flask) -> None:
    app.extensions["page_urls"] = Memo(KEPT)
    app.jinja_env.globals["url_for"] = url_for
