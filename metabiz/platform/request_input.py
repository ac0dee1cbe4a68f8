"""What a request may carry: whole numbers written in ASCII digits within a column's range,
text without NUL characters or lone surrogates (which no database stores and no JSON reader accepts).

The API kernel and the pages read their parameters through these checks, so bad input is a
400 in the contract's error format, never a database error or a 500.
"""

from __future__ import annotations

from typing import Any

from flask import request

from metabiz.errors import BadRequest

#: the largest value a signed 64-bit column (ids, offsets) holds
MAX_BIGINT = 2**63 - 1
#: the highest `?page=` of a paged page: far beyond any list (25 billion records at 25 a
#: page), small enough for any database's OFFSET
MAX_PAGE = 10**9


def whole_number(raw: Any) -> int | None:
    """`raw` as a non-negative whole number when it is written in ASCII digits (no sign,
    no spaces, no `_`, no Unicode digits such as `١` or `²`) and fits a 64-bit column."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
        return value if value <= MAX_BIGINT else None
    return None


def int_param(name: str, raw: Any, default: int, low: int, high: int | None = None) -> int:
    """A whole-number query parameter (ASCII digits, an optional `-`) within [low, high];
    400 naming it otherwise."""
    if raw is None or raw == "":
        return default
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else \
        raw if isinstance(raw, str) else ""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise BadRequest(f"{name} must be a whole number", fields={name: ["not a whole number"]})
    top = MAX_BIGINT if high is None else high
    value = int(digits) if len(digits) <= 19 else top + 1
    value = -value if text.startswith("-") else value
    if not low <= value <= top:
        bounds = f"between {low} and {top}"
        raise BadRequest(f"{name} must be {bounds}", fields={name: [f"must be {bounds}"]})
    return value


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored, or None: a NUL character, a lone surrogate."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def refuse_unusable_json(data: Any, path: str = "") -> None:
    """400 for the first string (value or key) of a JSON document no database can store,
    named by its JSON pointer."""
    if isinstance(data, str):
        problem = text_problem(data)
        if problem:
            where = path or "/"
            raise BadRequest(f"{where}: {problem}", fields={where: [problem]})
    elif isinstance(data, dict):
        for key, value in data.items():
            pointer = f"{path}/{key}"
            problem = text_problem(key)
            if problem:
                shown = path + "/" + key.encode("ascii", "backslashreplace").decode("ascii")
                raise BadRequest(f"{shown}: the key {problem}", fields={shown: [problem]})
            refuse_unusable_json(value, pointer)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            refuse_unusable_json(value, f"{path}/{index}")


#: the bodies werkzeug parses into `request.form` (its FormDataParser's two types)
FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


def refuse_unusable_parameters() -> None:
    """Before every request: a query or form parameter with a NUL character is a 400
    (PostgreSQL would refuse it deep inside a query). `next` is exempt: it is only ever a
    place to go after signing in, and one that is not a safe path sends the user home."""
    # only what the request carries is parsed: no query string, no `request.args`; a body
    # that is not a form (JSON) has no form parameters (werkzeug parses these types alone)
    sources = (request.args if request.query_string else None,
               request.form if request.method != "GET" and request.mimetype in FORM_TYPES
               else None)
    for source in sources:
        if not source:
            continue
        for key, values in source.lists():
            if key == "next":
                continue
            for value in [key, *values]:
                problem = text_problem(value) if isinstance(value, str) else None
                if problem:
                    name = key.replace("\x00", "\\x00")
                    raise BadRequest(f"parameter {name!r} {problem}",
                                     fields={name: [problem]})
