"""Bounded memos: values made once per key and kept, for what a page repeats on every request
(the shell's navigation and fragments, signed CSRF tokens, page addresses, nav links).

A `Memo` lives in the dict of what it depends on (`app.extensions` for the app's lifetime,
`schema.compiled` for one metadata version, so a new version starts empty) and starts
again when full. A hit is one dict lookup, without a lock; only a miss takes the lock, so
threads sharing the memo (gunicorn's threads) never see it past its limit. Two threads that
miss the same key both make the value, and the last one is kept: values must be
interchangeable (made from the key alone).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, MutableMapping
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most `limit` values by key; cleared when a new key comes and it is full."""

    __slots__ = ("limit", "_kept", "_lock")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a memo keeps at least one value, not {limit}")
        self.limit = limit
        self._kept: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for `key`, or None (a TypeError if `key` is not hashable)."""
        return self._kept.get(key)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, made by `make()` and kept on first use; a key that
        cannot be hashed (a list among its parts) is not kept: made each time."""
        try:
            found = self._kept.get(key)
        except TypeError:
            return make()
        if found is None:
            found = self.put(key, make())
        return found

    def put(self, key: K, value: V) -> V:
        """Keep `value` for `key` (emptying the memo first when full), and return it."""
        with self._lock:
            if len(self._kept) >= self.limit and key not in self._kept:
                self._kept.clear()
            self._kept[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


def kept_in(holder: MutableMapping[str, Any], name: str, limit: int) -> Memo[Any, Any]:
    """The memo called `name` in `holder` (an app's `extensions`, a metadata version's
    `compiled`), made on first use; threads asking at once all get the same one."""
    memo = holder.get(name)
    if memo is None:
        memo = holder.setdefault(name, Memo(limit))
    return memo  # type: ignore[no-any-return]
