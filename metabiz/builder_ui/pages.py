"""The builder's pages under /builder (admin only; 404 for everyone else).

Placeholder while the pages are written.
"""

from __future__ import annotations

from flask import Flask

from metabiz.platform.access import Actor
from metabiz.platform.extensions import NavLink


def nav_links(actor: Actor) -> list[NavLink]:
    return []


def init_app(app: Flask) -> None:
    pass
