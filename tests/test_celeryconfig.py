"""The Celery settings that protect the system, as derived from Settings."""

from __future__ import annotations

import celeryconfig
from jobcast.settings import Settings


def test_config_is_json_only_late_ack_and_consistent_visibility() -> None:
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0")  # type: ignore[call-arg]
    conf = celeryconfig.config_for(settings)
    assert conf["accept_content"] == ["json"] == conf["result_accept_content"]
    assert conf["task_acks_late"]
    assert conf["task_reject_on_worker_lost"]
    broker_vt = conf["broker_transport_options"]["visibility_timeout"]
    assert broker_vt == conf["result_backend_transport_options"]["visibility_timeout"]
    assert broker_vt > conf["task_time_limit"] > conf["task_soft_time_limit"]
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["broker_connection_retry_on_startup"] is True
    assert conf["worker_send_task_events"] is True  # Flower sees tasks start and end
    assert conf["task_track_started"] is False  # two round trips a task, read by nobody
    assert conf["result_expires"] == settings.result_expires


def test_prefetch_is_per_queue_and_files_wins_when_shared() -> None:
    assert celeryconfig.prefetch_for(["orders"]) == 8
    assert celeryconfig.prefetch_for(["files"]) == 1
    assert celeryconfig.prefetch_for(["files", "orders"]) == 1
    assert celeryconfig.prefetch_for([]) == 1


def test_workers_retry_a_lost_broker_forever() -> None:
    # Celery's default gave up after 100 attempts (~45 min) and the worker exited, while README
    # says a worker added by hand retries the stack's Redis until it is back.
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0")  # type: ignore[call-arg]
    conf = celeryconfig.config_for(settings)
    assert conf["broker_connection_max_retries"] is None  # kombu: no limit (0 is no retry)
    assert conf["broker_connection_retry_on_startup"] is True
    assert conf.get("broker_connection_retry", True) is True
