"""The kernel's own pages: sign in, sign out, and home (made of the packages' panels).

Home shows whatever the packages registered for the "home" slot: the objects' tiles,
pending approvals, later dashboards; the kernel knows none of them.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from metabiz.errors import MetabizError
from metabiz.platform.access import Actor
from metabiz.platform.api import current_actor
from metabiz.platform.auth import (
    LoginThrottled,
    authenticate_password,
    end_session,
    start_session,
)
from metabiz.platform.db import writer
from metabiz.platform.web import i18n
from metabiz.platform.web.session import login_required, safe_next
from metabiz.platform.web.shell import render_panels

web = Blueprint("platform_web", __name__, template_folder="templates",
                static_folder="static", static_url_path="/static")


@web.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        services = current_app.extensions["metabiz"]
        try:
            with services.engine.connect() as conn:
                actor = authenticate_password(conn, username, request.form.get("password", ""),
                                              client=request.remote_addr)
        except MetabizError as err:
            if err.status not in (401, 404):
                raise
            error = err.message if isinstance(err, LoginThrottled) else i18n.text("bad_login")
        else:
            with writer(services.engine).begin() as conn:
                key = start_session(conn, actor.name)
            chosen = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            session["user"] = actor.name
            session["sid"] = key  # the server's record of it: signing out deletes it
            # A browser-session cookie, rewritten only when it changes: concurrent requests
            # (type-ahead searches) then cannot overwrite a flash message set by a save.
            # It still expires PERMANENT_SESSION_LIFETIME after it was last written.
            if chosen:
                session["lang"] = chosen
            return redirect(next_url or url_for("platform_web.home"))
    elif current_actor(optional=True) is not None:
        return redirect(next_url or url_for("platform_web.home"))
    return render_template("login.html", error=error, next=next_url, username=username)


@web.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    if request.method == "POST":
        key = session.get("sid")
        if isinstance(key, str):  # ended on the server: a copy of the cookie is worthless
            with writer(current_app.extensions["metabiz"].engine).begin() as conn:
                end_session(conn, key)
        chosen = session.get("lang")
        session.clear()
        if chosen:
            session["lang"] = chosen
        flash(i18n.text("signed_out"), "success")
        return redirect(url_for("platform_web.login"))
    if current_actor(optional=True) is None:
        return redirect(url_for("platform_web.login"))
    return render_template("logout.html")


@web.get("/")
@login_required
def home(actor: Actor) -> Any:
    return render_template("home.html", panels=render_panels("home", actor))
