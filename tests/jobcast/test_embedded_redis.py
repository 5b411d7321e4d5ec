"""An embedded server: the port it had again while that is free, else a free one; any password."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from jobcast.embedded_redis import EmbeddedRedis, free_port, port_again, remember_port
from jobcast.launch_checks import can_listen
from tests.support.ports import port_held


def test_a_server_gets_the_port_it_had_again_while_it_is_free(tmp_path: Path) -> None:
    remember_port(tmp_path, port := free_port())
    assert port_again(tmp_path) == port
    assert port_again(tmp_path) == port  # read, not used up


def test_a_port_another_program_took_meanwhile_falls_back_to_a_free_one(tmp_path: Path) -> None:
    remember_port(tmp_path, port := free_port())
    with port_held(port) as taken:
        instead = port_again(tmp_path)
        assert instead != taken
        assert can_listen("127.0.0.1", instead)


def test_a_port_given_to_another_server_of_the_group_is_not_given_twice(tmp_path: Path) -> None:
    remember_port(tmp_path, port := free_port())
    assert port_again(tmp_path, taken=[port]) != port


def test_a_server_that_never_ran_here_gets_a_free_port(tmp_path: Path) -> None:
    assert can_listen("127.0.0.1", port_again(tmp_path))
    (tmp_path / "port").write_text("not a port")
    assert can_listen("127.0.0.1", port_again(tmp_path))


#: Passwords redis-server's command line misread: one starting with "--" (the start of an
#: option there: `secrets.token_urlsafe`, which makes the dev stack's, gives one in 4,096), and
#: what a config line would split or cut (a space, quotes, a backslash, a `#`, non-ASCII).
AWKWARD_PASSWORDS = ["--0cYX091tgmcEqT", "a b\"c\\d'e #f", "pässwörd-€"]


@pytest.mark.parametrize("password", AWKWARD_PASSWORDS)
def test_a_server_starts_and_answers_with_any_password(tmp_path: Path, password: str) -> None:
    server = EmbeddedRedis(port=free_port(), password=password, data_dir=tmp_path, appendonly=False)
    proc = server.start(log=tmp_path / "redis.log")
    try:
        server.wait_ready(process=proc)
        client = redis.Redis(port=server.port, password=password)
        assert client.config_get("masterauth") == {"masterauth": password}
        client.close()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=server.port, password=password[:-1]).ping()
    finally:
        proc.kill()
        proc.wait()
