"""The app's JSON reader and writer: Flask's, except that a number with more digits than a
float keeps (an ExactNumber, `1234567890123456.78`) is read and written with every digit.

Writing goes through orjson (a tenth of the standard library's cost on a page of records),
with an exact number carried as an `orjson.Fragment` of its digits and every other value
orjson does not know written as Flask writes it (dates as HTTP dates, Decimals as text).
Non-ASCII text is written as UTF-8 rather than `\\u` escapes (the same JSON). What orjson
refuses (integers past 64 bits, text with lone surrogates) is written by the standard library
as before.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

from metabiz.formulas import ExactNumber, exact_float

#: an exact number stands in the encoded text as this string (with a nonce no text can
#: guess) until it is unquoted (the standard library's path)
_MARK = "\x00exact-{nonce}:"
_MARKED = r'"\\u0000exact-{nonce}:(-?[0-9]+(?:\.[0-9]+)?)"'
#: dict keys that are not text become text as json.dumps makes them; dates and dataclasses
#: go to `_default` (Flask's way of writing them, not orjson's)
_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS)
_COMPACT = (",", ":")


class ExactJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        fast = self._orjson(obj, kwargs)
        if fast is not None:
            return fast.decode()
        nonce = secrets.token_hex(8)
        marked, found = _marked(obj, _MARK.format(nonce=nonce))
        text = super().dumps(marked, **kwargs)
        return re.sub(_MARKED.format(nonce=nonce), r"\1", text) if found else text

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", exact_float)  # 1234567890123456.78 keeps its digits
        return super().loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """`jsonify`'s response, its body written once as bytes (Flask's own writes text
        that is then encoded)."""
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        options = {"indent": 2} if indent else {"separators": _COMPACT}
        body = self._orjson(obj, options)
        if body is None:
            return super().response(*args, **kwargs)
        return self._app.response_class(body + b"\n",  # type: ignore[arg-type]
                                        mimetype=self.mimetype)

    def _orjson(self, obj: Any, kwargs: dict[str, Any]) -> bytes | None:
        """`obj` written by orjson, or None when the arguments ask for what only the
        standard library does (another layout, a `default` of the caller's) or orjson
        refuses the value."""
        options = _OPTIONS
        for key, value in kwargs.items():
            if key == "indent" and value == 2:
                options |= orjson.OPT_INDENT_2
            elif key == "sort_keys":
                options |= orjson.OPT_SORT_KEYS if value else 0
            elif not (key == "separators" and tuple(value) == _COMPACT
                      or key == "ensure_ascii"):
                return None
        if self.sort_keys and "sort_keys" not in kwargs:
            options |= orjson.OPT_SORT_KEYS
        try:
            return orjson.dumps(obj, default=self._fragment, option=options)
        except orjson.JSONEncodeError:
            return None

    def _fragment(self, value: Any) -> Any:
        if type(value) is ExactNumber:
            return orjson.Fragment(format(value.exact, "f"))
        return self.default(value)


def _marked(obj: Any, mark: str) -> tuple[Any, bool]:
    """`obj` with each ExactNumber replaced by its marked digits (and whether there was one);
    the same objects when there is none."""
    if type(obj) is ExactNumber:
        return mark + format(obj.exact, "f"), True
    if isinstance(obj, dict):
        pairs = [(key, _marked(value, mark)) for key, value in obj.items()]
        if any(found for _, (_, found) in pairs):
            return {key: value for key, (value, _) in pairs}, True
        return obj, False
    if isinstance(obj, list | tuple):
        items = [_marked(value, mark) for value in obj]
        if any(found for _, found in items):
            return [value for value, _ in items], True
        return obj, False
    return obj, False
