"""A file job's result against its owner's stored-bytes quota: it is kept whole in the job's
record, in the Redis every principal shares, so it is charged as an upload or a converted file
is (`jobcast.quotas`) until the record goes.

The charge rides the outcome that stores the result (`files_finish.lua`): one round trip, and
no reservation that outlives an outcome that did not commit (a cancel that landed first)."""

from __future__ import annotations

import redis

from jobcast import quotas, rediskeys, scripts
from jobcast.events import Commit, CommitResult, commit_result
from jobcast.settings import Settings
from workers.files.errors import FileJobError

#: What `files_finish.lua` answers when the quota has no room for the result.
_OVER_QUOTA = -1


def commit_with_result(
    client: redis.Redis, settings: Settings, owner: str, job_id: str, size: int, change: Commit
) -> CommitResult:
    """Commit `change`, the outcome storing a result of `size` bytes (as the record stores
    them), with those bytes charged to `owner` until the record expires (`change.record_ttl`
    seconds); storage_quota_exceeded, nothing committed, when the quota has no room for them.
    An outcome that finds the job ended (a cancel landed) charges nothing."""
    limits = quotas.Limits.of(settings)
    held = quotas.reserve_args(quotas.result_entry(job_id), size, change.record_ttl, limits)
    ledger = rediskeys.quota_ledger_key(owner)
    raw = scripts.run(client, "files_finish", [*change.keys(), ledger], [*held, *change.args()])
    if int(raw[0]) == _OVER_QUOTA:
        raise _over_quota(size, int(raw[1]), limits.max_bytes)
    return commit_result(raw)


def _over_quota(size: int, used: int, max_bytes: int) -> FileJobError:
    left = max(0, max_bytes - used)
    return FileJobError(
        "storage_quota_exceeded",
        f"The result takes {size:,} bytes, past what your storage quota has left "
        f"({left:,} of {max_bytes:,} bytes): a kept result counts against it until "
        "its job expires. Group by shorter or fewer columns, or wait for your older jobs to "
        "expire.",
    )
