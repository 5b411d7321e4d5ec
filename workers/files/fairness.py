"""Fairness on the `files` queue: while others wait, one principal runs at most N file jobs.

A job claims one of its owner's slots when its task starts (`claim_slot.lua`: the count, the
look at who else waits and the claim in one step, so two workers never both take the last
slot), in the round trip of its start commit (`files_start.lua`: no slot, no start). Over the
cap, and only while another principal has a file job waiting
(`jobcast.files_waiting`) that is itself under the cap, the task sends itself again after
`DEFER_SECONDS` and ends this delivery: the worker's slot goes to the next message, the other
principal's job among them.
With nobody else waiting the job runs over the cap: idle slots help no one. A held slot carries
a deadline past the hard time limit, so a job whose process died stops counting then (and its
redelivery, the same job, takes its own slot back at once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from jobcast import files_waiting, rediskeys, scripts
from jobcast.events import Commit, CommitResult, commit_result
from jobcast.settings import Settings

#: Seconds a deferred job waits before its task asks for a slot again. Short: the slot it
#: waits for frees when a job ends, and the check costs one round trip. Far below the Redis
#: transport's visibility timeout, so the held ETA message is never redelivered meanwhile.
DEFER_SECONDS = 1.0
#: Seconds beyond the hard time limit a slot stays claimed without being released.
SLOT_GRACE_SECONDS = 60


@dataclass(frozen=True)
class SlotClaim:
    """The claim of one of `owner`'s slots for a job (`files_slot.lua`'s keys and arguments)."""

    keys: list[str]
    args: list[str | float]

    @classmethod
    def of(cls, settings: Settings, owner: str, job_id: str) -> SlotClaim:
        now = time.time()
        deadline = now + settings.job_time_limit + SLOT_GRACE_SECONDS
        cutoff = now - settings.job_retention  # a job waiting longer has expired: it never starts
        cap = settings.files_max_running_per_principal
        return cls(
            [rediskeys.files_running_key(owner), *files_waiting.keys_of(owner)],
            [job_id, owner, now, deadline, cap, cutoff, rediskeys.files_running_key("")],
        )


def claim(client: redis.Redis, settings: Settings, owner: str, job_id: str) -> bool:
    """Whether `job_id` may run now: under its owner's cap, or over it while no other principal
    under the cap has a job waiting (always when the cap is off). A job that may run stops
    waiting."""
    slot = SlotClaim.of(settings, owner, job_id)
    return bool(scripts.run(client, "files_slot", slot.keys, slot.args))


def claim_and_commit(client: redis.Redis, slot: SlotClaim, change: Commit) -> CommitResult | None:
    """`claim`, and once it may run `change` (the job's start), in one round trip: the change's
    result, or None when the job must wait (nothing changed)."""
    keys, args = [*change.keys(), *slot.keys], [*slot.args, *change.args()]
    raw = scripts.run(client, "files_start", keys, args)
    return None if int(raw[0]) == -1 else commit_result(raw)


def release(client: redis.Redis, owner: str, job_id: str) -> None:
    client.zrem(rediskeys.files_running_key(owner), job_id)
