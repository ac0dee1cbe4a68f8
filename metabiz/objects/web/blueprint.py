"""The objects package's blueprint: every generated page hangs off it (`objects_web.*`).

Its own module so that each page family (lists, detail, edit) can add routes to it.
"""

from __future__ import annotations

from flask import Blueprint

web = Blueprint("objects_web", __name__, template_folder="../templates")
