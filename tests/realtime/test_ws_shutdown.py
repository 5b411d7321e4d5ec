"""An api stopping while Redis is too slow to answer: its WebSocket sessions still end quietly.

uvicorn cancels the sessions still running once its graceful shutdown (`--timeout-graceful-
shutdown`) is over, and logs whatever a cancelled one raises as "Exception in ASGI
application" with its traceback: after a reconnect storm on a starved api, thousands at once.
"""

from __future__ import annotations

import redis

from jobcast.keys import create_key
from jobcast.launcher import API_SHUTDOWN_GRACE_SECONDS
from jobcast.settings import Settings
from tests.conftest import StartApi
from tests.realtime.conftest import PrivateRedis
from tests.realtime.wsclient import authed, subscribe

#: Longer than the api's shutdown grace: the sessions' cleanup is still waiting when it ends.
PAUSE_MS = int((API_SHUTDOWN_GRACE_SECONDS + 5) * 1000)


def test_sessions_cut_short_by_a_stop_end_with_one_warning_each_and_no_traceback(
    start_api: StartApi, settings: Settings, private_redis: PrivateRedis
) -> None:
    url = private_redis.server.url
    client = redis.Redis.from_url(url, decode_responses=True)
    key, _ = create_key(client, settings.secret("key_secret"), "stopping")
    api, base = start_api(env={"JOBCAST_REDIS_URL": url})
    # Given subscribed sockets, whose cleanup (leaving the connection count) needs Redis
    sockets = [authed(base, key) for _ in range(3)]
    for ws in sockets:
        subscribe(ws, "market.ACME")
    # And Redis silent from now on
    client.execute_command("CLIENT", "PAUSE", PAUSE_MS, "ALL")

    # When the api is told to stop
    api.stop(grace=20)

    # Then each session ended with one line, a warning saying why, and nothing raised
    log = api.output()
    assert "Traceback" not in log, log[-3000:]
    assert "Exception in ASGI application" not in log
    closed = [line for line in log.splitlines() if "WebSocket closed" in line]
    assert len(closed) == 3, closed
    assert all(" WARNING " in line and "cut short" in line for line in closed), closed
    for ws in sockets:
        ws.close()
