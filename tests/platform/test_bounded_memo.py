"""The bounded memo the shell, CSRF tokens, page addresses and nav links keep values in:
made once per key, never past its limit, even with threads missing at once."""

from __future__ import annotations

import threading

import pytest

from metabiz.platform.memo import Memo, kept_in


def test_a_value_is_made_once_per_key() -> None:
    memo: Memo[str, list[str]] = Memo(4)
    made: list[str] = []

    def make(key: str) -> list[str]:
        made.append(key)
        return [key]

    first = memo.get_or_make("a", lambda: make("a"))
    assert memo.get_or_make("a", lambda: make("a")) is first
    assert memo.get_or_make("b", lambda: make("b")) == ["b"]
    assert made == ["a", "b"]
    assert memo.get("a") is first and memo.get("c") is None


def test_a_full_memo_starts_again_for_a_new_key_only() -> None:
    memo: Memo[int, int] = Memo(3)
    for n in range(3):
        memo.put(n, n)
    memo.put(2, 20)  # a key it holds: replaced, nothing forgotten
    assert len(memo) == 3 and memo.get(0) == 0 and memo.get(2) == 20
    assert memo.get_or_make(3, lambda: 30) == 30
    assert len(memo) == 1 and memo.get(0) is None and memo.get(3) == 30


def test_an_unhashable_key_is_made_each_time_and_not_kept() -> None:
    memo: Memo[tuple[object, ...], str] = Memo(4)
    calls: list[int] = []

    def make() -> str:
        calls.append(1)
        return "made"

    key = ("fragment", ["a", "list"])
    for _ in range(2):
        assert memo.get_or_make(key, make) == "made"
    assert len(calls) == 2 and len(memo) == 0


def test_a_memo_keeps_at_least_one_value() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Memo(0)


def test_kept_in_makes_the_memo_once_per_holder() -> None:
    holder: dict[str, object] = {}
    memo = kept_in(holder, "nav_links", 8)
    assert kept_in(holder, "nav_links", 8) is memo is holder["nav_links"]
    assert kept_in({}, "nav_links", 8) is not memo  # a new metadata version starts empty


def test_threads_missing_at_once_never_pass_the_limit() -> None:
    memo: Memo[tuple[int, int], int] = Memo(50)
    start = threading.Barrier(8)
    seen: list[int] = []

    def fill(thread: int) -> None:
        start.wait()
        for n in range(2_000):
            assert memo.get_or_make((thread, n), lambda: thread) == thread
            seen.append(len(memo))

    threads = [threading.Thread(target=fill, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 16_000 and max(seen) <= 50
