"""API keys: required, checked, revocable; admin routes for admins only."""

from __future__ import annotations

import socket
import time

import httpx
import pytest
import redis

from jobcast import rediskeys
from jobcast.key_cache import KEY_CACHE_SECONDS
from jobcast.keys import create_key, revoke_key
from jobcast.rediskeys import API_KEYS_KEY
from jobcast.settings import Settings
from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import MakePrincipal, SharedStack, module_stack

#: One api for the module; each test makes its own principals.
stack = module_stack()


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def url(stack: SharedStack) -> str:
    return stack.url


def test_request_without_key_is_401_saying_how_to_authenticate(url: str) -> None:
    response = httpx.get(f"{url}/data/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "Authorization: Bearer" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("authorization", "said"),
    [
        ("jc_somekey", "lacks its scheme: put `Bearer ` before the key"),
        ("Bearer", "has nothing after `Bearer`"),  # curl -H "Authorization: Bearer $UNSET"
        ("Basic dXNlcjpwdw==", "scheme 'Basic' is not one the API takes"),
    ],
)
def test_an_authorization_header_not_in_the_bearer_form_is_told_what_is_wrong(
    url: str, authorization: str, said: str
) -> None:
    # A bare key in Authorization was told "An API key is required", as if none was sent.
    response = httpx.get(f"{url}/jobs", headers={"Authorization": authorization})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert said in error["message"]
    assert error["message"].endswith("send `Authorization: Bearer <key>` or `X-API-Key: <key>`.")


def test_a_tab_after_bearer_is_read_as_the_space_it_stands_for(url: str, make_key: MakeKey) -> None:
    # It was told the header "lacks its scheme", with the scheme right there.
    key = make_key("tabbed")
    response = httpx.get(f"{url}/jobs", headers={"Authorization": f"Bearer\t{key}"})
    assert response.status_code == 200, response.text


def test_a_key_in_the_url_is_told_keys_are_never_read_there(url: str, make_key: MakeKey) -> None:
    # It was told only "An API key is required", as if none was sent (the WebSocket says why).
    response = httpx.get(f"{url}/jobs", params={"api_key": make_key("in-url")})
    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert message.startswith("Keys are never read from URLs (`?api_key=`)"), message
    assert message.endswith("send `Authorization: Bearer <key>` or `X-API-Key: <key>`.")


def declared_only(url: str, path: str, length: int, headers: str) -> bytes:
    """The head of a POST declaring `length` bytes it never sends, answered before its body."""
    address = httpx.URL(url)
    with socket.create_connection((address.host, address.port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n{headers}\r\n".encode()
        )
        return sock.recv(65536).partition(b"\r\n")[0]


def test_only_a_json_body_declared_over_its_cap_is_refused_before_the_key(
    url: str, settings: Settings, make_key: MakeKey
) -> None:
    # As README says (it said any declared length over the cap was refused before the key).
    over_upload = settings.upload_max_bytes * 2
    form = "Content-Type: multipart/form-data; boundary=b\r\n"
    json = "Content-Type: application/json\r\n"
    bearer = f"Authorization: Bearer {make_key('declared')}\r\n"
    assert b" 401 " in declared_only(url, "/jobs", over_upload, form)
    assert b" 413 " in declared_only(url, "/jobs", over_upload, form + bearer)
    assert b" 413 " in declared_only(url, "/data/", settings.max_json_body_bytes + 1, json)


def test_me_says_who_the_key_acts_for_and_the_limits_it_works_within(
    url: str, settings: Settings, make_principal: MakePrincipal
) -> None:
    key, principal_id = make_principal("carol")
    answer = httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    me = answer.json()
    assert (me["id"], me["name"], me["admin"]) == (principal_id, "carol", False)
    assert key.startswith(f"jc_{me['key_id']}_")  # its id, never the key itself
    limits = me["limits"]
    assert limits["submit_per_minute"] == settings.rate_submit_per_minute
    assert limits["max_upload_bytes"] == settings.upload_max_bytes
    assert limits["open_orders"] == settings.quota_open_orders
    assert httpx.get(f"{url}/me").status_code == 401


def test_unknown_key_is_401(url: str) -> None:
    response = httpx.get(f"{url}/data/", headers={"Authorization": "Bearer jc_nope_nope"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_key"


def test_a_401_says_what_it_cost_its_address_budget(url: str, settings: Settings) -> None:
    answers = [httpx.get(f"{url}/jobs/j_x", headers={"X-API-Key": "jc_no_no"}) for _ in range(3)]
    assert [a.status_code for a in answers] == [401] * 3
    assert all(a.headers["WWW-Authenticate"] == "Bearer" for a in answers)
    assert {a.headers["RateLimit-Limit"] for a in answers} == {str(settings.rate_anonymous_burst)}
    remaining = [int(a.headers["RateLimit-Remaining"]) for a in answers]
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[0] > remaining[-1]
    assert all(int(a.headers["RateLimit-Reset"]) >= 0 for a in answers)


def test_x_api_key_header_works_too(url: str, make_key: MakeKey) -> None:
    assert httpx.get(f"{url}/data/", headers={"X-API-Key": make_key()}).status_code == 200


def test_two_different_keys_are_401_and_the_same_one_twice_is_fine(
    url: str, make_key: MakeKey
) -> None:
    mine, other = make_key(), make_key()
    both = {"Authorization": f"Bearer {mine}", "X-API-Key": other}
    refused = httpx.get(f"{url}/jobs", headers=both)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_key"
    assert "send one" in refused.json()["error"]["message"]
    same = {"Authorization": f"Bearer {mine}", "X-API-Key": mine}
    assert httpx.get(f"{url}/jobs", headers=same).status_code == 200
    # Two headers of one name: not the first one's key, whichever it is.
    for name, value in (("Authorization", "Bearer {}"), ("X-API-Key", "{}")):
        twice = [(name, value.format(other)), (name, value.format(mine))]
        refused = httpx.get(f"{url}/jobs", headers=twice)
        assert refused.status_code == 401, name
        assert refused.json()["error"]["code"] == "invalid_key"
        repeated = [(name, value.format(mine)), (name, value.format(mine))]
        assert httpx.get(f"{url}/jobs", headers=repeated).status_code == 200


def test_health_and_metrics_need_no_key(url: str) -> None:
    assert httpx.get(f"{url}/healthz").status_code == 200
    assert httpx.get(f"{url}/metrics").status_code == 200


def test_redis_stores_only_a_hash_of_the_key(make_key: MakeKey, redis_client: redis.Redis) -> None:
    raw = make_key()
    dump = str(redis_client.hgetall(API_KEYS_KEY)) + str(
        [redis_client.get(k) for k in redis_client.scan_iter(rediskeys.api_key_lookup_key("*"))]
    )
    assert raw not in dump
    assert raw.split("_", 2)[2] not in dump


def test_admin_lists_and_revokes_keys_and_revoked_key_stops_working(
    url: str, make_key: MakeKey, make_client: MakeClient
) -> None:
    admin = make_client(url, make_key("root", admin=True))
    user_key = make_key("bob")
    user = make_client(url, user_key)
    assert user.get("/data/").status_code == 200

    keys = admin.get("/admin/keys").json()
    bob = next(k for k in keys if k["name"] == "bob")
    assert user_key not in str(keys)

    assert admin.delete(f"/admin/keys/{bob['key_id']}").status_code == 204
    assert user.get("/data/").status_code == 401
    assert admin.delete("/admin/keys/nosuchkey").status_code == 404


def wait_for_status(client: httpx.Client, path: str, status: int, seconds: float) -> float:
    """Seconds until `path` answers `status` (polled), failing after `seconds`."""
    started = time.monotonic()
    while (code := client.get(path).status_code) != status:
        assert time.monotonic() - started < seconds, f"still {code} after {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_key_revoked_from_the_command_line_stops_working_at_once(
    url: str, settings: Settings, make_client: MakeClient
) -> None:
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    key, info = create_key(client, settings.secret("key_secret"), "carol")
    user = make_client(url, key)
    assert user.get("/data/").status_code == 200  # now in the api's key cache
    revoke_key(client, info.key_id)  # another process: the api hears it over pub/sub
    assert wait_for_status(user, "/data/", 401, seconds=2) < 1


def test_key_revoked_while_the_api_missed_the_message_stops_within_the_cache_ttl(
    url: str, settings: Settings, make_client: MakeClient
) -> None:
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    key, info = create_key(client, settings.secret("key_secret"), "dave")
    user = make_client(url, key)
    assert user.get("/data/").status_code == 200
    client.delete(rediskeys.api_key_lookup_key(info.digest))  # revoked, no message sent
    waited = wait_for_status(user, "/data/", 401, seconds=KEY_CACHE_SECONDS + 2)
    assert waited <= KEY_CACHE_SECONDS + 0.5


def test_non_admin_cannot_use_admin_routes(
    url: str, make_key: MakeKey, make_client: MakeClient
) -> None:
    response = make_client(url, make_key()).get("/admin/keys")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
