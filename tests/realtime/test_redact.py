"""Credentials in a WebSocket's URL stay out of the api's log, and a key put there is refused
with a message that says where keys go instead."""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from realtime.redact import redact_query
from tests.conftest import StartApi
from tests.realtime.conftest import MakeKey
from tests.realtime.wsclient import open_ws, recv, send
from tests.support.processes import wait_for


@pytest.mark.parametrize("json_lines", ["0", "1"])
@pytest.mark.parametrize("name", ["key", "api_key", "token", "access_token"])
def test_a_key_in_a_websocket_url_is_refused_and_never_logged(
    start_api: StartApi, make_principal: MakeKey, name: str, json_lines: str
) -> None:
    proc, url = start_api(env={"JOBCAST_LOG_JSON": json_lines})
    key, _pid = make_principal()

    with open_ws(url, f"/ws?{name}={key}&room=lobby") as ws:
        # At once: it waited for a first message, the auth timeout (10 s) when none came.
        refused = recv(ws, 3)
        with pytest.raises(ConnectionClosed) as closed:
            recv(ws, 3)

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4001
    assert refused["code"] == "unauthenticated"
    assert "Keys never go in URLs" in refused["message"]
    assert '{"type": "auth", "key": "<API key>"}' in refused["message"]
    assert "POST /ws/ticket" in refused["message"]
    logged = f"/ws?{name}=[redacted]&room=[redacted]"
    wait_for(lambda: logged in proc.output(), 10, "the WebSocket's log line", proc)
    # The secret is url-safe base64 and may itself contain "_": split only the prefix and id off.
    secret = key.split("_", 2)[2]
    assert secret not in proc.output()


def test_a_ticket_in_a_websocket_url_is_redacted_and_its_message_is_unchanged(
    start_api: StartApi,
) -> None:
    proc, url = start_api()
    with open_ws(url, "/ws?ticket=wst_notissued") as ws:
        refused = recv(ws)
    assert refused["code"] == "invalid_ticket"
    wait_for(lambda: "/ws?ticket=[redacted]" in proc.output(), 10, "the log line", proc)
    assert "wst_notissued" not in proc.output()


def test_without_a_key_in_the_url_the_message_only_says_to_authenticate(
    start_api: StartApi,
) -> None:
    _proc, url = start_api()
    with open_ws(url, "/ws?room=lobby") as ws:
        send(ws, type="ping")
        refused = recv(ws)
    assert refused["message"] == 'Send {"type": "auth", "key": "<API key>"} first.'


@pytest.mark.parametrize(
    ("logged", "kept"),
    [
        ("/ws?ticket=wst_a&room=b", "/ws?ticket=[redacted]&room=[redacted]"),
        ("/ws?jc_0123456789ab_" + "s" * 43, "/ws?[redacted]"),
        ("/ws?jc_0123456789ab_" + "s" * 43 + "=", "/ws?[redacted]"),
        ("/ws?a&&b=", "/ws?[redacted]&&b=[redacted]"),
        ("/ws", "/ws"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
    ],
)
def test_every_query_value_of_a_logged_path_is_redacted(logged: str, kept: str) -> None:
    assert redact_query(logged) == kept
