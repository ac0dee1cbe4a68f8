"""The kernel's extension points: what higher packages plug in at start-up.

The composition roots (`metabiz/app.py`, `metabiz/cli.py`) build one `Extensions`, let each
package register with it (`metabiz.<package>.extension.register(ext)`), and hand it to
the runtime; lower layers read it and never import the packages that filled it in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: where a page panel shows: the home page, a record's detail page, a list page's header
#: (list panels are called as `render(ctx, obj, args)`, args being the list's query string),
#: or the page header of every page (the search box, the notifications bell)
PANEL_SLOTS = ("home", "record", "list", "header")

#: a write listener: called inside every record write with (objects.context.Context, WriteEvent)
Listener = Callable[[Any, Any], None]

#: a before-save hook: called inside every record write before the validation rules with
#: (objects.context.Context, objects.records.Draft); it may change the draft's own fields
BeforeSave = Callable[[Any, Any], None]

#: a read grant: called as `grant(actor, object_name, id_column)`; returns a SQL condition
#: on the record id selecting records the actor may also read beyond their record access
#: (approvers the records waiting on them), or None
ReadGrant = Callable[[Any, str, Any], Any]

#: a metadata check: called with the compiled schema of a metadata version about to be
#: applied; returns problems as `file: /json/pointer: message` lines (empty when all is well)
MetadataCheck = Callable[[Any], Sequence[str]]

#: the OpenAPI paths of the endpoints a package serves: called as `paths(schema, actor)` with
#: the compiled schema and the caller (None when anonymous) each time the document is built;
#: returns `{"/reports/{name}": {"parameters": [...], "get": {...}}, ...}` (path items of
#: OpenAPI 3.1, errors as `#/components/schemas/Error`)
OpenApiPaths = Callable[[Any, Any], Mapping[str, Mapping[str, Any]]]

#: a background job kind a package adds: run by the job worker as `run(payload, env)`, outside
#: any transaction of its own (env carries `engine`, `runtime` and `now`, `attempt` (1 for the
#: first run) and `taken_over`: True when the worker of the previous attempt stopped before it
#: finished — the kind decides whether to start again or give up)
JobRunner = Callable[[Mapping[str, Any], Any], None]

#: what the package owning the job table provides to put a job on it: called as
#: `enqueue(conn, kind, payload)` inside the caller's transaction; returns the job's id
JobQueue = Callable[[Any, str, Mapping[str, Any]], int]


@dataclass(frozen=True)
class Panel:
    """A block of HTML a higher package adds to a page of a lower one.

    Home and header panels are called as `render(actor)` and open their own unit of work;
    record panels as `render(ctx, obj, record)` inside the detail page's. Either returns markup, or None to
    show nothing. `order` sorts the panels of one slot (lower first).
    """

    name: str
    slot: str
    render: Callable[..., Any]
    order: int = 100


@dataclass(frozen=True)
class NavLink:
    """One link of the navigation: `icon` names a built-in icon, else the label's initial."""

    href: str
    label: str
    badge: int | None = None
    icon: str | None = None


@dataclass(frozen=True)
class NavSection:
    """A group of links in the navigation; `links(actor)` is called once per page.

    `heading` is an i18n text key (None: no heading). A section with no links is not shown.
    """

    name: str
    links: Callable[[Any], Sequence[NavLink]]
    heading: str | None = None
    order: int = 100


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a record's activity timeline (the detail page's stream, newest first).

    `kind` says what happened (`change`, `claim`, `return`, `assign`, `transfer`, `note`,
    `related`, `approval`, `created`); `title` and `detail` are worded in the actor's
    language; `href` links what the event is about (a related record).
    """

    at: dt.datetime
    kind: str
    title: str
    by: str | None = None
    detail: str | None = None
    href: str | None = None


#: a timeline source: called as `source(ctx, compiled object, record values)` inside the
#: page's unit of work; returns the events it knows of (approvals, files…)
TimelineSource = Callable[[Any, Any, Any], Sequence[TimelineEntry]]

#: an upgrade step: called as `step(engine, extensions)` by `metabiz upgrade` (and `init`)
#: after the system tables' revisions, to bring what lives beside the object tables up to
#: date (the objects' search indexes); must be idempotent and cheap when nothing is missing
UpgradeStep = Callable[[Any, "Extensions"], None]


@dataclass(frozen=True)
class DocumentKind:
    """A kind of metadata document a package adds to the folder format (flows, reports…).

    `folder` is where its files live (`flows/`), `schema` the JSON Schema file validating one
    document (its `$ref`s resolve against the kernel's schemas and the files beside it),
    `build(doc)` turns a valid document into a frozen definition with `api_name` and
    `to_json()`, and `check(definition, checker)` adds cross-document problems through a
    `metabiz.platform.metadata.crosscheck.DocumentChecker` (unknown objects, fields…).
    `marker` is a top-level key only this kind's documents have (`"kind"` for flows): it
    tells what a lone file given to `metabiz apply` holds.
    """

    name: str
    folder: str
    schema: Path
    build: Callable[[Any], Any]
    check: Callable[[Any, Any], None] | None = None
    marker: str | None = None


@dataclass
class Extensions:
    """Everything registered at start-up; read-only once the process serves."""

    listeners: list[Listener] = field(default_factory=list)
    before_save: list[BeforeSave] = field(default_factory=list)
    read_grants: list[ReadGrant] = field(default_factory=list)
    checks: list[MetadataCheck] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    nav: list[NavSection] = field(default_factory=list)
    commands: list[Any] = field(default_factory=list)  # click commands and groups
    document_kinds: list[DocumentKind] = field(default_factory=list)
    migrations: list[Path] = field(default_factory=list)  # Alembic version folders
    job_kinds: dict[str, JobRunner] = field(default_factory=dict)
    #: set by the package that runs jobs (flows); None when no package does
    job_queue: JobQueue | None = None
    timeline_sources: list[TimelineSource] = field(default_factory=list)
    upgrade_steps: list[UpgradeStep] = field(default_factory=list)
    openapi_paths: list[OpenApiPaths] = field(default_factory=list)

    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def add_before_save(self, hook: BeforeSave) -> None:
        self.before_save.append(hook)

    def add_read_grant(self, grant: ReadGrant) -> None:
        self.read_grants.append(grant)

    def add_check(self, check: MetadataCheck) -> None:
        self.checks.append(check)

    def add_panel(self, panel: Panel) -> None:
        if panel.slot not in PANEL_SLOTS:
            raise ValueError(f"unknown panel slot {panel.slot!r}; use one of {PANEL_SLOTS}")
        self.panels.append(panel)

    def add_nav(self, section: NavSection) -> None:
        self.nav.append(section)

    def add_command(self, command: Any) -> None:
        self.commands.append(command)

    def add_document_kind(self, kind: DocumentKind) -> None:
        if any(k.name == kind.name or k.folder == kind.folder for k in self.document_kinds):
            raise ValueError(f"document kind {kind.name!r} ({kind.folder}/) is registered twice")
        self.document_kinds.append(kind)

    def add_migrations(self, folder: Path) -> None:
        self.migrations.append(folder)

    def add_job_kind(self, name: str, run: JobRunner) -> None:
        if name in self.job_kinds:
            raise ValueError(f"job kind {name!r} is registered twice")
        self.job_kinds[name] = run

    def set_job_queue(self, enqueue: JobQueue) -> None:
        self.job_queue = enqueue
    def add_timeline_source(self, source: TimelineSource) -> None:
        self.timeline_sources.append(source)

    def add_upgrade_step(self, step: UpgradeStep) -> None:
        self.upgrade_steps.append(step)

    def add_openapi(self, paths: OpenApiPaths) -> None:
        self.openapi_paths.append(paths)

    def panels_for(self, slot: str) -> list[Panel]:
        return sorted((p for p in self.panels if p.slot == slot), key=lambda p: p.order)

    def nav_sections(self) -> list[NavSection]:
        return sorted(self.nav, key=lambda e: e.order)

    def metadata_problems(self, schema: Any) -> list[str]:
        """Every registered check's problems for a compiled schema, in registration order."""
        return [problem for check in self.checks for problem in check(schema)]


@dataclass(frozen=True)
class Wiring:
    """What a composition root hands to the kernel's CLI and web layers.

    `prepare_database(engine)` makes a blank database's system tables and refuses one at an
    older schema (what servers and workers do); `upgrade_database(engine)` brings one up to
    date and returns the revisions applied (what `init`, `upgrade` and the admin commands
    do); `make_runtime(engine)` builds the per-process runtime (compiled schema cache, write
    listeners) with these extensions. The kernel calls them without knowing which packages
    fill them in.
    """

    extensions: Extensions
    prepare_database: Callable[[Any], None]
    upgrade_database: Callable[[Any], list[str]]
    make_runtime: Callable[[Any], Any]
