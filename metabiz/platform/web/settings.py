"""The user's own settings page (`/settings`): language, time zone and password.

A new password ends every session of the user (other browsers are signed out); the browser
that changed it gets a fresh session and stays signed in.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for

from metabiz.errors import ValidationError
from metabiz.platform import people, zones
from metabiz.platform.access import Actor
from metabiz.platform.auth import start_session
from metabiz.platform.db import writer
from metabiz.platform.web import i18n
from metabiz.platform.web.pages import web
from metabiz.platform.web.session import login_required


def _engine() -> Any:
    return current_app.extensions["metabiz"].engine


def app_time_zone() -> str:
    """The app's time zone (what "default" means), from the runtime's metadata."""
    return str(current_app.extensions["metabiz"].runtime.default_time_zone())


@web.route("/settings", methods=["GET", "POST"])
@login_required
def settings(actor: Actor) -> Any:
    errors: dict[str, list[str]] = {}
    with _engine().connect() as conn:
        user = people.get_user(conn, actor.name)
    language, timezone = user.language, user.timezone
    if request.method == "POST":
        language = request.form.get("language", "")
        timezone = request.form.get("timezone", "").strip() or None
        try:
            with writer(_engine()).begin() as conn:
                people.set_preferences(conn, actor.name, language=language, timezone=timezone,
                                       by=actor)
        except ValidationError as err:
            errors = err.fields
        else:
            session["lang"] = language  # the page's language follows the new setting at once
            flash(i18n.text("settings_saved", language), "success")
            return redirect(url_for("platform_web.settings"))
    return _page(user, language, timezone, errors, status=422 if errors else 200)


@web.post("/settings/password")
@login_required
def change_password(actor: Actor) -> Any:
    form = request.form
    try:
        with writer(_engine()).begin() as conn:
            people.change_own_password(conn, actor.name, form.get("current_password", ""),
                                       form.get("new_password", ""),
                                       form.get("confirm_password", ""))
            key = start_session(conn, actor.name)  # the others ended with the old password
    except ValidationError as err:
        with _engine().connect() as conn:
            user = people.get_user(conn, actor.name)
        fields = {("new_password" if k == "password" else k): v for k, v in err.fields.items()}
        return _page(user, user.language, user.timezone, fields, status=422)
    session["sid"] = key
    flash(i18n.text("password_changed"), "success")
    return redirect(url_for("platform_web.settings"))


def _page(user: people.UserInfo, language: str, timezone: str | None,
          errors: dict[str, list[str]], *, status: int) -> Response:
    html = render_template(
        "settings.html", person=user, language=language, timezone=timezone or "",
        zones=zones.choices(), default_zone=app_time_zone(),
        errors={k: [i18n.message(m) for m in v] for k, v in errors.items()})
    return Response(html, status=status, mimetype="text/html")
