"""The app's JSON reader and writer: Flask's, except that a number with more digits than a
float keeps (an ExactNumber, `1234567890123456.78`) is read and written with every digit.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask.json.provider import DefaultJSONProvider

from metabiz.formulas import ExactNumber, exact_float

#: an exact number stands in the encoded text as this string (with a nonce no text can
#: guess) until it is unquoted
_MARK = "\x00exact-{nonce}:"
_MARKED = r'"\\u0000exact-{nonce}:(-?[0-9]+(?:\.[0-9]+)?)"'


class ExactJSONProvider(DefaultJSONProvider):
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        nonce = secrets.token_hex(8)
        marked, found = _marked(obj, _MARK.format(nonce=nonce))
        text = super().dumps(marked, **kwargs)
        return re.sub(_MARKED.format(nonce=nonce), r"\1", text) if found else text

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", exact_float)  # 1234567890123456.78 keeps its digits
        return super().loads(s, **kwargs)


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
