"""The exception hierarchy shared by every layer of metabiz.

A leaf module (imports nothing of ours) so that even the pure formula package can
raise typed errors; the web layer maps each `code`/`status` to HTTP in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class MetabizError(Exception):
    """Root of every error a user can cause. Never a bug: bugs are other exceptions."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: Mapping[str, Sequence[str]] | None = None,
                 details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class BadRequest(MetabizError):
    code = "bad_request"
    status = 400

    @classmethod
    def from_formula(cls, param: str, err: FormulaError) -> BadRequest:
        """A formula given as a request parameter that does not parse, check or run."""
        bad = cls(f"{param}: {err.render()}", fields={param: [err.message]})
        bad.position = (err.line, err.column) if err.line is not None else None
        bad.kind = err.kind
        return bad

    position: tuple[int | None, int | None] | None = None
    kind: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.kind is not None:
            body["error"]["kind"] = self.kind
        if self.position is not None:
            body["error"].update(line=self.position[0], column=self.position[1])
        return body


class Unauthorized(MetabizError):
    code = "unauthorized"
    status = 401


class PermissionDenied(MetabizError):
    code = "forbidden"
    status = 403


class NotFound(MetabizError):
    code = "not_found"
    status = 404


class ConflictError(MetabizError):
    code = "conflict"
    status = 409


class RecordLocked(ConflictError):
    code = "record_locked"


class ClaimLimitReached(ConflictError):
    """A member holds as many records from a pool as its `claim_limit` allows."""

    code = "claim_limit"


class ValidationError(MetabizError):
    """Per-field messages, collected before raising (like marshmallow)."""

    code = "validation_failed"
    status = 422


class TooLarge(ValidationError):
    """An upload over the size its field allows (413), with the field's message."""

    code = "too_large"
    status = 413


class MetadataError(MetabizError):
    """Invalid metadata. `problems` holds every `file: json/path: message` line."""

    code = "invalid_metadata"
    status = 422

    def __init__(self, problems: Sequence[str], message: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(message or "\n".join(self.problems), details=self.problems)


class FormulaError(MetabizError):
    """A formula that does not parse, check or evaluate.

    Parse/check errors carry a position (1-based line and column) and render a caret
    line under the source; evaluation errors (division by zero, bad VALUE) have none.
    """

    code = "formula_error"
    status = 400

    def __init__(self, message: str, *, kind: str = "syntax", source: str | None = None,
                 line: int | None = None, column: int | None = None) -> None:
        self.kind = kind
        self.source = source
        self.line = line
        self.column = column
        super().__init__(message)

    def caret(self) -> str:
        """The offending source line with a caret under the column ('' if no position)."""
        if self.source is None or self.line is None or self.column is None:
            return ""
        lines = self.source.splitlines() or [""]
        text = lines[min(self.line, len(lines)) - 1]
        return f"{text}\n{' ' * (self.column - 1)}^"

    def render(self) -> str:
        if self.line is None:
            return self.message
        out = f"{self.line}:{self.column}: {self.message}"
        caret = self.caret()
        return f"{out}\n{caret}" if caret else out

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.line is not None:
            body["error"].update(line=self.line, column=self.column, kind=self.kind)
        return body


class CSRFRejected(PermissionDenied):
    """A session-authenticated write without a valid CSRF token (a forged or stale form).

    403 like any refusal (the contract's `forbidden`), but its own class so that pages can
    say "reload and try again" instead of "you may not do this".
    """


class OutOfDateDatabase(MetabizError):
    """The database's system tables are at an older schema than this release's revisions."""

    code = "database_out_of_date"
    status = 503

    def __init__(self, pending: Sequence[str] = ()) -> None:
        self.pending = list(pending)
        super().__init__("the database is at an older schema; run `metabiz upgrade`",
                         details={"pending": self.pending})


class UnknownDatabaseSchema(MetabizError):
    """The system tables are in a state no revision of this release describes: upgraded by a
    newer release, or only some of a release's tables present."""

    code = "database_schema_unknown"
    status = 503
