"""The OpenAPI document declares the response headers a real api sends: each required one is on
every real answer of its operation and status, and each one a real answer carries is declared."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import MakeKey
from tests.conftest import StartApi
from tests.support.openapi_headers import header_mismatch

#: Reads a principal may make at once: enough for `a_walk`'s, few enough to reach a 429.
READ_BURST = 10


class Walk:
    """Requests to a real api, each kept with the operation that documents it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[str, str, httpx.Response]] = []

    def call(self, key: str | None, method: str, template: str, path: str = "", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        headers.update(kw.pop("headers", {}))
        answer = httpx.request(method, self.url + (path or template), headers=headers, **kw)
        self.answers.append((method.lower(), template, answer))
        return answer


def a_walk(walk: Walk, key: str, spender: str) -> None:
    walk.call(None, "GET", "/healthz")
    walk.call(key, "GET", "/me")
    walk.call(None, "GET", "/me")
    walk.call("not-a-key", "GET", "/me")
    item = walk.call(key, "POST", "/data/", json={"name": "a", "value": 1}).json()["id"]
    walk.call(key, "GET", "/data/{item_id}", f"/data/{item}")
    walk.call(key, "PATCH", "/data/{item_id}", f"/data/{item}", json={"value": 2})
    walk.call(key, "GET", "/data/{item_id}", "/data/d_0")
    walk.call(key, "DELETE", "/data/{item_id}", f"/data/{item}")
    walk.call(key, "POST", "/data/", content=b"x", headers={"Content-Type": "text/plain"})
    order = {"symbol": "BTC-USD", "side": "buy", "quantity": 1, "price": "10"}
    order["client_order_id"] = "c"
    walk.call(key, "POST", "/orders", json=order)
    walk.call(key, "POST", "/orders", json=order)  # the same order again: 200
    walk.call(key, "POST", "/orders/batch", json={"orders": [{**order, "client_order_id": "d"}]})
    job = walk.call(key, "POST", "/jobs", files={"file": ("t.csv", b"a\n1\n")}).json()["id"]
    walk.call(key, "GET", "/jobs/{job_id}", f"/jobs/{job}")
    walk.call(key, "DELETE", "/jobs/{job_id}", f"/jobs/{job}")
    walk.call(key, "POST", "/ws/ticket")
    for _ in range(READ_BURST + 1):
        walk.call(spender, "GET", "/me")


def test_the_schema_declares_the_headers_real_answers_carry(
    start_api: StartApi, make_key: MakeKey
) -> None:
    env = {"JOBCAST_RATE_READ_BURST": str(READ_BURST), "JOBCAST_RATE_READ_PER_MINUTE": "1"}
    walk = Walk(start_api(env=env)[1])
    spec = httpx.get(f"{walk.url}/openapi.json").json()

    a_walk(walk, make_key("alice"), make_key("bob"))

    statuses = set()
    for method, template, answer in walk.answers:
        statuses.add((method, template, str(answer.status_code)))
        assert not header_mismatch(spec, method, template, answer)
    for expected in [
        ("post", "/jobs", "202"),
        ("post", "/orders", "200"),
        ("post", "/orders", "201"),
        ("post", "/data/", "201"),
        ("get", "/me", "401"),
        ("get", "/me", "429"),
        ("post", "/data/", "415"),
    ]:
        assert expected in statuses, expected
