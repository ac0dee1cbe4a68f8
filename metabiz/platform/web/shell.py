"""The page shell every page extends: navigation, language, the signed-in user, CSRF token.

The navigation is whatever the packages registered as `NavSection`s; the kernel only draws
it, once per request, and a failing section never breaks the page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, request
from markupsafe import Markup

from metabiz.errors import MetabizError
from metabiz.platform.extensions import Extensions
from metabiz.platform.web import i18n
from metabiz.platform.web.csrf import csrf_token

log = logging.getLogger(__name__)


def extensions() -> Extensions:
    return current_app.extensions["metabiz"].runtime.extensions  # type: ignore[no-any-return]


def shell_context() -> dict[str, Any]:
    return {"lang": i18n.language, "csrf_token": csrf_token, "navigation": navigation,
            "current_user": lambda: g.get("actor"), "lang_url": lang_url,
            "header_panels": header_panels}


def header_panels() -> list[Markup]:
    """The header slot's panels for the signed-in user (search box, notifications bell)."""
    actor = g.get("actor")
    if actor is None:
        return []
    try:
        return render_panels("header", actor)
    except MetabizError as err:  # like the navigation, the header never breaks a page
        log.warning("header panels: %s", err.message)
        return []


def lang_url(code: str) -> str:
    """The current page in another language."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return request.path + "?" + urlencode({**args, "lang": code})


def navigation() -> list[dict[str, Any]]:
    """The signed-in user's navigation sections (computed once per request)."""
    if "navigation" in g:
        return g.navigation  # type: ignore[no-any-return]
    actor = g.get("actor")
    sections: list[dict[str, Any]] = []
    if actor is not None:
        for section in extensions().nav_sections():
            try:
                links = list(section.links(actor))
            except MetabizError as err:  # the navigation never breaks a page
                log.warning("navigation %s: %s", section.name, err.message)
                continue
            if links:
                sections.append({"name": section.name, "links": links,
                                 "heading": i18n.text(section.heading) if section.heading
                                 else None})
    g.navigation = sections
    return sections


def render_panels(slot: str, *args: Any, **kwargs: Any) -> list[Markup]:
    """The markup of every panel registered for `slot`, in order (empty ones left out)."""
    out = []
    for panel in extensions().panels_for(slot):
        html = panel.render(*args, **kwargs)
        if html:
            out.append(Markup(html))
    return out
