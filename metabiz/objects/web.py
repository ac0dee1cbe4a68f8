"""The generated end-user pages: sign-in, home, list views, forms, detail pages, approvals.

Views parse the request, call the record, query and approval services inside a unit of
work and render Jinja2 templates; every error becomes a friendly page, never a traceback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import wraps
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from metabiz.errors import (
    BadRequest,
    ConflictError,
    MetabizError,
    NotFound,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from metabiz.objects import forms, i18n, query, records
from metabiz.objects.api import evaluate, unit_of_work
from metabiz.objects.forms import FieldView, SectionView
from metabiz.objects.records import RECORD_KEY, Context
from metabiz.objects.schema import CompiledObject
from metabiz.platform.access import Actor
from metabiz.platform.api import check_csrf, csrf_token, current_actor, wants_json
from metabiz.platform.auth import LoginThrottled, authenticate_password, user_names

log = logging.getLogger(__name__)

PAGE_SIZE = 25
RELATED_ROWS = 5
LOOKUP_ROWS = 10
#: fields a list shows when no list view names its columns
DEFAULT_COLUMNS = 6
APPROVAL_ACTIONS = ("approve", "reject", "recall", "reassign")
#: the approvals inbox's tabs (statuses of the user's work items)
INBOX_TABS = ("pending", "approved", "rejected", "all")

web = Blueprint("objects_web", __name__, template_folder="templates",
                static_folder="static", static_url_path="/static")

View = Callable[..., Any]


def init_app(app: Flask) -> None:
    """Register the pages, their static files, and HTML error pages for browsers."""
    app.register_blueprint(web)
    app.extensions["metabiz_html_errors"] = render_error
    app.before_request(i18n.remember_choice)
    app.context_processor(_shell_context)
    app.jinja_env.globals.update(t=i18n.text)
    handlers = app.error_handler_spec.setdefault(None, {}).setdefault(None, {})
    json_http, json_any = handlers.get(HTTPException), handlers.get(Exception)

    def http_error(err: HTTPException) -> Any:
        if wants_json() or (err.code or 500) < 400:
            return json_http(err) if json_http else err
        return _error_page(err.code or 500, err.description or "")

    def unexpected(err: Exception) -> Any:
        if wants_json() and json_any is not None:
            return json_any(err)
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error_page(500, "")

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


# -- the shell -------------------------------------------------------------------------


def _shell_context() -> dict[str, Any]:
    return {"lang": i18n.language, "csrf_token": csrf_token, "shell": _shell,
            "current_user": lambda: g.get("actor"), "lang_url": lang_url}


def lang_url(code: str) -> str:
    """The current page in another language."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return request.path + "?" + urlencode({**args, "lang": code})


def _shell() -> dict[str, Any]:
    """The navigation of the current user (computed once per request)."""
    if "shell" in g:
        return g.shell  # type: ignore[no-any-return]
    actor = g.get("actor")
    shell: dict[str, Any] = {"objects": [], "pending": None, "approvals": False,
                             "builder": None}
    if actor is not None and actor.is_admin:
        shell["builder"] = next((r.rule for r in current_app.url_map.iter_rules()
                                 if r.rule in ("/builder", "/builder/")), None)
    if actor is not None:
        lang = i18n.language()
        try:
            with unit_of_work(actor) as ctx:
                shell["objects"] = [(o.name, plural(o, lang)) for o in readable(ctx)]
                module = approvals_module()
                if module is not None:
                    shell["approvals"] = True
                    shell["pending"] = len(module.inbox(ctx, status="pending"))
        except MetabizError as err:  # the navigation never breaks a page
            log.warning("navigation: %s", err.message)
    g.shell = shell
    return shell


def plural(obj: CompiledObject, lang: str) -> str:
    label = obj.odef.plural_label or obj.odef.label
    return label.get(lang)


def readable(ctx: Context) -> list[CompiledObject]:
    return [o for o in ctx.schema.objects.values()
            if ctx.schema.access.allowed(ctx.actor, o.name, "read")]


def approvals_module() -> ModuleType | None:
    """The approvals service when the flows package provides it."""
    try:
        from metabiz.flows import approvals  # type: ignore[attr-defined]
    except ModuleNotFoundError as err:
        if (err.name or "").startswith("metabiz.flows"):
            return None
        raise
    except ImportError as err:
        if (getattr(err, "name", "") or "").startswith("metabiz.flows"):
            return None
        raise
    return approvals  # type: ignore[no-any-return]


def login_required(view: View) -> View:
    """Pass the signed-in actor to the view, or send the browser to the sign-in page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        actor = current_actor(optional=True)
        if actor is None:
            return _to_login()
        # labels and validation messages follow the page's language (`?lang=` included)
        return view(replace(actor, language=i18n.language()), *args, **kwargs)

    return wrapper


def _to_login() -> BaseResponse:
    if request.headers.get("HX-Request"):
        response = Response("", status=401)
        response.headers["HX-Redirect"] = url_for("objects_web.login")
        return response
    target = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return redirect(url_for("objects_web.login", next=target))


def safe_next(raw: str | None) -> str | None:
    """A local path to return to after signing in (never another site)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    return raw


def render_error(err: MetabizError) -> Any:
    """The HTML page for a MetabizError raised while serving a browser."""
    if err.status == 401:
        return _to_login()
    if isinstance(err, PermissionDenied) and "CSRF" in err.message:
        return _error_page(403, i18n.text("csrf_body"))
    detail = err.message
    if err.status == 404:
        detail = i18n.text("error_404_body")
    return _error_page(err.status, detail)


def _error_page(status: int, detail: str) -> Any:
    if "actor" not in g and status < 500:  # an unknown URL: load the user for the navigation
        try:
            current_actor(optional=True)
        except MetabizError:
            g.actor = None
    if status >= 500:
        detail = i18n.text("error_500_body")
    title_key = f"error_{status}" if f"error_{status}" in i18n.TEXTS else "error_title"
    if request.headers.get("HX-Request"):
        return Response(f"<p class=\"lookup-empty\">{i18n.text(title_key)}</p>",
                        status=status, mimetype="text/html")
    html = render_template("error.html", status=status, title=i18n.text(title_key),
                           detail=detail)
    return Response(html, status=status, mimetype="text/html")


def _csrf() -> None:
    check_csrf(request.form.get("csrf_token"))


# -- signing in and out ----------------------------------------------------------------


@web.route("/login", methods=["GET", "POST"])
def login() -> Any:
    next_url = safe_next(request.values.get("next"))
    error = None
    username = ""
    if request.method == "POST":
        _csrf()
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
            chosen = session.get("lang")
            session.clear()  # a fresh session (and CSRF token) for the signed-in user
            session["user"] = actor.name
            # A browser-session cookie, rewritten only when it changes: concurrent requests
            # (type-ahead searches) then cannot overwrite a flash message set by a save.
            # It still expires PERMANENT_SESSION_LIFETIME after it was last written.
            if chosen:
                session["lang"] = chosen
            return redirect(next_url or url_for("objects_web.home"))
    elif current_actor(optional=True) is not None:
        return redirect(next_url or url_for("objects_web.home"))
    return render_template("login.html", error=error, next=next_url, username=username)


@web.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    if request.method == "POST":
        _csrf()
        chosen = session.get("lang")
        session.clear()
        if chosen:
            session["lang"] = chosen
        flash(i18n.text("signed_out"), "success")
        return redirect(url_for("objects_web.login"))
    if current_actor(optional=True) is None:
        return redirect(url_for("objects_web.login"))
    return render_template("logout.html")


# -- home ------------------------------------------------------------------------------


@web.get("/")
@login_required
def home(actor: Actor) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        tiles = []
        for obj in readable(ctx):
            total = query.list_records(ctx, obj.name, limit=1, fields="id").total
            tiles.append({"name": obj.name, "label": plural(obj, lang), "total": total,
                          "initial": plural(obj, lang)[:1].upper(),
                          "can_create": ctx.schema.access.allowed(actor, obj.name, "create"),
                          "description": obj.odef.description})
        inbox = _inbox(ctx, "pending")
    return render_template("home.html", tiles=tiles, inbox=inbox[:10],
                           inbox_total=len(inbox), approvals=approvals_module() is not None)


# -- lists -----------------------------------------------------------------------------


@web.get("/o/<object_name>")
@login_required
def list_page(actor: Actor, object_name: str) -> Any:
    args = request.args
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "read")
        view_name = args.get("view")
        view = obj.odef.list_view(view_name) if view_name else (
            obj.odef.list_views[0] if obj.odef.list_views else None)
        if view_name and view is None:
            raise NotFound(f"{obj.name} has no list view named {view_name!r}")
        columns = list_columns(ctx, obj, view.columns if view else ())
        sort = args.get("sort") or (view.sort if view else None) or ""
        q = args.get("q", "").strip()
        page = _page_number(args.get("page"))
        chips, conditions = _parent_filters(ctx, obj)
        if view and view.filter:
            conditions.insert(0, view.filter)
        found = query.list_records(
            ctx, obj.name, filter=" && ".join(f"({c})" for c in conditions) or None,
            sort=sort or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, q=q or None)
        rows = table_rows(ctx, obj, columns, found.records)
        pages = max(1, math.ceil(found.total / PAGE_SIZE))
        base = {k: v for k, v in args.items() if k not in ("page", "lang") and v}
        headers = [_header(obj, name, lang, sort, base) for name in columns]
        return render_template(
            "list.html", obj=obj, label=obj.odef.label.get(lang), title=plural(obj, lang),
            views=[(v.api_name, v.label.get(lang)) for v in obj.odef.list_views],
            view=view.api_name if view else None, headers=headers, rows=rows, q=q,
            sort=sort, page=page, pages=pages, total=found.total,
            first=(page - 1) * PAGE_SIZE + 1 if rows else 0,
            last=(page - 1) * PAGE_SIZE + len(rows), chips=chips,
            page_url=lambda n: url_for("objects_web.list_page", object_name=obj.name,
                                       **{**base, "page": n}),
            can_create=ctx.schema.access.allowed(actor, obj.name, "create"),
            new_args={c["field"]: c["value"] for c in chips})


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _parent_filters(ctx: Context, obj: CompiledObject) -> tuple[list[dict[str, Any]], list[str]]:
    """`?account=7` on a list: only the records pointing to that record (related lists)."""
    chips: list[dict[str, Any]] = []
    conditions: list[str] = []
    for name, raw in request.args.items():
        cf = obj.fields.get(name)
        if cf is None or cf.ftype.widget != "lookup" or not raw.isdigit():
            continue
        value, target = int(raw), cf.fdef.target or ""
        names = forms.lookup_names(ctx, {target: {value}})
        rest: dict[str, Any] = {k: v for k, v in request.args.items() if k not in (name, "page")}
        chips.append({"field": name, "value": value,
                      "label": cf.fdef.label.get(ctx.language),
                      "text": names.get((target, value), f"#{value}"),
                      "remove": url_for("objects_web.list_page", object_name=obj.name,
                                        **rest)})
        conditions.append(f"{name} = {value}")
    return chips, conditions


def list_columns(ctx: Context, obj: CompiledObject, wanted: Iterable[str],
                 skip: Iterable[str] = (), limit: int = DEFAULT_COLUMNS) -> list[str]:
    """The columns a list shows: the list view's, else the name field and the first fields."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    skipped = set(skip) | hidden
    names = [n for n in wanted if n not in skipped and (n in obj.fields or n in
                                                         forms.SYSTEM_WIDGETS)]
    if names:
        return names
    first = obj.odef.name_field
    ordered = ([first] if first else []) + [n for n in obj.fields if n != first]
    return [n for n in ordered if n not in skipped
            and obj.fields[n].fdef.type not in ("long_text", "multi_picklist")][:limit]


def table_rows(ctx: Context, obj: CompiledObject, columns: list[str],
               found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records as rows of display values, lookups by name, the first cell linking the record."""
    names = forms.lookup_names(ctx, forms.wanted_lookups(obj, found, columns))
    readable_names = [o.name for o in readable(ctx)]
    lang = ctx.language
    rows = []
    for record in found:
        cells = [forms.display(obj.fields.get(name), record.get(name), lang=lang, names=names,
                               widget=forms.SYSTEM_WIDGETS.get(name) if name not in obj.fields
                               else None, readable=readable_names) for name in columns]
        rows.append({"id": record["id"], "href": f"/o/{obj.name}/{record['id']}",
                     "name": forms.record_name(obj, record, lang), "cells": cells})
    return rows


def _header(obj: CompiledObject, name: str, lang: str, sort: str,
            base: dict[str, str]) -> dict[str, Any]:
    keys = [k.strip() for k in sort.split(",") if k.strip()]
    current = keys[0] if keys else ""
    direction = None
    if current.lstrip("-+") == name:
        direction = "desc" if current.startswith("-") else "asc"
    cf = obj.fields.get(name)
    sortable = cf is None or cf.ftype.stored or cf.formula is not None
    args: dict[str, Any] = {**base, "sort": f"-{name}" if direction == "asc" else name}
    widget = forms.SYSTEM_WIDGETS.get(name) if cf is None else forms.widget_of(cf)
    return {"name": name, "label": forms.field_label(obj, name, lang), "direction": direction,
            "numeric": widget in forms.NUMBER_WIDGETS or widget == "rollup",
            "href": url_for("objects_web.list_page", object_name=obj.name, **args)
            if sortable else None}


# -- lookups (htmx) --------------------------------------------------------------------


@web.get("/o/<object_name>/lookup")
@login_required
def lookup(actor: Actor, object_name: str) -> Any:
    """Matching records by name, as options for a lookup widget's type-ahead list."""
    text = request.args.get("q")
    if text is None:
        text = next((v for k, v in request.args.items() if k.startswith(forms.LOOKUP_SEARCH)),
                    "")
    text = text.strip()[:100]
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "read")
        name_field = obj.odef.name_field
        search: dict[str, Any] = {"q": text or None}
        if name_field and _is_text(ctx, obj, name_field):
            search = {"filter": name_filter(name_field, text) if text else None,
                      "sort": name_field}
        found = query.list_records(ctx, obj.name, limit=LOOKUP_ROWS, **search)
        options = [{"id": r["id"], "name": forms.record_name(obj, r, ctx.language)}
                   for r in found.records]
        return render_template("lookup_options.html", options=options, text=text,
                               label=obj.odef.label.get(ctx.language),
                               field=request.args.get("field", ""))


def _is_text(ctx: Context, obj: CompiledObject, name: str) -> bool:
    spec = ctx.schema.catalog.field(obj.name, name)
    return spec is not None and spec.type.value == "text"


def name_filter(field: str, text: str) -> str:
    """A formula matching records whose `field` contains `text`, ignoring case."""
    literal = text.lower().replace("\\", "\\\\").replace('"', '\\"')
    return f'CONTAINS(LOWER({field}), "{literal}")'


# -- detail ----------------------------------------------------------------------------


@web.get("/o/<object_name>/<record_id>")
@login_required
def detail(actor: Actor, object_name: str, record_id: str) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        record = records.get(ctx, obj.name, record_id)
        names = forms.lookup_names(ctx, forms.wanted_lookups(obj, [record], obj.fields))
        readable_names = [o.name for o in readable(ctx)]
        sections = [SectionView(s.label, s.columns, [
            (forms.field_label(obj, n, lang),
             forms.display(obj.fields[n], record.get(n), lang=lang, names=names,
                           readable=readable_names), _help(obj, n, lang))
            for n in s.fields]) for s in layout(ctx, obj, record)]
        system = [(forms.field_label(obj, n, lang),
                   forms.display(None, record.get(n), lang=lang,
                                 widget=forms.SYSTEM_WIDGETS[n]))
                  for n in ("owner", "created_by", "created_at", "updated_by", "updated_at")]
        history = _history(ctx, obj, record, names, readable_names)
        related = [r for r in (_related(ctx, obj, record, child, link)
                               for child, link in obj.children) if r is not None]
        access = ctx.schema.access
        approval = _approval_panel(ctx, obj, record)
        locked = bool(approval and approval["locked"]) and not actor.is_admin
        return render_template(
            "detail.html", obj=obj, record=record, label=obj.odef.label.get(lang),
            title=plural(obj, lang), name=forms.record_name(obj, record, lang),
            sections=sections, system=system, history=history, related=related,
            approval=approval,
            status=forms.display(None, record.get("approval_status"), lang=lang,
                                 widget="approval_status"),
            can_edit=access.allowed(actor, obj.name, "edit") and not locked,
            can_delete=access.allowed(actor, obj.name, "delete") and not locked)


def _help(obj: CompiledObject, name: str, lang: str) -> str | None:
    text = obj.fields[name].fdef.help
    return text.get(lang) if text is not None else None


def layout(ctx: Context, obj: CompiledObject, record: dict[str, Any] | None,
           *, editing: bool = False, creating: bool = False) -> list[SectionView]:
    """The default layout's sections (or one section of every field), minus hidden fields."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    defined = obj.odef.layout("default")
    sections = ([(s.label.get(ctx.language), s.columns, s.fields) for s in defined.sections]
                if defined else [("", 2, tuple(obj.fields))])
    out = []
    for label, columns, names in sections:
        kept = [n for n in names if n in obj.fields and n not in hidden
                and (not creating or editable(ctx, obj, n))
                and (record is None or editing or n in record)]
        if kept:
            out.append(SectionView(label, columns, kept))
    return out


def editable(ctx: Context, obj: CompiledObject, name: str) -> bool:
    cf = obj.fields[name]
    return cf.ftype.writable and ctx.schema.access.field_rule(ctx.actor, obj.name, name) is None


def _history(ctx: Context, obj: CompiledObject, record: dict[str, Any],
             names: dict[tuple[str, Any], str], readable_names: list[str]) -> list[Any]:
    changes = records.history(ctx, obj.name, record["id"])
    wanted: dict[str, set[Any]] = {}
    for change in changes:
        cf = obj.fields.get(change["field"])
        if cf is not None and cf.ftype.widget == "lookup" and cf.fdef.target:
            wanted.setdefault(cf.fdef.target, set()).update(
                v for v in (change["old"], change["new"]) if v is not None)
    names = {**names, **forms.lookup_names(ctx, wanted)}
    out = []
    for change in reversed(changes):
        cf = obj.fields.get(change["field"])
        widget = None if cf is not None else forms.SYSTEM_WIDGETS.get(change["field"], "text")

        def show(value: Any, cf: Any = cf, widget: str | None = widget) -> forms.Shown:
            return forms.display(cf, value, lang=ctx.language, names=names, widget=widget,
                                 readable=readable_names)

        out.append({"field": forms.field_label(obj, change["field"], ctx.language),
                    "old": show(change["old"]), "new": show(change["new"]),
                    "by": change["by"],
                    "at": forms.display(None, change["at"], lang=ctx.language,
                                        widget="datetime")})
    return out


def _related(ctx: Context, obj: CompiledObject, record: dict[str, Any], child_name: str,
             link: str) -> dict[str, Any] | None:
    child = ctx.schema.object(child_name)
    access = ctx.schema.access
    if not access.allowed(ctx.actor, child.name, "read") or \
            access.field_rule(ctx.actor, child.name, link) == "hidden":
        return None
    view = child.odef.list_views[0] if child.odef.list_views else None
    columns = list_columns(ctx, child, view.columns if view else (), skip=(link, "owner"),
                           limit=4)[:5]
    found = query.list_records(ctx, child.name, filter=f"{link} = {record['id']}",
                               sort=view.sort if view else None, limit=RELATED_ROWS)
    lang = ctx.language
    link_label = child.fields[link].fdef.label.get(lang)
    title = plural(child, lang)
    if sum(1 for c, _ in obj.children if c == child.name) > 1:
        title = f"{title} ({link_label})"
    return {"object": child.name, "link": link, "title": title,
            "label": child.odef.label.get(lang), "total": found.total,
            "headers": [{"label": forms.field_label(child, n, lang),
                         "numeric": forms.widget_of(child.fields[n]) in forms.NUMBER_WIDGETS
                         if n in child.fields else False} for n in columns],
            "rows": table_rows(ctx, child, columns, found.records),
            "new_href": url_for("objects_web.new_record", object_name=child.name,
                                **{link: record["id"]})
            if access.allowed(ctx.actor, child.name, "create") and
            editable(ctx, child, link) else None,
            "all_href": url_for("objects_web.list_page", object_name=child.name,
                                **{link: record["id"]})}


# -- create and edit -------------------------------------------------------------------


@web.route("/o/<object_name>/new", methods=["GET", "POST"])
@login_required
def new_record(actor: Actor, object_name: str) -> Any:
    errors: dict[str, list[str]] = {}
    banner = None
    status = 200
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "create")
        names = [n for n in obj.fields if editable(ctx, obj, n)]
        if request.method == "POST":
            _csrf()
            data = forms.parse(obj, request.form, names)
            values = forms.kept_input(obj, request.form, names)
        else:
            values = {**_defaults(ctx, obj, names), **forms.prefill(obj, request.args, names)}
    if request.method == "POST":
        try:
            with unit_of_work(actor, write=True) as ctx:
                created = records.create(ctx, obj.name, data)
                name = forms.record_name(ctx.schema.object(obj.name), created, ctx.language)
        except (ValidationError, ConflictError, PermissionDenied) as err:
            errors, banner, status = _form_failure(err)
        else:
            flash(i18n.text("created", object=obj.odef.label.get(i18n.language()), name=name),
                  "success")
            return redirect(url_for("objects_web.detail", object_name=obj.name,
                                    record_id=created["id"]))
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        page = _form_page(ctx, obj, None, values, errors, banner, creating=True)
    return Response(page, status=status, mimetype="text/html")


@web.route("/o/<object_name>/<record_id>/edit", methods=["GET", "POST"])
@login_required
def edit_record(actor: Actor, object_name: str, record_id: str) -> Any:
    errors: dict[str, list[str]] = {}
    banner = None
    status = 200
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "edit")
        record = records.get(ctx, obj.name, record_id)
        names = [n for n in obj.fields if editable(ctx, obj, n)]
        version = record["version"]
        if request.method == "POST":
            _csrf()
            data = forms.parse(obj, request.form, names)
            sent = request.form.get("version", "").strip()
            if sent.isdigit():
                version = data["version"] = int(sent)
            values = {**_inputs(obj, record, names), **forms.kept_input(obj, request.form, names)}
        else:
            values = _inputs(obj, record, names)
    if request.method == "POST":
        try:
            with unit_of_work(actor, write=True) as ctx:
                saved = records.update(ctx, obj.name, record["id"], data)
                name = forms.record_name(ctx.schema.object(obj.name), saved, ctx.language)
        except (ValidationError, ConflictError, PermissionDenied) as err:
            errors, banner, status = _form_failure(err)
        else:
            key = "saved" if saved["version"] != record["version"] else "no_changes"
            flash(i18n.text(key, object=obj.odef.label.get(i18n.language()), name=name),
                  "success")
            return redirect(url_for("objects_web.detail", object_name=obj.name,
                                    record_id=record["id"]))
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        page = _form_page(ctx, obj, record, values, errors, banner, version=version)
    return Response(page, status=status, mimetype="text/html")


def _inputs(obj: CompiledObject, record: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {n: forms.to_input(obj.fields[n], record.get(n)) for n in names if n in record}


def _defaults(ctx: Context, obj: CompiledObject, names: Iterable[str]) -> dict[str, Any]:
    """Default values shown on a new form, so the user sees what will be saved."""
    out: dict[str, Any] = {}
    for name in names:
        cf = obj.fields[name]
        if not cf.fdef.default:
            continue
        try:
            result = evaluate(ctx, obj, cf.fdef.default, {})
        except MetabizError as err:
            log.info("default of %s.%s not shown: %s", obj.name, name, err.message)
            continue
        if result["value"] is not None:
            out[name] = forms.to_input(cf, result["value"])
    return out


def _form_failure(err: MetabizError) -> tuple[dict[str, list[str]], str | None, int]:
    """Field errors, a banner (conflict, lock, record-level) and the status for a failed save."""
    if isinstance(err, RecordLocked):
        return {}, "locked", 409
    if isinstance(err, ConflictError) and "version" in err.fields:
        return {}, "conflict", 409
    if isinstance(err, PermissionDenied) and not err.fields:
        raise err
    fields = dict(err.fields)
    if not fields:
        fields = {RECORD_KEY: [err.message]}
    return fields, None, err.status


def _form_page(ctx: Context, obj: CompiledObject, record: dict[str, Any] | None,
               values: dict[str, Any], errors: dict[str, list[str]], banner: str | None, *,
               creating: bool = False, version: int | None = None) -> str:
    lang = ctx.language
    sections = layout(ctx, obj, record, editing=True, creating=creating)
    shown_fields = {n for s in sections for n in s.fields}
    lookups: dict[str, set[Any]] = {}
    for name in shown_fields:
        cf = obj.fields[name]
        raw = str(values.get(name) if editable(ctx, obj, name) else
                  (record or {}).get(name) or "")
        if cf.ftype.widget == "lookup" and cf.fdef.target and raw.isdigit():
            lookups.setdefault(cf.fdef.target, set()).add(int(raw))
    names = forms.lookup_names(ctx, lookups)
    readable_names = [o.name for o in readable(ctx)]
    views = []
    for section in sections:
        fields: list[FieldView] = []
        for name in section.fields:
            cf = obj.fields[name]
            if editable(ctx, obj, name):
                value = values.get(name, forms.to_input(cf, None))
                text = ""
                if cf.ftype.widget == "lookup" and str(value or "").isdigit():
                    text = names.get((cf.fdef.target or "", int(value)), f"#{value}")
                fields.append(forms.field_view(ctx, obj, cf, value, errors=errors,
                                               read_only=None, lookup_text=text))
            else:
                reason = "computed" if not cf.ftype.writable else "role"
                shown = forms.display(cf, (record or {}).get(name), lang=lang, names=names,
                                      readable=readable_names)
                fields.append(forms.field_view(ctx, obj, cf, None, errors=errors,
                                               read_only=reason, shown=shown))
        views.append(SectionView(section.label, section.columns, fields))
    # errors on fields the form does not show go on top, with the field's label
    general = [i18n.message(m, lang) for m in errors.get(RECORD_KEY, [])]
    for name, messages in errors.items():
        if name != RECORD_KEY and name not in shown_fields:
            label = forms.field_label(obj, name, lang)
            general.extend(f"{label}: {i18n.message(m, lang)}" for m in messages)
    users = sorted(n for n in user_names(ctx.conn) if n != "system") \
        if any(f.widget == "user" for s in views for f in s.fields) else []
    name = forms.record_name(obj, record, lang) if record else None
    return render_template(
        "form.html", obj=obj, record=record, sections=views, label=obj.odef.label.get(lang),
        title=plural(obj, lang), name=name, general=general, banner=banner,
        has_errors=bool(errors), version=version, users=users,
        action=url_for("objects_web.new_record", object_name=obj.name) if creating else
        url_for("objects_web.edit_record", object_name=obj.name, record_id=record["id"]
                if record else 0),
        cancel=url_for("objects_web.detail", object_name=obj.name, record_id=record["id"])
        if record else url_for("objects_web.list_page", object_name=obj.name))


# -- delete ----------------------------------------------------------------------------


@web.route("/o/<object_name>/<record_id>/delete", methods=["GET", "POST"])
@login_required
def delete_record(actor: Actor, object_name: str, record_id: str) -> Any:
    lang = i18n.language()
    with unit_of_work(actor) as ctx:
        obj = ctx.schema.object(object_name)
        ctx.schema.access.require(actor, obj.name, "delete")
        record = records.get(ctx, obj.name, record_id)
        name = forms.record_name(obj, record, lang)
        details = [plural(ctx.schema.object(c), lang) for c, link in obj.children
                   if ctx.schema.object(c).fields[link].fdef.type == "master_detail"]
    if request.method == "POST":
        _csrf()
        try:
            with unit_of_work(actor, write=True) as ctx:
                records.delete(ctx, obj.name, record["id"])
        except ConflictError as err:
            flash(err.message, "error")
            return redirect(url_for("objects_web.detail", object_name=obj.name,
                                    record_id=record["id"]))
        flash(i18n.text("deleted", object=obj.odef.label.get(lang), name=name), "success")
        return redirect(url_for("objects_web.list_page", object_name=obj.name))
    return render_template("delete.html", obj=obj, record=record, name=name,
                           label=obj.odef.label.get(lang), title=plural(obj, lang),
                           children=", ".join(details))


# -- approvals -------------------------------------------------------------------------


def _inbox(ctx: Context, status: str) -> list[dict[str, Any]]:
    module = approvals_module()
    if module is None:
        return []
    lang = ctx.language
    out = []
    for item in module.inbox(ctx, status=status):
        out.append({**item, "href": f"/o/{item['object']}/{item['record_id']}",
                    "name": item.get("record_name") or f"#{item['record_id']}",
                    "step": item.get("step_label") or item.get("step"),
                    "state": forms.display(None, item.get("status"), lang=lang,
                                           widget="approval_status"),
                    "when": forms.display(None, item.get("submitted_at"), lang=lang,
                                          widget="datetime")})
    return out


def _approval_panel(ctx: Context, obj: CompiledObject, record: dict[str, Any]) -> Any:
    """The record's approval requests with the actions the actor may take on each."""
    module = approvals_module()
    if module is None:
        return None
    lang = ctx.language
    panel = []
    for item in module.requests_for_record(ctx, obj.name, record["id"]):
        history = []
        for h in item.get("history", []):
            key = f"action_{h.get('action')}"
            history.append({"actor": h.get("actor"), "step": h.get("step"),
                            "action": i18n.text(key, lang) if key in i18n.TEXTS
                            else h.get("action"),
                            "comment": h.get("comment"),
                            "at": forms.display(None, h.get("at"), lang=lang,
                                                widget="datetime")})
        panel.append({
            "id": item["id"], "flow": item.get("flow_label") or item.get("flow"),
            "status": forms.display(None, item.get("status"), lang=lang,
                                    widget="approval_status"),
            "pending": item.get("status") == "pending",
            "step": item.get("step_label") or item.get("step"),
            "submitted_by": item.get("submitted_by"),
            "submitted_at": forms.display(None, item.get("submitted_at"), lang=lang,
                                          widget="datetime"),
            "approvers": item.get("pending_approvers") or [],
            "history": history, "actions": item.get("actions") or [],
            "locks": item.get("status") == "pending" and bool(item.get("locks_record"))})
    can_submit = record.get("approval_status") != "pending" and \
        ctx.schema.access.allowed(ctx.actor, obj.name, "edit") and _has_flow(ctx, obj.name)
    return {"requests": panel, "can_submit": can_submit,
            "locked": any(r["locks"] for r in panel)}


def _has_flow(ctx: Context, object_name: str) -> bool:
    return any(getattr(f, "kind", "") == "approval" and getattr(f, "object", "") == object_name
               and getattr(f, "active", True) for f in ctx.schema.bundle.definitions("flow"))


@web.post("/o/<object_name>/<record_id>/approvals")
@login_required
def submit_for_approval(actor: Actor, object_name: str, record_id: str) -> Any:
    _csrf()
    module = approvals_module()
    if module is None:
        raise NotFound(i18n.text("approvals_unavailable"))
    back = url_for("objects_web.detail", object_name=object_name, record_id=record_id)
    try:
        with unit_of_work(actor, write=True) as ctx:
            module.submit(ctx, object_name, record_id,
                          flow=request.form.get("flow") or None,
                          comment=request.form.get("comment", "").strip() or None)
    except (ValidationError, ConflictError, BadRequest, PermissionDenied) as err:
        flash(_flat_message(err), "error")
    else:
        flash(i18n.text("act_submitted"), "success")
    return redirect(back)


@web.post("/approvals/<request_id>/<action>")
@login_required
def act_on_approval(actor: Actor, request_id: str, action: str) -> Any:
    _csrf()
    module = approvals_module()
    if module is None or action not in APPROVAL_ACTIONS:
        raise NotFound(i18n.text("approvals_unavailable") if module is None
                       else f"no approval action {action!r}")
    back = safe_next(request.form.get("next")) or url_for("objects_web.approvals_inbox")
    try:
        with unit_of_work(actor, write=True) as ctx:
            module.act(ctx, int(request_id) if request_id.isdigit() else request_id, action,
                       comment=request.form.get("comment", "").strip() or None,
                       to=request.form.get("to", "").strip() or None)
    except (ValidationError, ConflictError, BadRequest, PermissionDenied) as err:
        flash(_flat_message(err), "error")
    else:
        flash(i18n.text(f"act_{action}"), "success")
    return redirect(back)


def _flat_message(err: MetabizError) -> str:
    parts = [err.message]
    for name, messages in err.fields.items():
        if not err.message.endswith(tuple(messages)):
            parts.extend(f"{name}: {i18n.message(m)}" if name != RECORD_KEY else
                         i18n.message(m) for m in messages)
    return " — ".join(parts)


@web.get("/approvals")
@login_required
def approvals_inbox(actor: Actor) -> Any:
    status = request.args.get("status", "pending")
    if status not in INBOX_TABS:
        status = "pending"
    with unit_of_work(actor) as ctx:
        items = _inbox(ctx, status)
    return render_template("approvals.html", items=items, status=status, tabs=INBOX_TABS,
                           available=approvals_module() is not None)

