"""A connection left idle is not sent on once the server may be closing it (keep-alive race)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

from jobcast.client.config import ClientConfig
from jobcast.client.http import IDLE_CONNECTION_SECONDS, Http
from jobcast.client.retry import RetryPolicy
from tests.support.api_client import api_client

#: The server's keep-alive, as uvicorn's (the api's) is 5 s: a connection idle this long it
#: closes. Shorter here, to keep the test short, but past the client's own idle limit.
SERVER_KEEP_ALIVE = IDLE_CONNECTION_SECONDS + 0.5
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class KeepAliveServer:
    """Answers each request `{}`, but a request on a connection idle for SERVER_KEEP_ALIVE
    seconds meets the close the server's keep-alive timer began as it arrived (the race, made
    certain): the connection ends without an answer. Counts the connections made to it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            conn, _ = self.listener.accept()
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            answered = time.monotonic()
            while conn.recv(65536):  # a whole small request arrives in one read here
                if time.monotonic() - answered >= SERVER_KEEP_ALIVE:
                    return  # closed as it came: no answer
                conn.sendall(ANSWER)
                answered = time.monotonic()


def test_a_request_after_the_servers_keep_alive_goes_on_a_new_connection() -> None:
    # httpx keeps an idle connection 5 s, as long as uvicorn's keep-alive: a request sent as
    # the server closed it was lost ("Server disconnected without sending a response"), a
    # read retried after a backoff, a submit without an Idempotency-Key failed.
    server = KeepAliveServer()
    config = ClientConfig(f"http://127.0.0.1:{server.port}", "jc_test_key")

    async def two_requests() -> tuple[object, object]:
        http = Http(config, RetryPolicy(max_retries=0), timeout=5)
        try:
            first = await http.json("POST", "/jobs")
            await asyncio.sleep(SERVER_KEEP_ALIVE + 0.3)  # past the server's keep-alive
            return first, await http.json("POST", "/jobs")
        finally:
            await http.close()

    assert asyncio.run(two_requests()) == ({}, {})
    assert server.connections == 2


def test_the_tests_own_clients_also_open_a_new_connection_after_the_keep_alive() -> None:
    # The tests' httpx clients kept idle connections 5 s too: a test's request was lost so.
    server = KeepAliveServer()
    with api_client(f"http://127.0.0.1:{server.port}", "jc_test_key", timeout=5) as http:
        first = http.post("/jobs").json()
        time.sleep(SERVER_KEEP_ALIVE + 0.3)  # past the server's keep-alive
        assert (first, http.post("/jobs").json()) == ({}, {})
    assert server.connections == 2
