"""Reports compiled against one metadata version: every key and measure checked and typed.

`check_reports` is the metadata check `metabiz apply` runs (a sum of text, a bucket on a
non-date, an unknown field: refused with the JSON pointer); `compiled_reports(schema)` caches
the compiled reports beside their RuntimeSchema for the engine.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from metabiz.errors import FormulaError, MetadataError, NotFound
from metabiz.formulas import CheckedFormula, FType, check
from metabiz.objects.schema import RuntimeSchema
from metabiz.platform.metadata.model import FieldDef, Label
from metabiz.platform.metadata.reserved import SYSTEM_USER_COLUMNS
from metabiz.reports.definitions import (
    DASHBOARD,
    REPORT,
    DashboardDef,
    GroupDef,
    MeasureDef,
    ReportDef,
)

#: decimals of a sum, minimum or maximum over a formula (a field keeps its own scale)
FORMULA_DECIMALS = 6
#: the types a measure function takes
MEASURE_TYPES = {
    "sum": {FType.NUMBER},
    "avg": {FType.NUMBER},
    "min": {FType.NUMBER, FType.DATE, FType.DATETIME},
    "max": {FType.NUMBER, FType.DATE, FType.DATETIME},
}
#: the types a report groups by (not lists, times of day, locations, links or images)
KEY_TYPES = {FType.NUMBER, FType.TEXT, FType.BOOLEAN, FType.DATE, FType.DATETIME,
             FType.PICKLIST}


@dataclass(frozen=True)
class CompiledKey:
    gdef: GroupDef
    checked: CheckedFormula
    #: the field the key reads when it is a field path (its picklist labels, its lookup)
    fdef: FieldDef | None
    bucket: str | None  # datetimes without a bucket group by day
    #: a lookup key's record name (`account.name`), shown instead of its id
    name: CheckedFormula | None = None
    #: the object whose name field `name` reads, and that field
    name_of: tuple[str, str] | None = None

    @property
    def holds_user(self) -> bool:
        """A key on a user field (or owner, created_by, updated_by): shown by display name."""
        if self.gdef.field is None:
            return False
        if self.fdef is None:
            return self.gdef.field in SYSTEM_USER_COLUMNS
        return self.fdef.type == "user"

    @property
    def column(self) -> str:
        return self.gdef.api_name

    @property
    def ftype(self) -> FType:
        return self.checked.type

    def label(self, lang: str) -> str:
        if self.gdef.label is not None:
            return self.gdef.label.get(lang)
        if self.fdef is not None and self.gdef.field == self.fdef.api_name:
            return self.fdef.label.get(lang)
        return Label.of(None, self.column.replace(".", " ")).get(lang)


@dataclass(frozen=True)
class CompiledMeasure:
    mdef: MeasureDef
    checked: CheckedFormula | None  # None for count
    fdef: FieldDef | None
    #: decimals a number result keeps (None: not a number)
    decimals: int | None

    @property
    def name(self) -> str:
        return self.mdef.api_name

    @property
    def function(self) -> str:
        return self.mdef.function

    @property
    def ftype(self) -> FType:
        if self.function in ("count", "count_distinct"):
            return FType.NUMBER
        assert self.checked is not None
        return self.checked.type

    def label(self, lang: str) -> str:
        if self.mdef.label is not None:
            return self.mdef.label.get(lang)
        return Label.of(None, self.name).get(lang)


@dataclass(frozen=True)
class CompiledReport:
    rdef: ReportDef
    keys: tuple[CompiledKey, ...]
    measures: tuple[CompiledMeasure, ...]
    filter: CheckedFormula | None
    zone: str

    @property
    def name(self) -> str:
        return self.rdef.api_name

    @property
    def object(self) -> str:
        return self.rdef.object

    def formulas(self) -> list[CheckedFormula]:
        found = [k.checked for k in self.keys] + [m.checked for m in self.measures
                                                  if m.checked is not None]
        return found + ([self.filter] if self.filter is not None else [])


class CompiledReports:
    """The reports of one schema version by name, and the problems of those that failed."""

    def __init__(self, schema: RuntimeSchema) -> None:
        self.reports: dict[str, CompiledReport] = {}
        self.problems: dict[str, list[str]] = {}
        zone = app_zone(schema)
        for rdef in schema.bundle.definitions(REPORT):
            problems: list[str] = []
            compiled = compile_report(rdef, schema, zone, problems)
            if problems or compiled is None:
                self.problems[rdef.api_name] = problems
            else:
                self.reports[rdef.api_name] = compiled

    def report(self, name: str) -> CompiledReport:
        if name in self.problems:
            raise MetadataError(self.problems[name], f"the report {name!r} has errors: "
                                + "; ".join(self.problems[name]))
        found = self.reports.get(name)
        if found is None:
            raise NotFound(f"unknown report {name!r}")
        return found


_CACHE: weakref.WeakKeyDictionary[RuntimeSchema, CompiledReports] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def compiled_reports(schema: RuntimeSchema) -> CompiledReports:
    with _LOCK:
        found = _CACHE.get(schema)
        if found is None:
            found = _CACHE[schema] = CompiledReports(schema)
        return found


def app_zone(schema: RuntimeSchema) -> str:
    """The time zone of app.json (`UTC` when none is set)."""
    app = schema.bundle.app
    return (app.timezone if app is not None else None) or "UTC"


def compile_report(rdef: ReportDef, schema: RuntimeSchema, zone: str,
                   problems: list[str]) -> CompiledReport | None:
    """The report checked against the schema; its problems appended as
    `reports/<name>.json: /pointer: message` lines (None when the object is unknown)."""
    where = f"reports/{rdef.api_name}.json"
    if rdef.object not in schema.objects:
        problems.append(f"{where}: /object: unknown object {rdef.object!r}")
        return None

    def formula(source: str, path: str, expected: FType | None = None) -> CheckedFormula | None:
        try:
            return check(source, schema.catalog, rdef.object, context="filter",
                         expected=expected)
        except FormulaError as err:
            at = f"{err.line}:{err.column}: " if err.line is not None else ""
            problems.append(f"{where}: {path}: {at}{err.message}")
            return None

    keys: list[CompiledKey] = []
    for i, g in enumerate(rdef.group_by):
        path = f"/group_by/{i}/" + ("field" if g.field is not None else "formula")
        checked = formula(g.field or g.formula or "", path)
        if checked is None:
            continue
        if checked.type not in KEY_TYPES:
            problems.append(f"{where}: {path}: a report cannot group by a {checked.type.label}")
            continue
        bucket = g.bucket
        if bucket is not None and checked.type not in (FType.DATE, FType.DATETIME):
            problems.append(f"{where}: /group_by/{i}/bucket: a {bucket} bucket groups dates, "
                            f"and {g.field or 'the formula'} is a {checked.type.label}")
            continue
        if bucket is None and checked.type is FType.DATETIME:
            bucket = "day"
        fdef = _field_at(schema, rdef.object, g.field)
        keys.append(CompiledKey(g, checked, fdef, bucket, *_record_name(schema, rdef, g, fdef)))

    measures: list[CompiledMeasure] = []
    for i, m in enumerate(rdef.measures):
        if m.function == "count":
            measures.append(CompiledMeasure(m, None, None, None))
            continue
        path = f"/measures/{i}/" + ("field" if m.field is not None else "formula")
        checked = formula(m.field or m.formula or "", path)
        if checked is None:
            continue
        allowed = MEASURE_TYPES.get(m.function, KEY_TYPES)
        if checked.type not in allowed:
            what = m.field or "the formula"
            takes = " or ".join(sorted(t.label for t in allowed))
            problems.append(f"{where}: {path}: {m.function} needs a {takes}, and {what} is a "
                            f"{checked.type.label}")
            continue
        fdef = _field_at(schema, rdef.object, m.field)
        measures.append(CompiledMeasure(m, checked, fdef, _decimals(m.function, checked, fdef)))

    checked_filter = None
    if rdef.filter:
        checked_filter = formula(rdef.filter, "/filter", FType.BOOLEAN)
    for problem in _sql_problems(schema, rdef, keys, measures, checked_filter):
        problems.append(f"{where}: {problem}")
    if problems:
        return None
    return CompiledReport(rdef, tuple(keys), tuple(measures), checked_filter, zone)


def _sql_problems(schema: RuntimeSchema, rdef: ReportDef, keys: list[CompiledKey],
                  measures: list[CompiledMeasure],
                  filter: CheckedFormula | None) -> list[str]:
    """The formulas that check but cannot run in the database (they would make the report
    loop over records in Python, which a report never does)."""
    found = []
    parts: list[tuple[str, CheckedFormula | None]] = [
        (f"/group_by/{i}", k.checked) for i, k in enumerate(keys)]
    parts += [(f"/measures/{i}", m.checked) for i, m in enumerate(measures)]
    parts.append(("/filter", filter))
    for path, checked in parts:
        if checked is None:
            continue
        try:
            schema.formula_sql(checked, rdef.object)
        except FormulaError as err:
            at = f"{err.line}:{err.column}: " if err.line is not None else ""
            found.append(f"{path}: {at}{err.message}")
    return found


def _record_name(schema: RuntimeSchema, rdef: ReportDef, g: GroupDef, fdef: FieldDef | None,
                 ) -> tuple[CheckedFormula | None, tuple[str, str] | None]:
    """For a key on a lookup field: the formula reading the record's name field."""
    if fdef is None or g.field is None or fdef.type not in ("lookup", "master_detail"):
        return None, None
    target = schema.objects.get(fdef.target or "")
    name_field = target.odef.name_field if target is not None else None
    if target is None or not name_field:
        return None, None
    try:
        checked = check(f"{g.field}.{name_field}", schema.catalog, rdef.object,
                        context="filter")
    except FormulaError:
        return None, None
    return checked, (target.name, name_field)


def _field_at(schema: RuntimeSchema, object_name: str, path: str | None) -> FieldDef | None:
    """The definition of the field a dotted path ends at (None for system fields)."""
    if path is None:
        return None
    current: str | None = object_name
    fdef = None
    for part in path.split("."):
        obj = schema.objects.get(current or "")
        cf = obj.fields.get(part) if obj is not None else None
        if cf is None:
            return None
        fdef = cf.fdef
        current = fdef.target
    return fdef


def field_scale(fdef: FieldDef | None) -> int | None:
    """The decimals a number, currency or percent field stores (None for other fields)."""
    if fdef is None:
        return None
    if fdef.type in ("currency", "percent"):
        return 2 if fdef.scale is None else fdef.scale
    if fdef.type == "number":
        return fdef.scale or 0
    return None


def _decimals(function: str, checked: CheckedFormula, fdef: FieldDef | None) -> int | None:
    if checked.type is not FType.NUMBER:
        return None
    scale = field_scale(fdef)
    if function == "avg":
        return FORMULA_DECIMALS if scale is None else min(scale + 2, 10)
    if function == "count_distinct":
        return 0
    return FORMULA_DECIMALS if scale is None else scale


def check_reports(schema: RuntimeSchema) -> list[str]:
    """Every problem of every report and dashboard of a metadata version about to be applied."""
    problems: list[str] = []
    zone = app_zone(schema)  # the loader has refused an unknown app.json time zone
    for rdef in schema.bundle.definitions(REPORT):
        compile_report(rdef, schema, zone, problems)
    reports = {r.api_name for r in schema.bundle.definitions(REPORT)}
    roles = {r.api_name for r in schema.bundle.roles} | {"admin"}
    for ddef in schema.bundle.definitions(DASHBOARD):
        problems.extend(dashboard_problems(ddef, reports, roles))
    return problems


def dashboard_problems(ddef: DashboardDef, reports: set[str], roles: set[str]) -> list[str]:
    where = f"dashboards/{ddef.api_name}.json"
    found = [f"{where}: /roles/{i}: unknown role {role!r}"
             for i, role in enumerate(ddef.roles) if role not in roles]
    found += [f"{where}: /components/{i}/report: unknown report {c.report!r}"
              for i, c in enumerate(ddef.components) if c.report not in reports]
    return found
