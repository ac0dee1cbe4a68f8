"""User administration for admins (`/admin/users`): create users, change roles, manager and
profile, deactivate and reactivate, reset passwords — what `metabiz users …` does, through
the same functions (auth, people), audited the same way. Everyone else gets a 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from metabiz.errors import ConflictError, NotFound, ValidationError
from metabiz.platform import auth, people
from metabiz.platform.access import ADMIN_ROLE, Actor
from metabiz.platform.db import SYSTEM_USER, writer
from metabiz.platform.extensions import NavLink
from metabiz.platform.web import i18n
from metabiz.platform.web.pages import web
from metabiz.platform.web.session import login_required


def _engine() -> Any:
    return current_app.extensions["metabiz"].engine


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotFound("no such page")  # like the builder: the page does not exist for others


def admin_links(actor: Actor) -> list[NavLink]:
    """The administration section of the navigation (admins only)."""
    if not actor.is_admin:
        return []
    return [NavLink(href="/admin/users", label=i18n.text("users"), icon="users")]


def role_choices() -> list[tuple[str, str]]:
    """The roles of the installed metadata (from the runtime's schema) and `admin`."""
    lang = i18n.language()
    roles = current_app.extensions["metabiz"].runtime.schema().access.roles
    listed = [(name, role.label.get(lang)) for name, role in sorted(roles.items())]
    return [(ADMIN_ROLE, i18n.text("role_admin"))] + [r for r in listed if r[0] != ADMIN_ROLE]


@web.get("/admin/users")
@login_required
def users_page(actor: Actor) -> Any:
    _require_admin(actor)
    with _engine().connect() as conn:
        found = auth.list_users(conn)
    labels = dict(role_choices())
    return render_template("admin_users.html", users=found, labels=labels)


@web.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user(actor: Actor) -> Any:
    _require_admin(actor)
    form = request.form
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        name = form.get("name", "").strip()
        try:
            with writer(_engine()).begin() as conn:
                manager = form.get("manager") or None
                if manager and manager == name:
                    raise ValidationError("invalid user", fields={
                        "manager": ["a user cannot be their own manager"]})
                auth.create_user(conn, name, form.get("password", ""),
                                 roles=form.getlist("roles"), manager=manager,
                                 email=form.get("email", "").strip() or None,
                                 display_name=form.get("display_name", "").strip() or None,
                                 language=form.get("language", "en"), by=actor)
        except (ValidationError, ConflictError) as err:
            errors = err.fields or {"name": [err.message]}
        else:
            flash(i18n.text("user_created", name=name), "success")
            return redirect(url_for("platform_web.user_page", name=name))
    return _form(None, errors, status=422 if errors else 200)


@web.route("/admin/users/<name>", methods=["GET", "POST"])
@login_required
def user_page(actor: Actor, name: str) -> Any:
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    with _engine().connect() as conn:
        user = people.get_user(conn, name)
    if request.method == "POST":
        form = request.form
        try:
            with writer(_engine()).begin() as conn:
                people.update_user(conn, name,
                                   display_name=form.get("display_name", "").strip() or None,
                                   email=form.get("email", "").strip() or None,
                                   manager=form.get("manager") or None,
                                   roles=form.getlist("roles"),
                                   language=form.get("language") or None, by=actor)
        except ValidationError as err:
            errors = err.fields
        else:
            flash(i18n.text("user_saved", name=name), "success")
            return redirect(url_for("platform_web.user_page", name=name))
    return _form(user, errors, status=422 if errors else 200)


@web.post("/admin/users/<name>/active")
@login_required
def set_user_active(actor: Actor, name: str) -> Any:
    _require_admin(actor)
    active = request.form.get("active") == "1"
    if not active and name == actor.name:
        flash(i18n.text("cannot_deactivate_self"), "error")
        return redirect(url_for("platform_web.user_page", name=name))
    with writer(_engine()).begin() as conn:
        person = people.get_user(conn, name)
        auth.set_active(conn, name, active, by=actor)
    flash(i18n.text("user_activated" if active else "user_deactivated",
                    name=person.display_name or name), "success")
    return redirect(url_for("platform_web.user_page", name=name))


@web.post("/admin/users/<name>/password")
@login_required
def reset_password(actor: Actor, name: str) -> Any:
    _require_admin(actor)
    form = request.form
    try:
        with writer(_engine()).begin() as conn:
            user = people.get_user(conn, name)
            if form.get("password", "") != form.get("confirm_password", ""):
                raise ValidationError("the passwords differ", fields={
                    "confirm_password": ["the passwords differ"]})
            auth.set_password(conn, name, form.get("password", ""), by=actor)
    except ValidationError as err:
        return _form(user, err.fields, status=422)
    flash(i18n.text("password_reset", name=name), "success")
    return redirect(url_for("platform_web.user_page", name=name))


def _form(user: auth.UserInfo | None, errors: dict[str, list[str]], *,
          status: int) -> Response:
    with _engine().connect() as conn:
        everyone = [u for u in auth.list_users(conn) if user is None or u.name != user.name]
    form = request.form if request.method == "POST" and request.endpoint != \
        "platform_web.reset_password" else None
    roles = role_choices()
    known = {name for name, _ in roles}
    # a role the user holds that the metadata no longer defines stays ticked, not dropped
    roles += [(r, r) for r in (user.roles if user else ()) if r not in known]
    html = render_template(
        "admin_user.html", person=user, roles=roles, managers=everyone,
        form=form, system=SYSTEM_USER,
        errors={k: [i18n.message(m) for m in v] for k, v in errors.items()})
    return Response(html, status=status, mimetype="text/html")
