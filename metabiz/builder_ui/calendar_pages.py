"""The builder's business calendar pages: the list, and one calendar's holidays and working
days typed as lists of dates, saved into its app's app.json through the plan page.

Used by NETWORKDAYS and WORKDAY (docs/formulas.md); the dates are checked, sorted and
refused when listed twice before anything is planned.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for

from metabiz.builder_ui.calendars import (
    DATE_KEYS,
    NAME,
    calendar_from_form,
    calendars_of,
    manifest_apps,
)
from metabiz.builder_ui.problems import ConversionRefused, InvalidDocument
from metabiz.builder_ui.texts import b
from metabiz.builder_ui.web import admin_page, base_version, review, stored, web
from metabiz.errors import ConflictError, NotFound
from metabiz.platform.access import Actor


@web.get("/calendars")
@admin_page
def calendar_list(actor: Actor) -> str:
    documents, _ = stored()
    return render_template("builder/calendars.html", calendars=calendars_of(documents),
                           apps=manifest_apps(documents))


def _found(name: str) -> tuple[dict[str, Any], int]:
    documents, version = stored()
    found = next((c for c in calendars_of(documents) if c["name"] == name), None)
    if found is None:
        raise NotFound(f"no calendar named {name!r}")
    return found, version


def _page(actor: Actor, name: str | None) -> Any:
    documents, version = stored()
    apps = manifest_apps(documents)
    if name is None:
        found: dict[str, Any] = {"app": request.form.get("app") or (apps[0] if apps else ""),
                                 "name": "", "calendar": {}}
    else:
        found, version = _found(name)
    typed = {key: "\n".join(found["calendar"].get(key) or ()) for key in DATE_KEYS}
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    if request.method == "POST":
        form = request.form
        target = name or (form.get("name") or "").strip()
        typed = {key: form.get(key) or "" for key in DATE_KEYS}
        found = {**found, "name": target}
        calendar, errors = calendar_from_form(form, found["calendar"])
        if name is None:
            if not NAME.match(target):
                errors["name"] = [b("calendar_name_help")]
            elif any(c["name"] == target for c in calendars_of(documents)):
                errors["name"] = [b("calendar_taken", name=target)]
            if found["app"] not in apps:
                errors["app"] = [b("calendar_app_help")]
        if not errors:
            try:
                return review(actor, "calendar", name=target, app=found["app"],
                              document=calendar, base_version=base_version(),
                              done=url_for("builder_web.calendar_list"), back=request.url,
                              title=b("calendar") + f" · {target}")
            except (InvalidDocument, ConversionRefused) as err:
                errors, general = _by_control(dict(err.fields), target)
            except ConflictError:
                general = [b("conflict")]
    return render_template("builder/calendar.html", name=name, found=found, typed=typed,
                           apps=apps, version=version, errors=errors, general=general), \
        422 if errors or general else 200


def _by_control(fields: dict[str, list[str]], name: str) -> tuple[dict[str, list[str]],
                                                                   list[str]]:
    """Problems at `/calendars/<name>/<list>/…` beside that list's box, the rest on top."""
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    for pointer, messages in fields.items():
        parts = pointer.split("/")
        if len(parts) > 3 and parts[1] == "calendars" and parts[2] == name and \
                parts[3] in DATE_KEYS:
            errors.setdefault(parts[3], []).extend(messages)
        else:
            general.extend(messages if pointer == "/" else
                           [f"{pointer}: {m}" for m in messages])
    return errors, general


@web.route("/calendars/new", methods=["GET", "POST"])
@admin_page
def new_calendar(actor: Actor) -> Any:
    return _page(actor, None)


@web.route("/calendars/<name>", methods=["GET", "POST"])
@admin_page
def calendar_page(actor: Actor, name: str) -> Any:
    return _page(actor, name)


@web.post("/calendars/<name>/delete")
@admin_page
def delete_calendar(actor: Actor, name: str) -> Any:
    found, _ = _found(name)
    return review(actor, "calendar", name=name, app=found["app"], document=None,
                  base_version=base_version(), done=url_for("builder_web.calendar_list"),
                  back=url_for("builder_web.calendar_page", name=name), title=b("delete"))
