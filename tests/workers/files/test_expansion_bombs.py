"""A tiny file that decodes to gigabytes: the job fails within seconds instead of holding the
only pool process for minutes, and a convert never fills the shared disk (its partial file is
removed, and no job succeeds with a cut file)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis

from jobcast.jobs.params import JobParams
from jobcast.rediskeys import quota_ledger_key
from jobcast.settings import Settings
from jobcast.storage_paths import artifact_path, artifacts_dir
from tests.conftest import StartWorker
from tests.workers.files.support import SMALL_BATCHES, JobsClient, await_terminal
from workers.files import uploads
from workers.files.errors import FileJobError
from workers.files.runner import Hooks, run_job


def repeated_text_parquet(path: Path, rows: int, width: int = 1000) -> Path:
    """One text column, dictionary-encoded: one `width`-character value over `rows` rows."""
    indices = pa.array(np.zeros(rows, dtype=np.int32))
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * width]))
    pq.write_table(pa.table({"v": column}), path, compression="zstd")
    return path


def failed_error(
    jobs: JobsClient, client: redis.Redis, job_id: str, timeout: float
) -> dict[str, str]:
    final = await_terminal(client, job_id, timeout=timeout)
    assert final["type"] == "job.failed", final
    return dict(jobs.job(job_id)["error"])


def left_in_artifacts(settings: Settings) -> list[str]:
    folder = artifacts_dir(settings)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_kilobytes_of_parquet_decoding_to_a_gigabyte_fail_the_profile_in_seconds(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files")  # default limits: the ratio to the file's size trips
    path = repeated_text_parquet(tmp_path / "bomb.parquet", 1_000_000)  # 1 GB decoded
    assert path.stat().st_size < 200_000

    began = time.monotonic()
    job_id = jobs.submit_ok(path)
    error = failed_error(jobs, redis_client, job_id, timeout=60)
    assert error["code"] == "decoded_too_large", error
    assert "1000 times the file's size" in error["message"]
    assert "JOBCAST_JOB_MAX_DECODED_RATIO" in error["message"]
    assert time.monotonic() - began < 15


def test_convert_past_the_decoded_cap_fails_and_leaves_no_file(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    start_worker(queues="files", env={"JOBCAST_JOB_MAX_DECODED_BYTES": str(16 << 20)})
    path = repeated_text_parquet(tmp_path / "bomb.parquet", 100_000)  # 100 MB decoded

    job_id = jobs.submit_ok(path, '{"operation": "convert", "to": "csv"}')
    error = failed_error(jobs, redis_client, job_id, timeout=60)
    assert error["code"] == "decoded_too_large", error
    assert "16 MiB once decoded" in error["message"]
    assert "JOBCAST_JOB_MAX_DECODED_BYTES" in error["message"]
    assert left_in_artifacts(settings) == []


def test_an_ordinary_file_passes_the_decoded_caps(
    jobs: JobsClient, start_worker: StartWorker, redis_client: redis.Redis, tmp_path: Path
) -> None:
    start_worker(queues="files", env={"JOBCAST_JOB_MAX_DECODED_BYTES": str(1 << 20)})
    path = tmp_path / "small.csv"
    path.write_text("a,b\n" + "".join(f"{i},x{i}\n" for i in range(20_000)))  # ~200 KB
    job_id = jobs.submit_ok(path)
    final = await_terminal(redis_client, job_id, timeout=60)
    assert final["type"] == "job.succeeded", final


def test_convert_on_a_disk_under_the_free_floor_fails_before_writing(
    jobs: JobsClient,
    start_worker: StartWorker,
    redis_client: redis.Redis,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A floor over what the disk has free: how the shared disk looks once others filled it.
    floor = shutil.disk_usage(settings.data_dir).free + (1 << 40)
    start_worker(queues="files", env={"JOBCAST_JOB_MIN_FREE_DISK_BYTES": str(floor)})
    path = tmp_path / "small.csv"
    path.write_text("a,b\n1,2\n")

    job_id = jobs.submit_ok(path, '{"operation": "convert", "to": "csv"}')
    error = failed_error(jobs, redis_client, job_id, timeout=60)
    assert error["code"] == "storage_full", error
    assert "JOBCAST_JOB_MIN_FREE_DISK_BYTES" in error["message"]
    assert "/" not in error["message"]  # no server path
    assert left_in_artifacts(settings) == []


def test_convert_stops_when_its_file_brings_the_disk_to_the_floor(
    redis_client: redis.Redis, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A disk of 32 MiB above the floor, which the artifact's bytes use up (the real disk's free
    # space moves with whatever else the machine does; this one only with the job).
    folder = artifacts_dir(settings)

    def disk_usage(_path: object) -> Any:
        written = sum(p.stat().st_size for p in folder.iterdir()) if folder.exists() else 0
        return SimpleNamespace(free=(1 << 30) + (32 << 20) - written)

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    limited = settings.model_copy(update={"job_min_free_disk_bytes": 1 << 30})
    path = repeated_text_parquet(tmp_path / "wide.parquet", 200_000)  # 200 MB of CSV
    params = JobParams.model_validate({"operation": "convert", "to": "csv"})
    hooks, artifact = Hooks(), artifact_path(limited, "j_disk", "csv")
    with (
        pytest.raises(FileJobError) as failure,
        uploads.artifact_reserved(redis_client, limited, "p_disk", "j_disk", hooks),
    ):
        run_job(path, params, SMALL_BATCHES, hooks, artifact)
    assert failure.value.code == "storage_full"
    assert left_in_artifacts(limited) == []
    assert redis_client.hgetall(quota_ledger_key("p_disk")) == {}  # its reservation let go
