"""settle_long_lived: what is loaded leaves the collector's full passes, and nothing frozen
is kept for ever once it becomes garbage (a second settle frees it)."""

from __future__ import annotations

import gc
import weakref

from metabiz.platform.long_lived import settle_long_lived


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector can free it


def test_settle_freezes_what_is_alive_and_frees_it_once_garbage() -> None:
    try:
        node = _Node()
        gone = weakref.ref(node)
        frozen = settle_long_lived()
        # (another thread of the test process may settle too: the counts need not be equal)
        assert frozen > 0 and gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert gone() is not None  # frozen: a full collection does not walk it
        settle_long_lived()  # unfreezes first, so the garbage made since is collected
        assert gone() is None
    finally:
        gc.unfreeze()


def test_garbage_made_while_loading_is_collected_not_frozen() -> None:
    try:
        node = _Node()
        gone = weakref.ref(node)
        del node  # garbage before the settle: collected, not frozen for ever
        settle_long_lived()
        assert gone() is None
    finally:
        gc.unfreeze()
