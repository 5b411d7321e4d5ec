"""The api process's garbage collector, set for thousands of long-lived WebSockets.

CPython's cycle collector stops the process while it walks the objects of the generations it
collects. An open WebSocket holds about 120 tracked objects (its coroutine chain, uvicorn's and
websockets' protocol objects, our session), and a dropped one leaves them all as cyclic garbage
for a full collection to find. With the stock thresholds (700, 10, 10) a full collection comes
every ~70,000 net allocations, so while 5,000 clients reconnect (`bench/storm.py`) the api ran
about nine of them, each walking every connection: 0.3 to 2 s pauses with no event pushed.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: Net allocations between young collections (stock: 700). A young collection walks at most
#: YOUNG_THRESHOLD * MIDDLE_THRESHOLD objects (the middle one), so it stays short (under 100 ms
#: in the storm bench on a loaded 2-core machine; 5x these thresholds gave 270 ms).
YOUNG_THRESHOLD = 2_000
#: Young collections between middle ones (stock: 10).
MIDDLE_THRESHOLD = 10
#: Middle collections before a full one is considered (stock: 10): one every 2,000,000 net
#: allocations at most, where a 5,000-client reconnect makes about 700,000. The price: up to
#: that many objects of cyclic garbage (a few hundred MB at worst) wait for a full collection.
FULL_THRESHOLD = 100


@contextlib.contextmanager
def tuned_garbage_collector() -> Iterator[None]:
    """Enter once start-up is done (imports, app, pools): what is alive then lives as long as the
    process, so `gc.freeze()` takes it (~95,000 objects) out of every later collection. Leaving
    restores the collector (an app started inside another process, as the tests do, leaves it
    as it was)."""
    stock = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, FULL_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*stock)
        gc.unfreeze()
