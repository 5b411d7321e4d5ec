"""Chat rooms across two api processes: presence, history, limits, and the seed's alias."""

from __future__ import annotations

import signal

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import SharedStack, StartApi, module_stack
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import Message, authed, open_ws, recv, recv_until, send, subscribe

ROOM = "chat.lounge"
CHAT_ENV = {
    "JOBCAST_CHAT_PRESENCE_TTL": "2",
    "JOBCAST_CHAT_RATE_BURST": "5",
    "JOBCAST_CHAT_HISTORY": "3",
}


#: One api with default settings for the seed alias's tests, each with a principal of its own.
stack = module_stack()


def ids(message: Message) -> list[str]:
    return [p["id"] for p in message["present"]]


def say(ws: object, text: str) -> None:
    send(ws, type="publish", channel=ROOM, data={"text": text}, id=text)  # type: ignore[arg-type]


@pytest.mark.slow
def test_presence_and_history_are_right_across_two_api_processes(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    _, api_a = start_api(env=CHAT_ENV)
    proc_b, api_b = start_api(env=CHAT_ENV)
    (key_x, x), (key_y, y), (key_z, z) = (
        make_principal("x"),
        make_principal("y"),
        make_principal("z"),
    )

    ws_x = authed(api_a, key_x)
    subscribe(ws_x, ROOM)
    assert ids(recv(ws_x)) == [x]  # chat.history: only x present
    ws_y = authed(api_b, key_y)
    subscribe(ws_y, ROOM)
    joined = recv_until(ws_x, lambda m: m["type"] == "chat.join")[-1]
    assert joined["data"]["principal"]["id"] == y
    assert sorted(ids(joined["data"])) == sorted([x, y])

    for n in range(4):
        say(ws_y, f"hello {n}")
    texts = [
        m["data"]["text"]
        for m in recv_until(ws_x, lambda m: m.get("data", {}).get("text") == "hello 3")
        if m["type"] == "chat.message"
    ]
    assert texts == [f"hello {n}" for n in range(4)]

    ws_z = authed(api_a, key_z)
    subscribe(ws_z, ROOM)
    history = recv(ws_z)
    assert history["type"] == "chat.history"
    assert [m["data"]["text"] for m in history["messages"]] == ["hello 1", "hello 2", "hello 3"]
    assert sorted(ids(history)) == sorted([x, y, z])

    # api B dies without a word: y's presence expires, and the room is told once (by api A)
    proc_b.kill_group(signal.SIGKILL)
    expired = recv_until(ws_x, lambda m: m["type"] == "chat.leave", timeout=10)[-1]
    assert (expired["data"]["principal"]["id"], expired["data"]["reason"]) == (y, "expired")
    assert sorted(ids(expired["data"])) == sorted([x, z])
    ws_z.close()
    since = recv_until(ws_x, lambda m: m["type"] == "chat.leave")
    left = since[-1]
    assert (left["data"]["principal"]["id"], left["data"]["reason"]) == (z, "left")
    assert [m["type"] for m in since].count("chat.leave") == 1  # y's leave came once
    assert ids(left["data"]) == [x]
    ws_x.close()


def test_chat_messages_have_a_size_and_rate_limit(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    _, base = start_api(env={**CHAT_ENV, "JOBCAST_CHAT_MAX_MESSAGE_BYTES": "10"})
    key, _ = make_principal()
    with open_ws(base) as ws:
        send(ws, type="auth", key=key)
        # Said on connecting, so a client checks a message against this server's limit.
        assert recv(ws)["limits"]["chat_max_message_bytes"] == 10
        subscribe(ws, ROOM)
        say(ws, "x" * 11)
        assert recv_until(ws, lambda m: m["type"] == "error")[-1]["code"] == "too_large"
        # An escape sequence (it rewrote readers' terminals) or a bidi override: refused.
        for hidden in ("\x1b[2J", "a\u202eb"):
            say(ws, hidden)
            refused = recv_until(ws, lambda m: m["type"] == "error")[-1]
            assert refused["code"] == "bad_message", refused
            assert "send printable text" in refused["message"]
        answers = []
        for n in range(7):
            say(ws, f"m{n}")
            answers += recv_until(ws, lambda m: m["type"] in ("published", "error"))
        codes = [a.get("code", a["type"]) for a in answers if a["type"] in ("published", "error")]
    assert codes[:5] == ["published"] * 5
    assert "rate_limited" in codes[5:]


@pytest.mark.slow
def test_one_principal_joining_and_leaving_cannot_empty_the_rooms_history(
    start_api: StartApi, make_principal: MakeKey
) -> None:
    _, base = start_api(env=CHAT_ENV)
    (key_a, _), (key_churner, _), (key_newcomer, _) = (make_principal() for _ in range(3))
    ws_a = authed(base, key_a)
    subscribe(ws_a, ROOM)
    say(ws_a, "keep me")
    recv_until(ws_a, lambda m: m["type"] == "published")
    # Each join and leave is two events: 8 of them outnumber the messages' 3 x 4 scan window
    with authed(base, key_churner) as churner:
        for _ in range(8):
            subscribe(churner, ROOM)
            send(churner, type="unsubscribe", channel=ROOM)
    for _ in range(8):
        recv_until(ws_a, lambda m: m["type"] == "chat.leave")
    with authed(base, key_newcomer) as newcomer:
        subscribe(newcomer, ROOM)
        history = recv_until(newcomer, lambda m: m["type"] == "chat.history")[-1]
    assert [m["data"]["text"] for m in history["messages"]] == ["keep me"]
    ws_a.close()


def test_seed_chat_alias_takes_plain_text_and_checks_the_user_id(stack: SharedStack) -> None:
    base = stack.url
    key, me = stack.new_key()
    with open_ws(base, f"/ws/chat/{me}?room=seed") as ws:
        send(ws, type="auth", key=key)
        assert recv(ws)["type"] == "auth.ok"
        ws.send("hi there")
        message = recv_until(ws, lambda m: m["type"] == "chat.message")[-1]
    assert message["channel"] == "chat.seed"
    assert message["data"]["text"] == "hi there"
    with open_ws(base, "/ws/chat/somebody-else") as ws:
        send(ws, type="auth", key=key)
        assert recv(ws)["code"] == "forbidden"
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4003


def test_the_seed_chat_alias_refuses_a_room_name_it_cannot_join_saying_so(
    stack: SharedStack,
) -> None:
    # `?room=a%20b` got the general list of channels ("Channels are job.{id}, ...") and the
    # socket then stayed open, its text frames sent into no room.
    base = stack.url
    key, me = stack.new_key()
    with open_ws(base, f"/ws/chat/{me}?room=a%20b") as ws:
        send(ws, type="auth", key=key)
        refused = recv(ws)  # as a path naming another principal: before auth.ok
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert refused["code"] == "bad_room"
    assert "'a b' in ?room=" in refused["message"]
    assert "no spaces" in refused["message"]
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("?room=", "'' in ?room="),
        ("?room=a&room=b", "?room= is given 2 times"),
        ("?room=lobby&room=lobby", "?room= is given 2 times"),
    ],
)
def test_the_seed_chat_alias_refuses_an_empty_or_repeated_room(
    stack: SharedStack, query: str, said: str
) -> None:
    # An empty `?room=` joined the lobby and a repeated one the last room named, where README
    # says a room that is not valid closes 1008 `bad_room`.
    key, me = stack.new_key()
    with open_ws(stack.url, f"/ws/chat/{me}{query}") as ws:
        send(ws, type="auth", key=key)
        refused = recv(ws)
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws)
    assert refused["code"] == "bad_room", refused
    assert said in refused["message"]
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


def test_the_seed_chat_alias_without_a_room_joins_the_lobby(stack: SharedStack) -> None:
    key, me = stack.new_key()
    with open_ws(stack.url, f"/ws/chat/{me}") as ws:
        send(ws, type="auth", key=key)
        assert recv(ws)["type"] == "auth.ok"
        ws.send("hello lobby")
        message = recv_until(ws, lambda m: m["type"] == "chat.message")[-1]
    assert message["channel"] == "chat.lobby"
