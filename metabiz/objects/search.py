"""Search across objects: the records the actor may read whose text, e-mail or phone fields
match every word of a query, ranked, with a snippet of what matched.

One ranked query per readable object, on its own table, with the record scope and the
role's hidden fields applied in SQL; the words are found through the object's search index
(objects/search_index.py: FTS5 trigram on SQLite, pg_trgm on PostgreSQL). See docs/api.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, select
from sqlalchemy.sql.elements import ColumnClause

from metabiz.errors import BadRequest
from metabiz.objects import search_index
from metabiz.objects.context import Context
from metabiz.objects.query import scope
from metabiz.objects.records import compute
from metabiz.objects.schema import CompiledField, CompiledObject

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
#: at most this many words of a query count; longer words are cut
MAX_TERMS = 8
MAX_TERM_LENGTH = 100
SNIPPET_CONTEXT = 40
#: what ranks a match: the record's name field counts more than its other fields
EXACT, PREFIX, CONTAINS = 8, 4, 1
NAME_WEIGHT = 5

_WORDISH = re.compile(r"\w")
#: sentence punctuation stripped from both ends of a word (ASCII and the usual CJK marks),
#: so "Acme," finds Acme; symbols that are part of values (100%, +86, #12, a@b.cn) stay
_EDGES = "\"'`,.;:!?()[]{}<>，。！？、；：“”‘’（）【】《》…·"


@dataclass(frozen=True)
class Hit:
    """One record found: what the API returns, plus what ranks it."""

    object: str
    id: int
    name: str
    snippet: str
    score: int
    updated_at: Any

    def to_json(self) -> dict[str, Any]:
        return {"object": self.object, "id": self.id, "name": self.name,
                "snippet": self.snippet}


def terms(text: str | None) -> list[str]:
    """The words a query searches for: split on spaces, punctuation trimmed from their ends;
    words with no letter or digit (a query of only punctuation) are left out."""
    out: list[str] = []
    for raw in (text or "").split():
        word = raw.strip(_EDGES)[:MAX_TERM_LENGTH]
        if word and _WORDISH.search(word) and word.casefold() not in \
                {w.casefold() for w in out}:
            out.append(word)
    return out[:MAX_TERMS]


def limit_of(raw: Any) -> int:
    """`?limit=`: 1 to MAX_LIMIT, DEFAULT_LIMIT when absent; 400 otherwise."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest("limit must be a whole number",
                         fields={"limit": ["not a whole number"]}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}",
                         fields={"limit": [f"must be between 1 and {MAX_LIMIT}"]})
    return value


def search(ctx: Context, text: str | None, *, limit: int = DEFAULT_LIMIT,
           objects: Sequence[str] | None = None) -> list[Hit]:
    """The best `limit` matches over every object the actor may read (or only `objects`),
    best first; ties go to the most recently changed record."""
    words = terms(text)
    if not words:
        return []
    hits: list[Hit] = []
    for obj in ctx.schema.objects.values():
        if objects is not None and obj.name not in objects:
            continue
        if not ctx.schema.access.allowed(ctx.actor, obj.name, "read"):
            continue
        hits.extend(_search_object(ctx, obj, words, limit))
    hits.sort(key=lambda h: (h.score, h.updated_at, h.id), reverse=True)
    return hits[:limit]


def searched_fields(ctx: Context, obj: CompiledObject) -> list[CompiledField]:
    """The stored text, e-mail, phone (and URL, auto-number) fields the actor may see."""
    hidden = ctx.schema.access.hidden_fields(ctx.actor, obj.name, obj.fields)
    return [cf for cf in obj.fields.values()
            if cf.ftype.searchable and cf.ftype.stored and cf.name not in hidden]


def _pattern(word: str, *, start: bool = False, end: bool = False) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("" if start else "%") + escaped + ("" if end else "%")


def _matches(column: ColumnClause[Any], pattern: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive LIKE: SQLite's LIKE already ignores ASCII case (and CJK has none),
    so it runs without lower() on every row; PostgreSQL's ILIKE can use trigram indexes."""
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _rank(column: ColumnClause[Any], word: str, weight: int,
          dialect: str) -> ColumnElement[Any]:
    return case(
        (_matches(column, _pattern(word, start=True, end=True), dialect), EXACT * weight),
        (_matches(column, _pattern(word, start=True), dialect), PREFIX * weight),
        (_matches(column, _pattern(word), dialect), CONTAINS * weight),
        else_=0)


def _search_object(ctx: Context, obj: CompiledObject, words: list[str],
                   limit: int) -> list[Hit]:
    fields = searched_fields(ctx, obj)
    if not fields:
        return []
    columns = [obj.table.c[cf.name] for cf in fields]
    # every word must match some field (of the same record), through the index if any
    dialect = ctx.conn.dialect.name
    matches = search_index.matching(ctx.conn, obj, [cf.name for cf in fields], words)
    name_field = obj.odef.name_field
    score: ColumnElement[Any] = literal(0)
    for column in columns:
        weight = NAME_WEIGHT if column.name == name_field else 1
        for word in words:
            score = score + _rank(column, word, weight, dialect)
    ranked = score.label("search_score")
    query = (select(obj.table, ranked).where(*scope(ctx, obj), and_(*matches))
             .order_by(ranked.desc(), obj.table.c.updated_at.desc(), obj.table.c.id.desc())
             .limit(limit))
    out = []
    for row in ctx.conn.execute(query).mappings():
        values = obj.decode(row)
        if name_field and obj.fields[name_field].formula is not None:
            values = compute(ctx, obj, values)
        out.append(Hit(object=obj.name, id=values["id"], name=_name(obj, values, ctx.language),
                       snippet=_snippet(ctx, obj, fields, values, words),
                       score=int(row["search_score"] or 0),
                       updated_at=values.get("updated_at")))
    return out


def _name(obj: CompiledObject, values: dict[str, Any], lang: str) -> str:
    name_field = obj.odef.name_field
    value = values.get(name_field) if name_field else None
    if value not in (None, ""):
        return str(value)
    return f"{obj.odef.label.get(lang)} #{values.get('id')}"


def _snippet(ctx: Context, obj: CompiledObject, fields: list[CompiledField],
             values: dict[str, Any], words: list[str]) -> str:
    """`Label: …text around the first match…` from the first field (other than the name)
    that matched a word; the name itself when nothing else did."""
    folded = [w.lower() for w in words]
    name_field = obj.odef.name_field
    for cf in sorted(fields, key=lambda f: f.name == name_field):
        value = values.get(cf.name)
        if value in (None, ""):
            continue
        text = " ".join(str(value).split())
        lowered = text.lower()
        found = [lowered.find(w) for w in folded if w in lowered]
        if not found and cf.fdef.type == "phone" and any(
                (d := search_index.phone_digits(w)) and d in _digits(text) for w in words):
            found = [0]
        if not found:
            continue
        if cf.name == name_field:
            return text
        at = min(found)
        start = max(0, at - SNIPPET_CONTEXT)
        end = min(len(text), at + SNIPPET_CONTEXT * 2)
        shown = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        return f"{cf.fdef.label.get(ctx.language)}: {shown}"
    return ""


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())
