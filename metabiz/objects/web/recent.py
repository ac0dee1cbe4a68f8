"""The home page's "Recently viewed" panel: the user's last opened records they may still
read, each linking to its record page."""

from __future__ import annotations

from typing import Any

from flask import render_template

from metabiz.objects import forms, recent_views
from metabiz.objects.work import unit_of_work
from metabiz.platform.access import Actor


def home_panel(actor: Actor) -> str:
    with unit_of_work(actor) as ctx:
        items: list[dict[str, Any]] = [
            {"object": item.object, "record_id": item.record_id, "name": item.name,
             "object_label": item.object_label,
             "when": forms.display(None, item.viewed_at.isoformat(), lang=ctx.language,
                                   widget="datetime", zone=ctx.zone)}
            for item in recent_views.recent(ctx)]
    return render_template("recent_home.html", items=items)
