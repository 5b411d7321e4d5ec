"""`python -m workers.orders.demo` (what `jobcast up --demo` runs) keeps books trading."""

from __future__ import annotations

import sys
from pathlib import Path

import redis

from jobcast import rediskeys
from jobcast.settings import Settings
from tests.conftest import StartWorker
from tests.support.processes import process_env, spawn, wait_for


def test_demo_market_maker_process_makes_books_trade(
    start_worker: StartWorker, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    worker = start_worker(queues="orders")
    demo = spawn(
        "demo", [sys.executable, "-m", "workers.orders.demo"], process_env(settings), tmp_path
    )
    try:

        def traded() -> bool:
            seq = redis_client.hget(rediskeys.market_key("BTC-USD"), "trade_seq")
            return int(seq or 0) >= 3

        wait_for(traded, 30, "the demo's orders to trade", demo)
        quote = redis_client.hgetall(rediskeys.market_key("BTC-USD"))
        assert quote["last_price"]
        assert redis_client.llen(rediskeys.trades_key("BTC-USD")) >= 3
        # The demo's matching runs under its own task name, so Flower can filter it out.
        assert "jobcast.demo.match[" in worker.output()
        assert "jobcast.orders.match[" not in worker.output()
    finally:
        demo.stop()
