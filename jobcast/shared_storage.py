"""One storage per cluster: every api process and `files` worker sees the same data directory.

The api writes each upload under `JOBCAST_DATA_DIR` and whichever `files` worker takes the job
reads it there. A process with a directory of its own (a worker started on another host without
`JOBCAST_DATA_DIR`, or a second stack pointed at the same Redis) started cleanly, then failed
other people's jobs as `upload_missing`, at random. So the first process to start puts a random
token in `<data dir>/storage-id` and in Redis, and every later one compares before it serves or
takes work: a directory without the cluster's token is refused, saying which and what to do.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import redis
import redis.asyncio as aioredis

from jobcast.rediskeys import STORAGE_ID_KEY

#: The token's file in the data directory.
FILE_NAME = "storage-id"


class StorageMismatchError(RuntimeError):
    """This process's data directory is not the storage the cluster shares."""


def check(client: redis.Redis, data_dir: Path) -> None:
    """StorageMismatchError unless `data_dir` is the cluster's storage (the first to ask makes
    it so: two first starts each offer their token, one wins)."""
    if client.get(STORAGE_ID_KEY) is None:
        client.set(STORAGE_ID_KEY, _token(data_dir), nx=True)
    _judge(data_dir, _read(data_dir), _text(client.get(STORAGE_ID_KEY)))


async def check_async(client: aioredis.Redis, data_dir: Path) -> None:
    """`check`, on an asyncio client (the api's)."""
    if await client.get(STORAGE_ID_KEY) is None:
        await client.set(STORAGE_ID_KEY, _token(data_dir), nx=True)
    _judge(data_dir, _read(data_dir), _text(await client.get(STORAGE_ID_KEY)))


def refusal(client: redis.Redis, data_dir: Path) -> StorageMismatchError | None:
    """What `check` would refuse, found without writing anything (None: it would agree, or
    make `data_dir` the cluster's storage)."""
    cluster = _text(client.get(STORAGE_ID_KEY))
    if cluster is None:
        return None
    try:
        _judge(data_dir, _read(data_dir), cluster)
    except StorageMismatchError as refused:
        return refused
    return None


def _judge(data_dir: Path, mine: str | None, cluster: str | None) -> None:
    if mine == cluster:
        return
    where = str(data_dir.resolve())
    if not data_dir.is_absolute():  # the default, `var`, is where the process started
        where = f"{data_dir}, here {where}"
    if mine is None:
        why = f"it holds no {FILE_NAME}, and the cluster's storage does"
    else:
        why = f"its {FILE_NAME} ({mine[:8]}…) is not the cluster's ({(cluster or '')[:8]}…)"
    raise StorageMismatchError(
        f"JOBCAST_DATA_DIR ({where}) is not the storage this cluster shares: {why}. Every api "
        "process and files worker must see the same directory (a shared volume), or uploads one "
        "writes are missing for another and jobs fail as upload_missing: point JOBCAST_DATA_DIR "
        "at it. If this directory replaced the cluster's storage on purpose, delete the Redis "
        f"key {STORAGE_ID_KEY} and start again."
    )


def _read(data_dir: Path) -> str | None:
    try:
        return (data_dir / FILE_NAME).read_text().strip() or None
    except FileNotFoundError:
        return None


def _token(data_dir: Path) -> str:
    """This directory's token: the one it holds, else a new one, or the one another process
    sharing it wrote first (written aside, then linked in place: a file never seen half-written
    or written twice)."""
    held = _read(data_dir)
    if held is not None:
        return held
    data_dir.mkdir(parents=True, exist_ok=True)
    aside = data_dir / f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    aside.write_text(secrets.token_hex(16) + "\n")
    try:
        os.link(aside, data_dir / FILE_NAME)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(FileNotFoundError):
            aside.unlink()
    token = _read(data_dir)
    assert token is not None  # linked here or by the process that came first
    return token


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
