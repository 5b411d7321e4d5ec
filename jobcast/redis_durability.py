"""Redis must keep what Jobcast writes: no eviction, and something that survives a restart.

Redis is Jobcast's only store: job records, the broker's queues, API keys, the cluster's storage
id. Under any `maxmemory-policy` but `noeviction` a full Redis drops some of them without a
word, and nothing in Jobcast can tell a dropped key from one never written. So every process
that starts on a Redis (`jobcast up` with a URL, an api, a worker) refuses an evicting one,
saying what to set, unless the operator accepts it (`JOBCAST_REDIS_EVICTION_ACCEPTED`), and
`/readyz` reports one set after the start. Persistence off (no AOF, no save points) is only a
warning: a Redis kept by its replicas alone is a choice some make.

The policy is read from `INFO memory`, which managed services that disable CONFIG still answer;
the save points only exist as CONFIG. What cannot be read is a warning, not a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

#: The one policy under which a full Redis refuses writes instead of dropping keys.
NOEVICTION = "noeviction"


class EvictionPolicyError(RuntimeError):
    """Redis evicts keys when full, and the operator has not accepted it."""


@dataclass(frozen=True)
class RedisDurability:
    """What Redis says of how it keeps data; None where it would not say (`unread` says why)."""

    policy: str | None
    aof: bool | None
    save: str | None
    unread: tuple[str, ...] = ()

    @property
    def persists(self) -> bool | None:
        """AOF on or a save point set; None when Redis would not say."""
        if self.aof:
            return True
        if self.aof is None or self.save is None:
            return None
        return bool(self.save.strip())


@dataclass(frozen=True)
class Verdict:
    refusal: str | None
    warnings: tuple[str, ...]


def eviction_problem(policy: str | None) -> str | None:
    """Why `policy` loses data, and what to set; None for noeviction (or one not known)."""
    if policy is None or policy == NOEVICTION:
        return None
    return (
        f"Redis evicts keys when full (maxmemory-policy {policy}): it would drop job records, "
        "queued tasks, API keys and the storage id without a word. Set maxmemory-policy "
        "noeviction (`CONFIG SET maxmemory-policy noeviction`, then `CONFIG REWRITE`; the "
        "redis.conf line `maxmemory-policy noeviction`; or a managed Redis's parameter group): "
        "a full Redis then refuses writes (503 redis_full) and loses nothing."
    )


#: Told with a refusal: how an operator who knows the cost starts anyway.
ACCEPT_HINT = "To run on it anyway, set JOBCAST_REDIS_EVICTION_ACCEPTED=true."

#: Told when persistence is off or unknown: what a Redis restart then costs.
RESTART_LOSS = "a Redis restart loses every job, queued task and API key"


def judge(found: RedisDurability, eviction_accepted: bool) -> Verdict:
    """What to refuse (an evicting policy, unless accepted) and what to warn of."""
    problem = eviction_problem(found.policy)
    if problem and not eviction_accepted:
        return Verdict(f"{problem} {ACCEPT_HINT}", _other_warnings(found))
    accepted = (f"{problem} Accepted: JOBCAST_REDIS_EVICTION_ACCEPTED is set.",) if problem else ()
    return Verdict(None, accepted + _other_warnings(found))


def _other_warnings(found: RedisDurability) -> tuple[str, ...]:
    unknown = [
        what
        for what, known in (
            ("Redis's maxmemory-policy", found.policy is not None),
            ("whether Redis persists its data", found.persists is not None),
        )
        if not known
    ]
    if unknown:  # one line, however little a managed Redis lets us read
        return (
            f"could not check {' nor '.join(unknown)} ({_why(found)}): a policy but "
            f"noeviction drops Jobcast's data when Redis is full; without AOF or save points "
            f"{RESTART_LOSS}",
        )
    if found.persists:
        return ()
    return (
        f"Redis persists nothing (appendonly no, no save points): {RESTART_LOSS}. Turn AOF on "
        "(`CONFIG SET appendonly yes`, then `CONFIG REWRITE`, or `appendonly yes` in "
        "redis.conf) unless replicas keep the data.",
    )


def _why(found: RedisDurability) -> str:
    return "; ".join(found.unread) or "not in Redis's answer"


def from_answers(memory: Any, persistence: Any, save: Any) -> RedisDurability:
    """From the answers to INFO memory, INFO persistence and CONFIG GET save, any of which may
    be the error Redis answered instead (NOPERM, a renamed command)."""
    unread = tuple(
        f"{command}: {answer}"
        for command, answer in (("INFO", memory), ("INFO", persistence), ("CONFIG GET", save))
        if isinstance(answer, Exception)
    )
    return RedisDurability(
        policy=_field(memory, "maxmemory_policy"),
        aof=None if (aof := _field(persistence, "aof_enabled")) is None else aof == "1",
        save=_field(save, "save"),
        unread=tuple(dict.fromkeys(unread)),
    )


def _field(answer: Any, name: str) -> str | None:
    if not isinstance(answer, dict) or name not in answer:
        return None
    value = answer[name]
    return value.decode() if isinstance(value, bytes) else str(value)


def _asked(pipe: Any) -> Any:
    # One round trip; raise_on_error=False hands back a refused command's error in its place.
    pipe.info("memory")
    pipe.info("persistence")
    pipe.config_get("save")
    return pipe


def read(client: redis.Redis) -> RedisDurability:
    """Ask Redis (errors other than a refused command, e.g. Redis away, are raised)."""
    with client.pipeline(transaction=False) as pipe:
        return from_answers(*_asked(pipe).execute(raise_on_error=False))


async def read_async(client: aioredis.Redis) -> RedisDurability:
    """`read`, on an asyncio client (the api's)."""
    async with client.pipeline(transaction=False) as pipe:
        return from_answers(*await _asked(pipe).execute(raise_on_error=False))


def required(found: RedisDurability, eviction_accepted: bool) -> tuple[str, ...]:
    """The warnings to log, or EvictionPolicyError when Redis must not be used."""
    verdict = judge(found, eviction_accepted)
    if verdict.refusal:
        raise EvictionPolicyError(verdict.refusal)
    return verdict.warnings
