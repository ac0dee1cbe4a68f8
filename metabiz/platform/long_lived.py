"""The process's long-lived objects (modules, the app, the compiled schema) kept out of the
garbage collector's full passes once they are loaded: `settle_long_lived()`.

A full collection walks every object the collector tracks; with the application loaded that is
over 100,000 objects (60-200 ms), and a 50,000-row import triggers it twice. After
`settle_long_lived()` those objects sit in the collector's permanent generation (`gc.freeze`):
full passes walk only what was made since. Called by the entry points of long-running
processes (the web workers, the job worker, `metabiz import`), once what they keep is loaded.
"""

from __future__ import annotations

import gc


def settle_long_lived() -> int:
    """Collect the garbage made while loading, then freeze every object alive now; the
    number of frozen objects. Calling it again first unfreezes (so nothing frozen earlier
    that has become garbage since is kept for ever) and costs one full collection."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
