"""Names a field may not take: the system columns and SQL/formula reserved words.

The one list the loader checks `api_name`s against; other layers may import it.
"""

from __future__ import annotations

#: Columns every object table has (see ARCHITECTURE.md "Storage"; `locked` is set while
#: an approval with `lock_record` is pending).
SYSTEM_COLUMNS: frozenset[str] = frozenset(
    "id owner created_at created_by updated_at updated_by version approval_status locked"
    .split()
)

#: System columns a list view, a sort or another document may name (the hidden `locked`
#: excluded).
SYSTEM_FIELDS: frozenset[str] = SYSTEM_COLUMNS - {"locked"}

#: The system column of an object that declares pools: the pool a record is in (None when
#: someone owns it). Only such objects have it, and none of their fields may take the name.
POOL_COLUMN = "pool"

#: System columns holding a user name (usable where a user field is expected).
SYSTEM_USER_COLUMNS: frozenset[str] = frozenset({"owner", "created_by", "updated_by"})

#: System columns holding a timestamp.
SYSTEM_DATETIME_COLUMNS: frozenset[str] = frozenset({"created_at", "updated_at"})

# PostgreSQL's fully reserved key words (also reserved, or nearly so, in SQLite and
# SQL:2016), plus the formula language's own words. Column names are quoted, so this is
# about clarity in filters and hand-written SQL, not about what the database accepts.
_SQL_RESERVED = """
all analyse analyze and any array as asc asymmetric authorization between binary both
case cast check collate collation column concurrently constraint create cross
current_catalog current_date current_role current_schema current_time current_timestamp
current_user default deferrable desc distinct do else end except exists false fetch for
foreign freeze from full grant group having ilike in initially inner intersect into is
isnull join lateral leading left like limit localtime localtimestamp natural not notnull
null offset on only or order outer overlaps placing primary references returning right
select session_user similar some symmetric system_user table tablesample then to trailing
true union unique user using variadic verbose when where window with
"""
_FORMULA_RESERVED = "if case and or not null true false"

RESERVED_WORDS: frozenset[str] = frozenset(_SQL_RESERVED.split()) | frozenset(
    _FORMULA_RESERVED.split()
)


def field_name_problem(name: str) -> str | None:
    """Why `name` cannot be a field's api_name, or None when it can."""
    if name in SYSTEM_COLUMNS:
        return f"{name!r} is a system field every object already has"
    return name_problem(name)


def name_problem(name: str) -> str | None:
    """Why `name` cannot name an object (or other metadata), or None when it can."""
    if name in RESERVED_WORDS:
        return f"{name!r} is a reserved word of SQL or the formula language"
    return None
