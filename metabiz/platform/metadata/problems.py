"""Metadata problems: one `file: /json/pointer: message` each, and the phrasing helpers.

Every stage of the loader (JSON, JSON Schema, cross-document checks) reports through these.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: where in a JSON document: keys and list indexes from the root
JsonPath = tuple[str | int, ...]


def pointer(path: Iterable[str | int]) -> str:
    """A JSON Pointer (RFC 6901) for `path`; `/` for the whole document."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts)


@dataclass(frozen=True)
class Problem:
    file: str
    path: JsonPath
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {pointer(self.path)}: {self.message}"


def quoted(names: Sequence[str], last: str = "or") -> str:
    """`'a'`, `'a' or 'b'`, `'a', 'b' or 'c'` (with `last` as the final word)."""
    items = [repr(n) for n in names]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def unknown_key(key: str, allowed: Iterable[str]) -> str:
    """An unknown key, with the closest allowed one when it looks like a typo."""
    allowed = sorted(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    if 0 < len(allowed) <= 8:
        return f"unknown key {key!r}; expected {quoted(allowed)}"
    return f"unknown key {key!r}"


def doc_order(content: Any, path: Iterable[str | int]) -> tuple[int, ...]:
    """Where `path` lies in the document, so problems read top to bottom."""
    order: list[int] = []
    node = content
    for part in path:
        if isinstance(node, dict):
            keys = list(node)
            order.append(keys.index(part) if part in node else -1)
            node = node.get(part)  # type: ignore[arg-type]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            order.append(part)
            node = node[part]
        else:
            order.append(-1)
            node = None
    return tuple(order)


def in_document_order(content: Any, problems: Iterable[Problem]) -> list[Problem]:
    """`problems` of one document without repeats, sorted by where they point."""
    return sorted(dict.fromkeys(problems), key=lambda p: doc_order(content, p.path))
