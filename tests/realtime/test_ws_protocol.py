"""The /ws protocol against a real api process: auth, ping, subscribe, refusals, Origin."""

from __future__ import annotations

import json
from itertools import pairwise

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed, InvalidStatus

from jobcast.rediskeys import job_key, tombstone_key
from jobcast.settings import Settings
from tests.conftest import SharedStack, module_stack
from tests.realtime.conftest import MakeKey
from tests.realtime.jobs import create_job, progress, succeed
from tests.realtime.wsclient import authed, is_event, open_ws, recv, recv_until, send, subscribe

#: One api for the tests that leave it as it is.
stack = module_stack()

#: A second one for the tests of settings the others must not meet: an allowed Origin, quick
#: heartbeats (beating on a refresh tick, every third of the TTL, would give gaps of 2/3 s and
#: 4/3 s), and a short time to authenticate.
HEARTBEAT_INTERVAL = 1.0
AUTH_TIMEOUT = 2
tuned = module_stack(
    api_env={
        "JOBCAST_CORS_ORIGINS": '["https://app.example"]',
        "JOBCAST_WS_HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL),
        "JOBCAST_WS_CONNECTION_TTL": "2",
        "JOBCAST_WS_AUTH_TIMEOUT": str(AUTH_TIMEOUT),
    }
)


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def base(stack: SharedStack) -> str:
    return stack.url


def test_key_as_first_message_authenticates_and_ping_is_answered(
    base: str, make_principal: MakeKey
) -> None:
    key, _pid = make_principal()
    with authed(base, key) as ws:
        send(ws, type="ping", id=7)
        assert recv(ws) == {"type": "pong", "ref": 7}


def test_a_connection_without_a_valid_key_gets_an_error_then_close_4001(
    base: str, make_principal: MakeKey
) -> None:
    with open_ws(base) as ws:
        send(ws, type="auth", key="jc_nothing_here")
        assert recv(ws)["code"] == "invalid_key"
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001


def test_a_frame_too_deep_to_parse_is_an_error_of_the_client_not_of_the_server(
    base: str, make_principal: MakeKey
) -> None:
    # It used to end in internal_error, close 1011 and a traceback in the log, even unsigned.
    deep = "[" * 5000 + "]" * 5000
    with open_ws(base) as ws:
        ws.send(deep)
        refused = recv(ws)
        assert refused["code"] == "unauthenticated"  # as any first frame that is not auth
        # ... saying why it was not read, not only what to send (as if nothing was sent).
        assert refused["message"].startswith("The first message was refused (bad_json): ")
        assert refused["message"].endswith('Send {"type": "auth", "key": "<API key>"} first.')
    key, _pid = make_principal()
    with authed(base, key) as ws:
        ws.send(deep)
        assert recv(ws)["code"] == "bad_json"
        send(ws, type="ping", id=1)
        assert recv(ws) == {"type": "pong", "ref": 1}


@pytest.mark.parametrize("kind", [["ping"], {"type": "ping"}], ids=["list", "object"])
def test_a_type_that_is_not_a_string_is_refused_not_a_server_failure(
    base: str, make_principal: MakeKey, kind: object
) -> None:
    # An unhashable `type` failed the frame's lookup among the known ones: internal_error,
    # close 1011 and a traceback in the log, for anyone who opened a socket, keyless too.
    with open_ws(base) as ws:
        send(ws, type=kind, key="jc_x")
        refused = recv(ws)
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert refused["message"].startswith("The first message was refused (unknown_type): ")
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001
    key, _pid = make_principal()
    with authed(base, key) as ws:
        send(ws, type=kind, id="t")
        refused_later = recv(ws)
        assert (refused_later["code"], refused_later["ref"]) == ("unknown_type", "t")
        send(ws, type="ping", id="p")
        assert recv(ws) == {"type": "pong", "ref": "p"}


def test_an_empty_since_is_refused_as_any_malformed_since(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    job = create_job(redis_client, owner)
    with authed(base, key) as ws:
        send(ws, type="subscribe", channel=f"job.{job}", since="", id="s")
        refused = recv(ws)
        send(ws, type="ping", id="p")
        assert recv(ws) == {"type": "pong", "ref": "p"}  # refused, not subscribed from now
    assert (refused["type"], refused["code"], refused["ref"]) == ("error", "bad_field", "s")
    assert "`since` must be the seq of an event" in refused["message"]


@pytest.mark.parametrize(
    "first", [b"\x00\x01", '{"type": "auth"'], ids=["binary frame", "unparsed text frame"]
)
def test_an_unreadable_first_frame_closes_4001_whatever_its_kind(
    base: str, first: str | bytes
) -> None:
    # A binary frame got `bad_frame` and the socket stayed open, waiting for an auth.
    with open_ws(base) as ws:
        ws.send(first)
        refused = recv(ws)
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert refused["code"] == "unauthenticated"
    assert refused["message"].startswith("The first message was refused (")
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001


def test_a_binary_frame_once_authenticated_is_refused_and_the_socket_stays_open(
    base: str, make_principal: MakeKey
) -> None:
    key, _pid = make_principal()
    with authed(base, key) as ws:
        ws.send(b"\x00\x01")
        assert recv(ws)["code"] == "bad_frame"
        send(ws, type="ping", id=2)
        assert recv(ws) == {"type": "pong", "ref": 2}


def test_an_auth_without_a_key_is_told_the_key_is_required(base: str) -> None:
    # It was told only to send an auth message, which it had.
    with open_ws(base) as ws:
        send(ws, type="auth")
        refused = recv(ws)
    assert refused["code"] == "unauthenticated"
    assert refused["message"].startswith("`key` is required: ")


def test_no_auth_within_the_timeout_is_told_the_time_ran_out(tuned: SharedStack) -> None:
    with open_ws(tuned.url) as ws:
        refused = recv(ws, timeout=AUTH_TIMEOUT + 5)
    assert refused["code"] == "unauthenticated"
    assert refused["message"].startswith(f"No message came within {AUTH_TIMEOUT} s. ")


def test_owner_gets_snapshot_then_events_in_order(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    job = create_job(redis_client, owner)
    with authed(base, key) as ws:
        subscribe(ws, f"job.{job}")
        snapshot = recv(ws)
        assert snapshot["type"] == "snapshot"
        assert snapshot["data"]["status"] == "queued"
        seqs = [progress(redis_client, job, owner, p) for p in (10.0, 50.0)]
        seqs.append(succeed(redis_client, job, owner, {"rows": 3}))
        events = recv_until(ws, lambda m: m.get("type") == "job.succeeded")
    assert [e["seq"] for e in events] == seqs
    assert [e["type"] for e in events] == ["job.progress", "job.progress", "job.succeeded"]


def test_another_principal_is_told_the_job_and_user_channels_do_not_exist(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    _, owner = make_principal("a")
    other_key, _ = make_principal("b")
    job = create_job(redis_client, owner)
    with authed(base, other_key) as ws:
        for channel in (f"job.{job}", f"user.{owner}", "job.doesnotexist"):
            send(ws, type="subscribe", channel=channel, id=channel)
            answer = recv(ws)
            assert (answer["type"], answer["code"]) == ("error", "not_found"), answer
            assert answer["ref"] == channel


def test_a_name_beside_a_jobs_record_is_no_channel_and_says_nothing_of_the_job(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    # `job.<id>:gone` read the job's tombstone key (a string): `unavailable` for a job that
    # exists, `not_found` for one that does not, so anyone could tell which ids exist.
    _, owner = make_principal("a")
    other_key, _ = make_principal("b")
    job = create_job(redis_client, owner)
    redis_client.set(tombstone_key(job_key(job)), owner)
    with authed(base, other_key) as ws:
        for channel in (f"job.{job}:gone", "job.j_000000000000000000000000:gone"):
            send(ws, type="subscribe", channel=channel, id=channel)
            answer = recv(ws)
            assert (answer["type"], answer["code"], answer["ref"]) == (
                "error",
                "not_found",
                channel,
            ), answer


def test_a_market_channel_exists_only_for_a_tradable_symbol(
    base: str, make_principal: MakeKey
) -> None:
    # A typo would otherwise subscribe to a channel nothing is ever published on.
    key, _ = make_principal()
    with authed(base, key) as ws:
        send(ws, type="subscribe", channel="market.NOPE", id=1)
        answer = recv(ws)
        assert (answer["type"], answer["code"], answer["ref"]) == ("error", "not_found", 1)
        assert answer["message"] == "No symbol 'NOPE': GET /market lists them."
        send(ws, type="subscribe", channel="market.acme", id=3)
        answer = recv(ws)
        assert (answer["code"], answer["ref"]) == ("not_found", 3)
        assert "(symbols are case-sensitive: 'ACME')" in answer["message"]
        send(ws, type="subscribe", channel="market.ACME", id=2)
        answer = recv(ws)
        assert (answer["type"], answer["ref"], answer["channel"]) == (
            "subscribed",
            2,
            "market.ACME",
        )


def test_user_me_carries_every_job_of_the_principal(
    base: str, make_principal: MakeKey, redis_client: redis.Redis
) -> None:
    key, owner = make_principal()
    with authed(base, key) as ws:
        subscribe(ws, "user.me")
        jobs = [create_job(redis_client, owner) for _ in range(2)]
        for job in jobs:
            progress(redis_client, job, owner, 5.0)
        events = [
            m
            for m in recv_until(ws, lambda m: m.get("data", {}).get("job_id") == jobs[1])
            if is_event(m)
        ]
    assert [e["data"]["job_id"] for e in events] == jobs
    assert {e["channel"] for e in events} == {f"user.{owner}"}


def test_publish_is_refused_outside_chat(base: str, make_principal: MakeKey) -> None:
    key, _ = make_principal()
    with authed(base, key) as ws:
        send(ws, type="publish", channel="market.ACME", data={"x": 1}, id=1)
        assert recv(ws)["code"] == "publish_refused"
        ws.send("not json")
        assert recv(ws)["code"] == "bad_json"


@pytest.mark.parametrize("path", ["/nope", "/ws/", "/WS"])
def test_a_handshake_to_no_websocket_route_is_404_not_an_origin_refusal(
    base: str, path: str
) -> None:
    # It was 403, which the README keeps for a refused Origin.
    with pytest.raises(InvalidStatus) as refused:
        open_ws(base, path)
    response = refused.value.response
    assert response.status_code == 404
    error = json.loads(response.body or b"{}")["error"]
    assert error["code"] == "not_found"
    assert path in error["message"]


def test_wrong_origin_is_refused_and_an_allowed_one_accepted(tuned: SharedStack) -> None:
    base = tuned.url
    key, _ = tuned.new_key()
    with pytest.raises(InvalidStatus) as refused:
        open_ws(base, origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    with authed(base, key, origin="https://app.example") as ws:  # type: ignore[arg-type]
        send(ws, type="ping", id="o")
        # A heartbeat may come first (this api beats every second).
        assert recv_until(ws, lambda m: m.get("type") == "pong")[-1]["ref"] == "o"


def test_ticket_works_once_and_no_key_or_ticket_reaches_the_log(
    stack: SharedStack, make_principal: MakeKey
) -> None:
    assert stack.api is not None
    proc, base = stack.api, stack.url
    key, pid = make_principal()
    answer = httpx.post(f"{base}/ws/ticket", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 201
    ticket = answer.json()["ticket"]
    with open_ws(base, f"/ws?ticket={ticket}") as ws:
        assert recv(ws)["principal"]["id"] == pid
    with open_ws(base, f"/ws?ticket={ticket}") as ws:
        assert recv(ws)["code"] == "invalid_ticket"
    with authed(base, key) as ws:
        send(ws, type="ping")
        recv(ws)
    log = proc.output()
    assert "/ws" in log
    assert key not in log
    assert ticket not in log


def test_the_server_sends_heartbeats(tuned: SharedStack) -> None:
    key, _ = tuned.new_key()
    with authed(tuned.url, key) as ws:
        beats = [recv(ws, 2) for _ in range(2)]
    assert [b["type"] for b in beats] == ["heartbeat", "heartbeat"]
    assert beats[1]["ts"] > beats[0]["ts"]


def test_heartbeats_come_at_the_advertised_interval_not_at_the_refresh_tick(
    tuned: SharedStack,
) -> None:
    # The ticker refreshed every third of the connection TTL (2/3 s here) and beat only on
    # those ticks: an interval of 1 s came as gaps of 2/3 s and 4/3 s.
    key, _ = tuned.new_key()
    with authed(tuned.url, key) as ws:
        send(ws, type="ping", id="p")
        assert recv_until(ws, lambda m: m.get("type") == "pong")[-1]["ref"] == "p"
        # Three gaps: on the refresh tick, any two running gaps held a short and a long one.
        stamps = [recv(ws, 4)["ts"] for _ in range(4)]
    gaps = [later - earlier for earlier, later in pairwise(stamps)]
    assert all(abs(gap - HEARTBEAT_INTERVAL) < 0.25 for gap in gaps), gaps


def test_every_answer_to_a_message_with_an_id_carries_it_as_ref(
    base: str, make_principal: MakeKey
) -> None:
    key, _pid = make_principal()
    with open_ws(base) as ws:
        send(ws, type="auth", key=key, id="a1")
        assert recv(ws)["ref"] == "a1"
        send(ws, type="frob", id=1)
        unknown = recv(ws)
        assert (unknown["code"], unknown["ref"]) == ("unknown_type", 1)
        send(ws, type="subscribe", channel="nonsense", id=2)
        bad = recv(ws)
        assert (bad["code"], bad["ref"]) == ("bad_channel", 2)
        send(ws, type="subscribe", channel=7, id=3)
        assert recv(ws)["ref"] == 3


def test_a_channel_name_ending_in_a_line_break_is_refused(
    base: str, make_principal: MakeKey
) -> None:
    # The name rule's `$` matched before a final line break: `chat.lobby\n` was a room of its
    # own, apart from `chat.lobby`, which the CLI (checking by the same rule) now refuses.
    key, _pid = make_principal()
    with authed(base, key) as ws:
        send(ws, type="subscribe", channel="chat.lobby\n", id="s")
        refused = recv_until(ws, lambda m: m.get("ref") == "s")[-1]
    assert refused["code"] == "bad_channel"
    assert "1 to 128 ASCII letters, digits or _ . : - (no spaces)" in refused["message"]
