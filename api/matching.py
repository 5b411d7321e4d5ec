"""Asking the `orders` workers to match a symbol, by task name (the api never imports them).

The Celery client is the api process's one (`api.task_client`). Sends go through a single
thread: `send_task` blocks on the broker, and the event loop must not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from api.task_client import celery_client
from jobcast.settings import Settings
from jobcast.task_names import MATCH_TASK, match_argsrepr

_sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobcast-send")


async def request_matching(settings: Settings, symbols: Iterable[str]) -> None:
    """Send one matching task per symbol (the caller sends only for symbols it kicked)."""
    app = celery_client(settings)
    loop = asyncio.get_running_loop()
    for symbol in symbols:
        shown = match_argsrepr(symbol, settings.order_match_batch, "orders accepted")
        send = partial(app.send_task, MATCH_TASK, args=[symbol], argsrepr=shown, kwargsrepr="{}")
        await loop.run_in_executor(_sender, send)
