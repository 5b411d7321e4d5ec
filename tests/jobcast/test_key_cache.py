"""The api's key cache: entries expire, revocations evict, a lookup racing one is not stored."""

from __future__ import annotations

from jobcast import key_cache
from jobcast.key_cache import KeyCache
from jobcast.keys import KeyInfo


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def info(key_id: str = "k1", digest: str = "d1", revoked: bool = False) -> KeyInfo:
    return KeyInfo(key_id, "p_1", "alice", False, 0.0, digest, revoked)


def test_a_key_is_remembered_until_its_ttl_passes() -> None:
    clock = Clock()
    cache = KeyCache(ttl=5, clock=clock)
    cache.put(info(), cache.generation)
    clock.now += 4.9
    assert cache.get("d1") == info()
    clock.now += 0.1
    assert cache.get("d1") is None


def test_revoking_a_key_evicts_it_at_once() -> None:
    cache = KeyCache()
    cache.put(info("k1", "d1"), cache.generation)
    cache.put(info("k2", "d2"), cache.generation)
    cache.evict("k1")
    assert cache.get("d1") is None
    assert cache.get("d2") == info("k2", "d2")


def test_a_lookup_that_started_before_a_revocation_is_not_stored() -> None:
    cache = KeyCache()
    generation = cache.generation  # the lookup starts...
    cache.evict("k1")  # ...the key is revoked meanwhile...
    cache.put(info("k1", "d1"), generation)  # ...and its answer arrives, read before
    assert cache.get("d1") is None


def test_revoked_keys_are_never_stored() -> None:
    cache = KeyCache()
    cache.put(info(revoked=True), cache.generation)
    assert cache.get("d1") is None


def test_a_full_cache_starts_over() -> None:
    cache = KeyCache()
    for n in range(key_cache.KEY_CACHE_MAX_ENTRIES):
        cache.put(info(f"k{n}", f"d{n}"), cache.generation)
    cache.put(info("last", "dlast"), cache.generation)
    assert cache.get("d0") is None
    assert cache.get("dlast") == info("last", "dlast")
