"""A bug in a route (an exception no handler takes) is answered as every other answer is: the
error shape with the request id to quote, the context headers, no traceback."""

from __future__ import annotations

from jobcast.rediskeys import data_item_key
from tests.conftest import SharedStack, module_stack
from tests.support.api_client import api_client

stack = module_stack()


def test_a_500_carries_the_request_id_and_nosniff(stack: SharedStack) -> None:
    key, _ = stack.new_key("broken")
    http = api_client(stack.url, headers={"X-API-Key": key})
    item = http.post("/data/", json={"name": "n", "value": 1}).json()
    stack.redis.hset(data_item_key(item["id"]), "tags", "not json")  # a record no route reads
    # The hot path's read of one item, and FastAPI's routing for the list.
    for path in (f"/data/{item['id']}", "/data/"):
        answer = http.get(path, headers={"X-Request-ID": "bug-report-1"})
        assert answer.status_code == 500, path
        assert answer.headers.get_list("x-request-id") == ["bug-report-1"], path
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"], path
        assert answer.headers["content-type"] == "application/json", path
        error = answer.json()["error"]
        assert error["code"] == "internal_error", path
        assert error["details"] == {"request_id": "bug-report-1"}, path
        assert "bug-report-1" in error["message"], path
        assert "Traceback" not in answer.text, path
    http.close()
    said = stack.api.output() if stack.api else ""
    # Each traceback logged once, with the id the client was given; not again by uvicorn.
    assert said.count("unhandled error (request id bug-report-1)") == 2
    assert said.count("JSONDecodeError: Expecting value") == 2
    assert "Exception in ASGI application" not in said
