"""Business calendars (app.json's `"calendars"`) as the builder edits them: dates typed as a
list, checked and sorted, and one calendar put or removed in its app's manifest.

A calendar's other keys (those this form does not show) are kept as they are.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from metabiz.builder_ui.problems import explain
from metabiz.errors import BadRequest, ConflictError, MetadataError, NotFound
from metabiz.objects.evolution import Plan, apply_documents
from metabiz.platform.extensions import Extensions
from metabiz.platform.metadata.store import current_version, split_apps
from metabiz.platform.metadata.store import load_documents as stored_documents

#: the date lists a calendar has, in the order the form shows them
DATE_KEYS = ("holidays", "workdays")
#: what separates dates typed in a box: new lines, commas (also the Chinese ones), spaces
_SEPARATORS = re.compile(r"[\s,，、;；]+")
#: a calendar's name (an api_name: formulas name the calendar)
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_dates(text: str) -> tuple[list[str], list[str]]:
    """The dates typed in a box, sorted, and the problems (not a date, listed twice)."""
    dates: list[str] = []
    problems: list[str] = []
    for entry in (e for e in _SEPARATORS.split(text or "") if e):
        try:
            if not _ISO_DATE.match(entry):
                raise ValueError(entry)
            dt.date.fromisoformat(entry)
        except ValueError:
            problems.append(f"{entry!r} is not a date (YYYY-MM-DD)")
            continue
        if entry in dates:
            problems.append(f"{entry} is listed twice")
            continue
        dates.append(entry)
    return sorted(dates), problems


def calendar_from_form(form: Mapping[str, Any], original: Mapping[str, Any] | None
                       ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The calendar the form describes (the original's other keys kept), and the problems by
    date list."""
    calendar = copy.deepcopy(dict(original or {}))
    problems: dict[str, list[str]] = {}
    for key in DATE_KEYS:
        dates, wrong = parse_dates(str(form.get(key) or ""))
        if wrong:
            problems[key] = wrong
        if dates:
            calendar[key] = dates
        else:
            calendar.pop(key, None)
    return calendar, problems


def calendars_of(documents: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every app's calendars: `{"app", "name", "calendar"}`, by name."""
    found = []
    for app, docs in split_apps(documents).items():
        manifest = docs.get("app.json")
        calendars = manifest.get("calendars") if isinstance(manifest, dict) else None
        for name, calendar in (calendars or {}).items():
            if isinstance(calendar, dict):
                found.append({"app": app, "name": name, "calendar": calendar})
    return sorted(found, key=lambda c: c["name"])


def manifest_apps(documents: Mapping[str, Any]) -> list[str]:
    """The apps with a manifest (app.json), where a new calendar may go."""
    return sorted(app for app, docs in split_apps(documents).items()
                  if isinstance(docs.get("app.json"), dict))


def put_calendar(engine: Engine, extensions: Extensions, app: str, name: str,
                 calendar: dict[str, Any] | None, *, base_version: int | None,
                 dry_run: bool, applied_by: str) -> Plan:
    """Add, replace or (calendar None) remove the calendar `name` in `app`'s app.json, as
    a metadata change with its plan; the plan's line for the app lists the dates changed."""
    with engine.connect() as conn:
        if base_version is not None and not 0 <= base_version <= current_version(conn):
            raise BadRequest(f"no metadata version {base_version}",
                             fields={"base_version": ["no such version"]})
        base = stored_documents(conn, base_version) if base_version else None
    before: dict[str, Any] = {}

    def change(current: dict[str, Any]) -> dict[str, Any]:
        key = f"{app}/app.json"
        manifest = current.get(key)
        if not isinstance(manifest, dict):
            raise NotFound(f"no app named {app!r}")
        calendars = dict(manifest.get("calendars") or {})
        if base is not None and _calendar_in(base, app, name) != calendars.get(name):
            raise ConflictError(f"calendar {name!r} was changed by someone else after version "
                                f"{base_version}, which your copy comes from; reload it and "
                                "make your change again", fields={"base_version": ["stale"]})
        if calendar is None and name not in calendars:
            raise NotFound(f"no calendar named {name!r}")
        before.update(calendars.get(name) or {})
        if calendar is None:
            calendars.pop(name)
        else:
            calendars[name] = calendar
        manifest = {**manifest, "calendars": calendars}
        if not calendars:
            manifest.pop("calendars")
        current[key] = manifest
        return current

    try:
        plan = apply_documents(engine, change, extensions=extensions, applied_by=applied_by,
                               summary=f"builder: {'remove' if calendar is None else 'save'} "
                                       f"calendar {name}", dry_run=dry_run)
    except MetadataError as err:  # by pointer into app.json (/calendars/cn/holidays/2)
        raise explain(err, "app.json") from None
    except IntegrityError:  # another apply took the same version number first
        raise ConflictError("someone else applied a metadata change at the same moment; "
                            "reload and try again") from None
    for line in plan.changes:
        if line.text == f"change app {app}":
            line.details.extend(date_changes(name, before, calendar or {}))
    return plan


def date_changes(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """`calendar cn: holidays + 2026-10-01, 2026-10-02` and the like, per date list."""
    lines = []
    for key in DATE_KEYS:
        old, new = set(before.get(key) or ()), set(after.get(key) or ())
        if new - old:
            lines.append(f"calendar {name}: {key} + {', '.join(sorted(new - old))}")
        if old - new:
            lines.append(f"calendar {name}: {key} − {', '.join(sorted(old - new))}")
    return lines


def _calendar_in(documents: Mapping[str, Any], app: str, name: str) -> Any:
    manifest = documents.get(f"{app}/app.json")
    calendars = manifest.get("calendars") if isinstance(manifest, dict) else None
    return calendars.get(name) if isinstance(calendars, dict) else None
