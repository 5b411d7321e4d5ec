"""A files worker or an api process on a data directory of its own refuses to start, saying so."""

from __future__ import annotations

from pathlib import Path

from jobcast.embedded_redis import free_port
from jobcast.settings import Settings
from tests.conftest import StartApi, StartWorker
from tests.support.processes import api_argv, process_env, spawn, worker_argv

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
    start_worker("orders", settings_=elsewhere)  # reads no uploads: not asked
