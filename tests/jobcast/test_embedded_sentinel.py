"""A Sentinel group made again on the same data takes the ports it had, so the sentinels' addresses
(`var/redis.sentinels`) stay the same; a server whose port was taken meanwhile moves alone. A
started group is ready once its replica is in sync, not when Sentinel's 10 s INFO round finds it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import redis

from jobcast.embedded_sentinel import SentinelGroup
from tests.support.ports import port_held
from tests.support.processes import Proc, spawn, wait_for


def made(data_dir: Path) -> SentinelGroup:
    return SentinelGroup.create("pw", data_dir, "jobcast")


def ports(group: SentinelGroup) -> list[int]:
    return [group.primary.port, group.replica.port, *(s.port for s in group.sentinels)]


def test_the_group_made_again_on_the_same_data_has_the_same_addresses(tmp_path: Path) -> None:
    first = made(tmp_path)
    assert len(set(ports(first))) == 5
    first.commands()  # as the launcher starts it: makes each server's directory
    first.remember_ports()

    again = made(tmp_path)

    assert ports(again) == ports(first)
    assert again.addresses == first.addresses
    assert again.replica.replica_of == first.primary.port


def test_a_server_whose_port_was_taken_gets_another_and_the_rest_keep_theirs(
    tmp_path: Path,
) -> None:
    first = made(tmp_path)
    first.commands()
    first.remember_ports()
    before = ports(first)
    with port_held(first.sentinels[1].port):
        again = made(tmp_path)

    after = ports(again)
    assert after[3] not in before
    assert after[:3] + after[4:] == before[:3] + before[4:]
    pairs = zip(first.addresses.split(","), again.addresses.split(","), strict=True)
    assert [old for old, new in pairs if old != new] == [f"127.0.0.1:{before[3]}"]


def test_after_a_failover_the_promoted_replica_is_the_primary_of_the_group_made_again(
    tmp_path: Path,
) -> None:
    first = made(tmp_path)
    first.commands()
    first.remember_ports()
    # As the sentinels rewrite their files when they promote the replica; the third was down.
    for sentinel in first.sentinels[:2]:
        promoted = sentinel.config().replace(
            f"127.0.0.1 {first.primary.port} 2", f"127.0.0.1 {first.replica.port} 2"
        )
        sentinel.config_file.write_text(f"{promoted}sentinel config-epoch jobcast 1\n")

    again = made(tmp_path)

    assert again.primary.data_dir == tmp_path / "replica"
    assert again.primary.port == first.replica.port
    assert again.replica.replica_of == first.replica.port
    assert again.addresses == first.addresses


def test_no_server_takes_a_port_the_rest_of_the_stack_will_listen_on(tmp_path: Path) -> None:
    # Free until the api and Flower start, a remembered port was the primary's again, and the
    # api then failed as if another program held its port.
    first = made(tmp_path)
    first.commands()
    first.remember_ports()
    api_port = first.primary.port

    again = SentinelGroup.create("pw", tmp_path, "jobcast", taken=[api_port])

    assert api_port not in ports(again)
    assert ports(again)[1:] == ports(first)[1:]


def test_each_sentinel_is_told_the_replica_so_none_waits_to_find_it(tmp_path: Path) -> None:
    first = made(tmp_path)
    first.commands()
    first.remember_ports()
    told = f"sentinel known-replica jobcast 127.0.0.1 {first.replica.port}"
    assert all(told in s.config_file.read_text().splitlines() for s in first.sentinels)
    for sentinel in first.sentinels:  # as the sentinels rewrite their files at a failover
        promoted = sentinel.config().replace(
            f"127.0.0.1 {first.primary.port} 2", f"127.0.0.1 {first.replica.port} 2"
        )
        sentinel.config_file.write_text(f"{promoted}sentinel config-epoch jobcast 1\n")

    again = made(tmp_path)
    again.commands()

    swapped = f"sentinel known-replica jobcast 127.0.0.1 {first.primary.port}"
    assert all(swapped in s.config_file.read_text().splitlines() for s in again.sentinels)


def test_a_started_group_is_ready_once_its_replica_syncs_not_at_sentinels_next_info_round(
    tmp_path: Path,
) -> None:
    group = made(tmp_path / "redis")
    with started(group, tmp_path, without="redis-replica") as procs:
        wait_for(
            lambda: all(knows_peers_and_replica(group, s.port) for s in group.sentinels),
            20,
            "the sentinels to see each other and know the replica from their config",
        )
        assert not group.ready()  # expected, not replicating: no failover could promote it
        # Sentinel asks the primary for its replicas (INFO) at its start, ~2 s ago, then every
        # 10 s: finding the replica so, the group was ready ~8 s from now.
        began = time.monotonic()
        procs["redis-replica"] = spawn("redis-replica", group.replica.command(), env(), tmp_path)
        wait_for(group.ready, 30, "the replica in sync and every sentinel linked to it")
        assert time.monotonic() - began < 5


@contextmanager
def started(group: SentinelGroup, where: Path, without: str) -> Iterator[dict[str, Proc]]:
    commands = group.commands()
    procs = {
        name: spawn(name, argv, env(), where) for name, argv in commands.items() if name != without
    }
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.kill()


def env() -> dict[str, str]:
    return dict(os.environ)


def watched(group: SentinelGroup, sentinel_port: int) -> dict[str, Any]:
    password = group.primary.password
    client = redis.Redis(port=sentinel_port, password=password, decode_responses=True)
    try:
        return cast(dict[str, Any], client.sentinel_master("jobcast"))
    except (redis.RedisError, OSError):
        return {}
    finally:
        client.close()


def knows_peers_and_replica(group: SentinelGroup, sentinel_port: int) -> bool:
    state = watched(group, sentinel_port)
    return state.get("num-other-sentinels", 0) == 2 and state.get("num-slaves", 0) == 1
