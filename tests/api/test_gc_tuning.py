"""The api's collector settings: start-up objects frozen and thresholds raised while it runs."""

from __future__ import annotations

import gc

import httpx

from api.gc_tuning import FULL_THRESHOLD, MIDDLE_THRESHOLD, YOUNG_THRESHOLD
from jobcast.settings import Settings
from tests.api.inprocess import run_in_process


def test_running_app_freezes_its_start_up_and_leaves_the_collector_as_it_found_it(
    settings: Settings,
) -> None:
    before = gc.get_threshold()
    seen: dict[str, object] = {}

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/healthz")).status_code == 200
        seen["threshold"], seen["frozen"] = gc.get_threshold(), gc.get_freeze_count()

    run_in_process(settings, scenario)
    assert seen["threshold"] == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, FULL_THRESHOLD)
    assert isinstance(seen["frozen"], int)
    assert seen["frozen"] > 10_000  # modules, the app, its pools: tens of thousands of objects
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
