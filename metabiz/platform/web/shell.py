"""The page shell every page extends: navigation, language, the signed-in user, CSRF token.

The navigation is whatever the packages registered as `NavSection`s; the kernel only draws
it, once per request, and a failing section never breaks the page. What every page repeats
is kept per app and filled in per page: the navigation's markup per set of sections (each
page marks its current link), the top bar per user and language (each page adds its panels,
language links and CSRF token), fragments per arguments (`render_kept`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, request
from markupsafe import Markup, escape

from metabiz.errors import MetabizError
from metabiz.platform.access import Actor
from metabiz.platform.extensions import Extensions, NavLink
from metabiz.platform.memo import Memo, kept_in
from metabiz.platform.web import i18n
from metabiz.platform.web.csrf import csrf_token

log = logging.getLogger(__name__)

#: what navigation.html writes where a link's `aria-current` may go (escaped text never
#: holds a "<", so no label or address can contain it)
_CURRENT = "<\x00current>"
#: where topbar.html's per-page parts go (a "<" that is markup: no escaped text holds one)
_HOLE = "<\x00%s>"
_HOLES = re.compile("<\x00([a-z_]+)>")
#: navigation markups (and fragments) kept per app; a memo starts again when full (badges
#: and counts vary)
KEPT_NAVIGATIONS = 512
#: navigation links kept per metadata version (sections x roles x languages x mount points)
KEPT_LINKS = 1024


def extensions() -> Extensions:
    return current_app.extensions["metabiz"].runtime.extensions  # type: ignore[no-any-return]


def shell_context() -> dict[str, Any]:
    """The templates' shell functions: each reads the current request when called, so they
    are the Jinja environment's globals (no context processor run per template)."""
    return {"lang": i18n.language, "csrf_token": csrf_token, "navigation": navigation,
            "sidebar": sidebar, "topbar": topbar, "current_user": lambda: g.get("actor"),
            "lang_url": lang_url, "header_panels": header_panels}


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


def kept_links(kept: dict[str, Any], actor: Actor, section: str,
               build: Callable[[], Iterable[NavLink]]) -> list[NavLink]:
    """A navigation provider's links made by `build()` once and kept in `kept` (its metadata
    version's cache: `schema.compiled`) per section, set of roles, language and mount
    point — for links that depend on nothing else (not a count: see the approvals badge)."""
    links: Memo[tuple[Any, ...], list[NavLink]] = kept_in(kept, "nav_links", KEPT_LINKS)
    key = (section, actor.roles, actor.is_admin, i18n.language(), actor.language,
           request.script_root)
    return links.get_or_make(key, lambda: list(build()))


def sidebar() -> Markup:
    """The navigation's markup (navigation.html), the link of the current page marked."""
    sections = navigation()
    key = (request.script_root,
           *((s["name"], s["heading"], *s["links"]) for s in sections))
    kept: Memo[tuple[Any, ...], tuple[list[str], list[str]]] = \
        kept_in(current_app.extensions, "shell_navigation", KEPT_NAVIGATIONS)
    # a section's links that are not NavLinks (unhashable) are drawn each time, not kept
    return _marked(kept.get_or_make(key, lambda: _navigation_parts(sections)))


def _navigation_parts(sections: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """navigation.html cut where the links' aria-current go, and the links' addresses."""
    html = current_app.jinja_env.get_template("navigation.html").render(
        sections=sections, current=Markup(_CURRENT))
    return html.split(_CURRENT), [link.href for s in sections for link in s["links"]]


def _marked(known: tuple[list[str], list[str]]) -> Markup:
    parts, hrefs = known
    here = request.path
    out = [parts[0]]
    for href, part in zip(hrefs, parts[1:], strict=True):
        if here == href or (href != "/" and here.startswith(href + "/")):
            out.append('aria-current="page"')
        out.append(part)
    return Markup("".join(out))


def topbar(user: Actor) -> Markup:
    """topbar.html (the top bar, the sidebar's frame) for `user`: rendered once per user,
    language and mount point with holes where each page's own parts go (the header panels,
    the language links, the CSRF token, the navigation), which are filled in here."""
    key = (user.name, user.display_name, user.is_admin, i18n.language(), request.script_root)
    kept: Memo[tuple[Any, ...], list[str]] = \
        kept_in(current_app.extensions, "shell_topbars", KEPT_NAVIGATIONS)
    parts = kept.get_or_make(key, lambda: _topbar_parts(user))
    filled = {"panels": lambda: "".join(header_panels()), "nav": sidebar,
              "csrf": lambda: escape(csrf_token()), "lang_en": lambda: escape(lang_url("en")),
              "lang_zh": lambda: escape(lang_url("zh"))}
    return Markup("".join([part if index % 2 == 0 else filled[part]()
                           for index, part in enumerate(parts)]))


def _topbar_parts(user: Actor) -> list[str]:
    """topbar.html for `user` cut at its holes: text, hole, text, hole, ..., text."""
    html = render_fragment(
        "topbar.html", user=user, header_panels=lambda: [Markup(_HOLE % "panels")],
        lang_url=lambda code: Markup(_HOLE % f"lang_{code}"),
        csrf_token=lambda: Markup(_HOLE % "csrf"), sidebar=lambda: Markup(_HOLE % "nav"))
    return _HOLES.split(html)


def render_fragment(template: str, **context: Any) -> Markup:
    """A panel's markup from `template` and `context` with the shell's globals: without
    `render_template`'s context processors and signals, which a page's panels repeat."""
    return Markup(current_app.jinja_env.get_template(template).render(context))


def render_kept(template: str, **context: Any) -> Markup:
    """`render_fragment`, kept per app by template, arguments, language and mount point: for
    fragments made of nothing else (their arguments, `t`, `url_for`), such as the header's
    search box and bell, which every page shows."""
    kept: Memo[tuple[Any, ...], Markup] = \
        kept_in(current_app.extensions, "shell_fragments", KEPT_NAVIGATIONS)
    # an argument that is not a key (a list) is rendered each time, not kept
    key = (template, i18n.language(), request.script_root, *sorted(context.items()))
    return kept.get_or_make(key, lambda: render_fragment(template, **context))


def render_panels(slot: str, *args: Any, **kwargs: Any) -> list[Markup]:
    """The markup of every panel registered for `slot`, in order (empty ones left out)."""
    out = []
    for panel in extensions().panels_for(slot):
        html = panel.render(*args, **kwargs)
        if html:
            out.append(Markup(html))
    return out
