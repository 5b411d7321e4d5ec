"""A files worker or an api process on a data directory of its own refuses to start, saying so."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from jobcast.embedded_redis import free_port
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.support.processes import (
    Proc,
    api_argv,
    http_ok,
    process_env,
    spawn,
    wait_for,
    worker_argv,
)
from tests.support.sentinel import sentinel_group
from tests.support.tcp_proxy import TcpProxy

REFUSAL = "is not the storage this cluster shares"


def test_a_worker_or_api_without_the_clusters_storage_exits_and_an_orders_worker_starts(
    settings: Settings, tmp_path: Path, start_api: StartApi, start_worker: StartWorker
) -> None:
    # Started elsewhere without JOBCAST_DATA_DIR, a files worker took jobs and failed them as
    # upload_missing at random.
    start_api()  # the first to start makes its storage the cluster's
    elsewhere = settings.replace(data_dir=tmp_path / "elsewhere")
    env = process_env(elsewhere)

    worker = spawn("stray-files", worker_argv("files", 1, [], "stray"), env, tmp_path)
    api = spawn("stray-api", api_argv(free_port()), env, tmp_path)

    assert worker.popen.wait(timeout=60) == 1
    assert REFUSAL in worker.output()
    assert str((tmp_path / "elsewhere").resolve()) in worker.output()
    assert api.popen.wait(timeout=60) != 0
    assert REFUSAL in api.output()
    assert "Traceback" not in api.output()  # the refusal alone, as the worker tells it
    start_worker("orders", settings_=elsewhere)  # reads no uploads: not asked


def gated_elsewhere(settings: Settings, tmp_path: Path) -> tuple[TcpProxy, int, Settings]:
    """Settings on a data directory of their own, reaching Redis through a gate (a proxy not yet
    started on the returned port): a process started with them finds Redis away until
    `gate.start(port)`."""
    parts = urlsplit(settings.redis_url or "")
    gate = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    port = free_port()
    gated = urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{port}"))
    return gate, port, settings.replace(data_dir=tmp_path / "elsewhere", redis_url=gated)


def test_an_api_started_while_redis_is_away_stops_once_it_answers_if_refused(
    settings: Settings, tmp_path: Path, start_api: StartApi
) -> None:
    # It must start without Redis (it answers 503 until Redis is back), so it is checked then.
    start_api()  # the cluster's storage
    gate, port, elsewhere = gated_elsewhere(settings, tmp_path)
    api_port = free_port()
    api = spawn("late-api", api_argv(api_port), process_env(elsewhere), tmp_path)
    try:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{api_port}/healthz"), 60, "the api", api)
        gate.start(port)  # Redis answers: the check runs, and refuses
        # A failure to a supervisor: it exited 0 (uvicorn's status for a stop it was sent).
        assert api.popen.wait(timeout=30) == 1
        assert REFUSAL in api.output()
    finally:
        gate.stop()
        api.kill()


def test_behind_sentinels_refusing_the_password_the_put_off_check_is_one_short_line(
    tmp_path: Path,
) -> None:
    # Each sentinel's client was in the line as its repr: 3.3 KB, the refused password buried.
    with sentinel_group(tmp_path) as group:
        refused = group.settings(tmp_path / "data").replace(redis_sentinel_password="wrong")
        env = process_env(refused)
        api = spawn("refused-api", api_argv(free_port()), env, tmp_path)
        worker = spawn("refused-files", worker_argv("files", 1, [], "refused"), env, tmp_path)
        try:
            for proc, said in (
                (api, "compared with the cluster's once Redis answers"),
                (worker, "could not compare the data directory"),
            ):
                line = log_line(proc, said)
                assert "a sentinel refused the password" in line, line
                for address in group.servers.addresses.split(","):
                    assert f"{address} refused the password" in line, line
                assert len(line) < 500, line
        finally:
            api.kill()
            worker.kill()


def log_line(proc: Proc, containing: str) -> str:
    wait_for(lambda: containing in proc.output(), 60, containing, proc)
    return next(line for line in proc.output().splitlines() if containing in line)


def test_a_files_worker_started_while_redis_is_away_stops_once_it_answers_if_refused(
    settings: Settings, tmp_path: Path, start_api: StartApi
) -> None:
    # Skipped while Redis was away (or loading its data, as after a host's reboot), the check
    # never ran: the worker connected once Redis answered and took jobs it failed as
    # upload_missing.
    start_api()  # the cluster's storage
    gate, port, elsewhere = gated_elsewhere(settings, tmp_path)
    worker = spawn(
        "late-files", worker_argv("files", 1, [], "late"), process_env(elsewhere), tmp_path
    )
    try:
        log_line(worker, "could not compare the data directory")
        gate.start(port)  # Redis answers: the check runs, and refuses
        assert worker.popen.wait(timeout=60) == 1
        assert REFUSAL in worker.output()
        assert "ready." not in worker.output()  # it never consumed
    finally:
        gate.stop()
        worker.kill()
