"""Job and order metrics on `/metrics` are the cluster's: counted in Redis when the records
change, so two api processes serve the same totals, whichever did the work."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import httpx
import redis

from jobcast.settings import Settings
from jobcast.worker_registry import live_age
from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import StartApi, StartWorker
from tests.support.processes import Proc, started_together, wait_for
from tests.support.stack import stoppable_redis
from tests.workers.files.support import JobsClient, await_terminal

CLUSTER = re.compile(r"^(jobcast_(?:jobs|job_duration|orders|trades|matching_lag|queue)\S*) (\S+)$")


def cluster_figures(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {m[1]: float(m[2]) for line in text.splitlines() if (m := CLUSTER.match(line))}


ONLINE = re.compile(r"^(jobcast_(?:workers|api_processes)_online\S*) (\S+)$")


def online_figures(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {m[1]: float(m[2]) for line in text.splitlines() if (m := ONLINE.match(line))}


def place(client: httpx.Client, **order: object) -> str:
    response = client.post("/orders", json={"symbol": "BTC-USD", "quantity": 10, **order})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def settled(client: httpx.Client, order_id: str, status: str) -> bool:
    return client.get(f"/orders/{order_id}").json()["status"] == status


def test_job_and_order_metrics_have_the_same_totals_on_two_api_processes(
    start_api: StartApi,
    start_worker: StartWorker,
    make_key: MakeKey,
    make_client: MakeClient,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    urls: list[str] = []
    started_together(*[lambda: urls.append(start_api()[1])] * 2)  # no worker yet
    one, two = urls
    key = make_key("alice")
    jobs, trader = JobsClient(one, key), make_client(two, key)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    # A job cancelled while queued (no worker yet), one that succeeds, one that fails.
    cancelled = jobs.submit_ok(table)
    assert jobs.http.delete(f"/jobs/{cancelled}").json()["status"] == "cancelled"
    start_worker()
    fine = jobs.submit_ok(table)
    bad = {"operation": "aggregate", "group_by": ["nope"], "metrics": {"a": ["sum"]}}
    failing = jobs.submit_ok(table, json.dumps(bad))
    # Orders: two that trade and fill, a market order with nothing to trade, one cancelled.
    sell = place(trader, side="sell", price="100")
    buy = place(trader, side="buy", price="100")
    market = place(trader, side="buy", type="market", time_in_force="IOC", quantity=1)
    resting = place(trader, side="buy", price="90")
    assert trader.delete(f"/orders/{resting}").status_code == 202

    for job_id in (fine, failing):
        await_terminal(redis_client, job_id)
    for order_id, status in (
        (sell, "filled"),
        (buy, "filled"),
        (market, "rejected"),
        (resting, "cancelled"),
    ):
        wait_for(lambda: settled(trader, order_id, status), 30, f"{order_id} {status}")  # noqa: B023

    figures = cluster_figures(one)
    assert figures == cluster_figures(two)
    assert figures["jobcast_jobs_submitted_total"] == 3
    assert figures["jobcast_jobs_succeeded_total"] == 1
    assert figures['jobcast_jobs_failed_total{code="unknown_column"}'] == 1
    assert figures["jobcast_jobs_cancelled_total"] == 1
    ran = 'jobcast_job_duration_seconds_count{operation="profile",status="succeeded"}'
    assert figures[ran] == 1
    assert (
        figures[
            'jobcast_job_duration_seconds_bucket{le="+Inf",operation="aggregate",status="failed"}'
        ]
        == 1
    )
    assert figures['jobcast_queue_depth{queue="files"}'] == 0
    assert figures["jobcast_orders_accepted_total"] == 4
    assert figures["jobcast_orders_filled_total"] == 2
    assert figures["jobcast_trades_total"] == 1
    assert figures['jobcast_orders_rejected_total{reason="no_liquidity"}'] == 1
    assert figures['jobcast_orders_cancelled_total{reason="cancel_requested"}'] == 1
    assert figures["jobcast_matching_lag_seconds_count"] == 4
    assert figures['jobcast_matching_lag_seconds_bucket{le="+Inf"}'] == 4


def test_workers_online_falls_to_zero_on_every_api_process_when_the_worker_is_killed(
    start_api: StartApi, start_worker: StartWorker, settings: Settings
) -> None:
    urls: list[str] = []
    workers: list[Proc] = []
    started_together(
        *[lambda: urls.append(start_api()[1])] * 2,
        lambda: workers.append(start_worker(queues="files")),
    )
    (one, two), [worker] = urls, workers
    # Each api process's monitor reports it within a monitor interval of its start.
    both_up = {
        'jobcast_workers_online{queue="files"}': 1,
        'jobcast_workers_online{queue="orders"}': 0,
        "jobcast_api_processes_online": 2,
    }
    wait_for(lambda: online_figures(one) == both_up, 10, "the worker and both api processes")
    assert online_figures(two) == both_up

    # A SIGKILL of the whole group: no shutdown takes its entry out of the registry; it ages out
    worker.kill_group(signal.SIGKILL)
    worker.popen.wait(timeout=10)
    files_gone = {**both_up, 'jobcast_workers_online{queue="files"}': 0}
    bound = live_age(settings.worker_heartbeat_interval)
    wait_for(lambda: online_figures(one) == files_gone, bound + 1, "the worker counted gone")
    assert online_figures(two) == files_gone


#: What the api reads from Redis for a scrape: left out when Redis does not answer, not served
#: as it was at the last scrape that could read it.
CLUSTER_READ = (
    "jobcast_jobs_",
    "jobcast_queue_depth",
    "jobcast_workers_online",
    "jobcast_redis_memory_",
)


def served(text: str, prefix: str) -> bool:
    return any(line.startswith(prefix) for line in text.splitlines())


def test_a_scrape_while_redis_is_stalled_answers_at_once_and_says_redis_is_down(
    start_api: StartApi, tmp_path: Path
) -> None:
    # A stopped Redis (no RST, as a stalled or partitioned host) held the scrape 10 s, a
    # Prometheus scrape timeout: the scrape failed and the process's own figures were lost too.
    with stoppable_redis(tmp_path / "r") as (server, redis_proc):
        _, url = start_api(env={"JOBCAST_REDIS_URL": server.url})
        up = httpx.get(f"{url}/metrics", timeout=10).text
        assert "jobcast_redis_up 1.0" in up
        assert all(served(up, prefix) for prefix in CLUSTER_READ)

        redis_proc.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        stalled = httpx.get(f"{url}/metrics", timeout=30)
        took = time.monotonic() - started
        redis_proc.send_signal(signal.SIGCONT)

        assert stalled.status_code == 200
        assert took < 3, took
        text = stalled.text
        assert "jobcast_redis_up 0.0" in text
        assert 'jobcast_cluster_read_failures_total{reason="timeout"} 1.0' in text
        assert served(text, "jobcast_http_requests_total")
        assert not [prefix for prefix in CLUSTER_READ if served(text, prefix)]

        again = httpx.get(f"{url}/metrics", timeout=10).text
        assert "jobcast_redis_up 1.0" in again
        assert all(served(again, prefix) for prefix in CLUSTER_READ)
