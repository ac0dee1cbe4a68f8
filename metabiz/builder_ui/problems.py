"""Metadata problems as the API and the builder's forms show them: by JSON pointer, and the
rows a conversion refuses as a conflict naming each record id and value.

`metabiz apply` words every problem as `file: /json/pointer: message`; these turn that one
list into the contract's 422 `invalid_metadata` (`fields` by pointer) or 409 `conflict`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from metabiz.errors import ConflictError, MetadataError

_PROBLEM = re.compile(r"^(?P<file>[^\s:][^:]*?): (?P<pointer>/[^:\s]*): (?P<message>.*)$",
                      re.DOTALL)
#: a refused record in a refusal's list: `    id 7: 'abc' (why)` or `    id 7`
_REFUSED_ROW = re.compile(r"^\s+id (?P<id>\d+)(?:: (?P<value>.*))?$")
#: a refused value and why: `'abc' (not a number)`
_WITH_REASON = re.compile(r"^(?P<value>.*?) \((?P<reason>[^()]*)\)$")
#: a repeated value in a uniqueness refusal: `    'x' is used 2 times: ids 1, 2`
_REPEATED = re.compile(r"^\s+(?P<value>.*) is used \d+ times: ids (?P<ids>[\d, …]+)$")


class InvalidDocument(MetadataError):
    """422 `invalid_metadata` with `fields` keyed by JSON pointer into the edited document;
    problems of other documents (what the edit breaks elsewhere) are under `/`, named."""

    def __init__(self, problems: list[str], fields: dict[str, list[str]]) -> None:
        super().__init__(problems)
        self.fields = fields


class ConversionRefused(ConflictError):
    """409 `conflict`: stored values the change cannot keep, record by record."""

    def __init__(self, problems: list[str], fields: dict[str, list[str]],
                 records: list[dict[str, Any]]) -> None:
        super().__init__("\n".join(problems), fields=fields,
                         details={"problems": problems, "records": records})
        self.problems = problems
        self.records = records


def split(problem: str) -> tuple[str | None, str, str]:
    """`file: /pointer: message` → (file, pointer, message); (None, "/", text) otherwise."""
    match = _PROBLEM.match(problem)
    if match is None:
        return None, "/", problem
    return match["file"], match["pointer"], match["message"]


def _value(shown: str | None) -> Any:
    """A stored value as a refusal quotes it (`'abc'`, `12`), back as JSON when it can be."""
    if shown is None:
        return None
    try:
        return ast.literal_eval(shown)
    except (ValueError, SyntaxError):
        return shown  # cut short with an ellipsis: the text as shown


def refused_rows(message: str) -> list[dict[str, Any]]:
    """The records a refusal lists: `{"id", "value", "reason"?}`."""
    rows: list[dict[str, Any]] = []
    for line in message.splitlines()[1:]:
        if (match := _REFUSED_ROW.match(line)) is not None:
            row: dict[str, Any] = {"id": int(match["id"])}
            shown = match["value"]
            if shown is not None and (why := _WITH_REASON.match(shown)) is not None:
                shown, row["reason"] = why["value"], why["reason"]
            row["value"] = _value(shown)
            rows.append(row)
        elif (match := _REPEATED.match(line)) is not None:
            rows.extend({"id": int(i), "value": _value(match["value"]),
                         "reason": "used more than once"}
                        for i in re.findall(r"\d+", match["ids"]))
    return rows


def explain(err: MetadataError, rel: str | None) -> MetadataError | ConflictError:
    """The error to raise for `err`, the edit being the document at `rel` (`objects/x.json`)."""
    fields: dict[str, list[str]] = {}
    records: list[dict[str, Any]] = []
    refusals = 0
    for problem in err.problems:
        file, pointer, message = split(problem)
        rows = refused_rows(message)
        if rows:
            refusals += 1
            records.extend(rows)
        own = file is not None and rel is not None and (file == rel or file.endswith("/" + rel))
        if own:
            fields.setdefault(pointer, []).append(message)
        else:
            fields.setdefault("/", []).append(problem)
    if refusals and refusals == len(err.problems):
        return ConversionRefused(err.problems, fields, records)
    return InvalidDocument(err.problems, fields)


def messages_under(fields: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """`under("/steps/1")`: the messages of every pointer at or below it (a form shows them
    beside the part of the form that pointer names)."""
    def messages(prefix: str) -> list[str]:
        return [m for pointer, ms in fields.items()
                if pointer == prefix or pointer.startswith(prefix + "/") for m in ms]

    return messages
