"""Crafted input answers 4xx naming what to fix, never a 500: prices, batches, path ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from jobcast.keys import create_key
from jobcast.settings import Settings
from tests.api.conftest import MakeKey
from tests.api.inprocess import run_in_process
from tests.conftest import SharedStack, module_stack
from tests.support.stack import start_private_redis

GOOD: dict[str, Any] = {"symbol": "ACME", "side": "buy", "quantity": 10, "price": "1.00"}


#: One api for the tests that only ask it things, each with a principal of its own.
stack = module_stack()


def as_(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


NOT_PLAIN_PRICES = ["1e28", "1e-999999999", 1e28, "1E+2", "0x10", "1_000", " 1.00", "NaN"]
TOO_LONG_PRICES = ["Infinity", "1" * 16, "1." + "0" * 13, "", "1.", ".5"]


@pytest.mark.parametrize("price", NOT_PLAIN_PRICES + TOO_LONG_PRICES)
def test_a_price_that_is_not_a_plain_bounded_decimal_is_a_422_price_invalid(
    settings: Settings, make_key: MakeKey, price: object
) -> None:
    headers = as_(make_key())

    async def scenario(client: httpx.AsyncClient) -> None:
        answer = await client.post("/orders", json={**GOOD, "price": price}, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "price_invalid"
        assert "no exponent" in answer.json()["error"]["message"]

    run_in_process(settings, scenario)


def test_quantities_must_be_json_integers(settings: Settings, make_key: MakeKey) -> None:
    headers = as_(make_key())

    async def scenario(client: httpx.AsyncClient) -> None:
        for quantity in ("10", 10.0, 1e28, "1e3", True):
            order = {**GOOD, "quantity": quantity}
            answer = await client.post("/orders", json=order, headers=headers)
            assert answer.status_code == 422, (quantity, answer.text)
            assert answer.json()["error"]["details"][0]["field"] == "body.quantity"
        for price in (True, [1], {"p": 1}):
            flag = await client.post("/orders", json={**GOOD, "price": price}, headers=headers)
            assert flag.json()["error"]["details"] == [
                {
                    "field": "body.price",
                    "problem": 'a price is a decimal as text, e.g. "100.5", or a JSON number',
                    "type": "price_type",
                }
            ]
        positive = await client.post("/orders", json={**GOOD, "price": "0.001"}, headers=headers)
        assert positive.json()["error"]["code"] == "price_off_tick"  # positive, but no tick

    run_in_process(settings, scenario)


def test_a_batch_answers_per_item_and_each_order_spends_from_the_orders_budget(
    settings: Settings, make_key: MakeKey
) -> None:
    # One order back a minute: nothing refills while the test runs, however slow the machine.
    settings = settings.replace(rate_orders_burst=5, rate_orders_per_minute=1)
    headers = as_(make_key())

    async def scenario(client: httpx.AsyncClient) -> None:
        batch = [GOOD, {**GOOD, "price": "1e28"}, {**GOOD, "price": "1e-999999999"}, GOOD]
        answer = await client.post("/orders/batch", json={"orders": batch}, headers=headers)
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "accepted"]
        assert {r["error"]["code"] for r in results[1:3]} == {"price_invalid"}
        # Four orders spent four of five: the budget's headers say so.
        assert answer.headers["RateLimit-Limit"] == "5"
        assert answer.headers["RateLimit-Remaining"] == "1"
        two = {"orders": [GOOD, GOOD]}
        two_more = await client.post("/orders/batch", json=two, headers=headers)
        assert two_more.status_code == 429
        assert "Retry-After" in two_more.headers
        assert two_more.headers["RateLimit-Limit"] == "5"  # the orders budget's, as README says
        # More than the burst can never pass, however long one waits: 422, not a 429 to retry.
        too_big = await client.post("/orders/batch", json={"orders": [GOOD] * 6}, headers=headers)
        assert too_big.status_code == 422, too_big.text
        assert "Retry-After" not in too_big.headers
        assert too_big.json()["error"]["code"] == "batch_too_large"
        assert "at most 5 orders per batch" in too_big.json()["error"]["message"]
        # Refused before any order is spent, it reports the submit budget, as any POST does.
        assert too_big.headers["RateLimit-Limit"] == str(settings.rate_submit_burst)
        # It spent nothing: the one order left in the budget still goes through.
        last = await client.post("/orders/batch", json={"orders": [GOOD]}, headers=headers)
        assert last.status_code == 200, last.text

    run_in_process(settings, scenario)


def test_malformed_path_ids_are_404_before_redis_without_telling_what_exists(
    settings: Settings, make_key: MakeKey
) -> None:
    key, admin = make_key("owner"), make_key("ops", admin=True)

    async def scenario(client: httpx.AsyncClient) -> None:
        made = await client.post("/data/", json={"name": "x", "value": 1}, headers=as_(key))
        me = (await client.get("/data/", headers=as_(key))).json()
        assert made.status_code == 201
        assert me["items"]
        # `owner:<principal>` is the name of an index of another type in Redis: asking for it
        # as an item used to fail with a 500 when the principal had data, 404 otherwise.
        principal_id = await principal_of(client, admin)
        paths = [f"/data/owner:{principal_id}", "/data/owner:x", "/jobs/owner:x", "/jobs/j_x"]
        for path in [*paths, "/orders/o_1:2", "/jobs/" + "a" * 5000]:
            answer = await client.get(path, headers=as_(key))
            assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found"), path
        changes = [("PATCH", "/data/owner:x"), ("DELETE", "/data/owner:x")]
        for method, path in [*changes, ("DELETE", "/orders/o_x"), ("DELETE", "/jobs/x")]:
            answer = await client.request(method, path, headers=as_(key), json={"name": "y"})
            assert answer.status_code == 404, (method, path, answer.text)
        revoked = await client.delete("/admin/keys/not-a-key:id", headers=as_(admin))
        assert revoked.status_code == 404

    run_in_process(settings, scenario)


#: Each route with an id in its path, as (method, path with `{}` for the id, the 404's words).
ID_ROUTES = [
    ("GET", "/jobs/{}", "No job with that id."),
    ("DELETE", "/jobs/{}", "No job with that id."),
    ("GET", "/jobs/{}/result", "No job with that id."),
    ("GET", "/jobs/{}/artifact", "No job with that id."),
    ("GET", "/orders/{}", "No order with that id."),
    ("DELETE", "/orders/{}", "No order with that id."),
    ("GET", "/data/{}", "No data item with that id."),
    ("GET", "/market/{}", "No symbol '{}': GET /market lists them."),
    ("GET", "/market/{}/book", "No symbol '{}': GET /market lists them."),
]


@pytest.mark.parametrize("encoded", ["..%2Fme", "a%2fb", "%2E%2E", "x%3Fy%23z", "%252F"])
def test_an_encoded_id_is_one_path_segment_answered_by_its_route(
    stack: SharedStack, encoded: str
) -> None:
    # uvicorn decodes `%2F` in the path it routes by: `/jobs/..%2Fme` was "No route GET
    # /jobs/../me", as if the client had asked for a route that does not exist.
    url, headers = stack.url, as_(stack.new_key()[0])
    for method, path, words in ID_ROUTES:
        answer = httpx.request(method, url + path.format(encoded), headers=headers)
        assert answer.status_code == 404, (method, path, answer.text)
        message = answer.json()["error"]["message"]
        assert message.startswith(words.split("{}")[0]), (method, path, message)
        assert "No route" not in message


def test_the_batch_path_is_not_taken_for_an_order_id(stack: SharedStack) -> None:
    # GET /orders/batch was the order "batch", 404 "No order with that id."; PUT said GET and
    # DELETE were allowed there. No order id is "batch": the path takes POST alone.
    url, headers = stack.url, as_(stack.new_key()[0])
    for method in ("GET", "PUT", "DELETE"):
        answer = httpx.request(method, url + "/orders/batch", headers=headers)
        assert (answer.status_code, answer.headers.get("Allow")) == (405, "POST"), method
        assert "(it takes POST)" in answer.json()["error"]["message"]
    order = httpx.get(url + "/orders/o_0123456789abcdef0123", headers=headers)
    assert order.json()["error"]["message"] == "No order with that id."


def test_a_path_no_route_takes_says_so_and_where_the_routes_are(
    settings: Settings, make_key: MakeKey
) -> None:
    key = make_key("lost")

    async def scenario(client: httpx.AsyncClient) -> None:
        # Starlette's bare "Not Found" told a wrong path (`/job/…`) nothing.
        missing = await client.get("/job/j_0123", headers=as_(key))
        assert missing.status_code == 404
        assert missing.json()["error"] == {
            "code": "not_found",
            "message": "No route GET /job/j_0123; the routes are listed at /docs.",
            "details": None,
        }
        wrong = await client.put("/healthz", headers=as_(key))
        assert wrong.status_code == 405
        assert (
            wrong.json()["error"]["message"]
            == "/healthz does not take PUT (it takes GET, HEAD); see /docs."
        )
        # Every method the path takes, not only the first route's (it said GET for /data/{id}).
        item = await client.put("/data/d_0123456789abcdef01234567", headers=as_(key))
        assert item.status_code == 405
        assert item.headers["Allow"] == "GET, PATCH, DELETE"
        assert "(it takes GET, PATCH, DELETE)" in item.json()["error"]["message"]
        # A route's own 404 keeps its words.
        gone = await client.get("/jobs/j_0123456789abcdef01234567", headers=as_(key))
        assert gone.json()["error"]["message"] == "No job with that id."

    run_in_process(settings, scenario)


def test_a_trailing_slash_the_path_does_not_take_is_a_404_naming_the_path_to_use(
    stack: SharedStack,
) -> None:
    # Starlette answered 307 with no body (curl printed nothing), its Location built from the
    # Host header (a forged one sent the client to another host), and a POST's body went again.
    url, headers = stack.url, as_(stack.new_key()[0])
    listing = httpx.get(f"{url}/jobs/", headers=headers)
    assert (listing.status_code, listing.json()["error"]) == (
        404,
        {
            "code": "not_found",
            "message": "No route GET /jobs/; the path is /jobs, without the trailing slash.",
            "details": None,
        },
    )
    upload = {"file": ("t.csv", b"a\n1\n")}
    posted = httpx.post(f"{url}/jobs/", headers={**headers, "Host": "evil.test"}, files=upload)
    assert posted.status_code == 404, posted.headers
    assert "location" not in posted.headers
    assert "the path is /jobs," in posted.json()["error"]["message"]
    assert httpx.get(f"{url}/jobs", headers=headers).json()["items"] == []  # no job was made
    me = httpx.get(f"{url}/me/", headers=headers)
    assert "the path is /me," in me.json()["error"]["message"]
    # Only a path some route takes with that method is named.
    nowhere = httpx.delete(f"{url}/jobs/", headers=headers)
    assert nowhere.json()["error"]["message"] == (
        "No route DELETE /jobs/; the routes are listed at /docs."
    )


async def principal_of(client: httpx.AsyncClient, admin: str) -> str:
    keys = (await client.get("/admin/keys", headers=as_(admin))).json()
    return str(next(k["principal_id"] for k in keys if k["name"] == "owner"))


def test_metrics_need_the_token_when_one_is_set(settings: Settings) -> None:
    settings = settings.replace(metrics_token="s3cret-token")

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status_code == 200
        assert "jobcast_redis_memory_used_bytes" in right.text

    run_in_process(settings, scenario)


def test_redis_memory_pressure_shows_on_readyz_and_metrics_before_writes_fail(
    tmp_path: Path,
) -> None:
    _, proc, private = start_private_redis(tmp_path, redis_memory_pressure_ratio=0.5)
    client = redis.Redis.from_url(private.broker_url)
    key, _ = create_key(client, private.secret("key_secret"), "writer")

    async def scenario(api: httpx.AsyncClient) -> None:
        calm = await api.get("/readyz")
        assert "memory" not in calm.json()["error"]["message"]  # no workers here, that is all
        used = int(client.info("memory")["used_memory"])
        # 75 % full, past the 50 % set here: pressure, while writes still work (used memory
        # moves a little from one moment to the next, hence the margins).
        client.config_set("maxmemory", int(used / 0.75))
        pressed = await api.get("/readyz")
        assert pressed.status_code == 503
        assert "Redis memory pressure" in pressed.json()["error"]["message"]
        metrics = (await api.get("/metrics")).text.splitlines()
        ratio = next(ln for ln in metrics if ln.startswith("jobcast_redis_memory_used_ratio"))
        assert float(ratio.split()[1]) >= 0.5
        written = await api.post("/data/", json={"name": "x", "value": 1}, headers=as_(key))
        assert written.status_code == 201
        client.config_set("maxmemory", 1)  # full: Redis refuses every write
        refused = await api.post("/data/", json={"name": "y", "value": 1}, headers=as_(key))
        assert (refused.status_code, refused.json()["error"]["code"]) == (503, "redis_full")
        # Reads still answer, and deletes, which make room (the rate limit is checked, not
        # recorded, while Redis refuses writes).
        item = f"/data/{written.json()['id']}"
        assert (await api.get(item, headers=as_(key))).status_code == 200
        assert (await api.get("/data/", headers=as_(key))).status_code == 200
        assert (await api.delete(item, headers=as_(key))).status_code == 204
        assert (await api.get(item, headers=as_(key))).status_code == 404
        # A refused plain command (not in a script) is redis_full too: it was a 500.
        ticket = await api.post("/ws/ticket", headers=as_(key))
        assert (ticket.status_code, ticket.json()["error"]["code"]) == (503, "redis_full")

    try:
        run_in_process(private, scenario)
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def test_a_body_that_is_not_json_or_not_multipart_says_what_to_send(
    settings: Settings, make_key: MakeKey
) -> None:
    headers = as_(make_key())
    json_type = {**headers, "Content-Type": "application/json"}

    async def scenario(client: httpx.AsyncClient) -> None:
        broken = await client.post("/orders", content=b'{"symbol": oops}', headers=json_type)
        assert broken.status_code == 422
        [detail] = broken.json()["error"]["details"]
        assert detail["field"] == "body"
        assert detail["problem"].startswith("not valid JSON at character 11: Expecting value")
        for other in (
            {"content": b"hello", "headers": {**headers, "Content-Type": "text/plain"}},
            {"data": {"symbol": "ACME"}, "headers": headers},
            {"content": b'{"symbol": "ACME"}', "headers": {**headers, "Content-Type": ""}},
        ):
            answer = await client.post("/orders", **other)  # type: ignore[arg-type]
            assert answer.status_code == 415, answer.text
            assert "Content-Type: application/json" in answer.json()["error"]["message"]
        nothing = await client.post("/orders", headers=headers)  # no body: that is the fault
        assert nothing.status_code == 422
        assert nothing.json()["error"]["details"][0]["field"] == "body"

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: met as bytes arrive
            yield b'{"name": "'
            for _ in range(40):
                yield b"x" * 65536
            yield b'", "value": 1}'

        big = await client.post("/data/", content=chunked(), headers=json_type)
        assert big.status_code == 413, big.text  # was a 400 asking for UTF-8 text
        assert big.json()["error"]["code"] == "payload_too_large"
        # Each says which of the three it was (one message named all three).
        for body, said in (
            (b'{"quantity": ' + b"9" * 5000 + b"}", "a number of more than 4,300 digits"),
            (b'{"symbol": "\xff"}', "not UTF-8 text (byte 12 cannot start a character)"),
            (b"[" * 1000 + b"]" * 1000, "nested too deeply"),
        ):
            unread = await client.post("/orders", content=body, headers=json_type)
            assert unread.status_code == 400
            message = unread.json()["error"]["message"]
            assert message.startswith("The body could not be read as JSON: "), message
            assert said in message, message
        multipart = {**headers, "Content-Type": "multipart/form-data; boundary=xyz"}
        garbage = await client.post("/jobs", content=b"garbage", headers=multipart)
        assert garbage.status_code == 400
        message = garbage.json()["error"]["message"]
        assert message.startswith("The body is not valid multipart/form-data")
        assert "boundary character" not in message  # python-multipart's own words stay out

    run_in_process(settings, scenario)
