"""The seed's `/data/` API, for real: owned, validated, paginated, atomic."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from api.data_store import ITEM_ID
from jobcast.owned_index import id_of_member
from jobcast.rediskeys import data_item_key, data_of_key
from jobcast.settings import Settings
from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import MakePrincipal, SharedStack, StartApi, module_stack

#: One api for the module; each test's own principal keeps its items apart.
stack = module_stack()
#: Data items a principal may keep on the api of `capped_url`.
CAP = 3


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def client(stack: SharedStack, make_key: MakeKey, make_client: MakeClient) -> httpx.Client:
    return make_client(stack.url, make_key("alice"))


def test_item_lifecycle_create_read_patch_delete(client: httpx.Client) -> None:
    created = client.post("/data/", json={"name": "temp", "value": 21.5, "tags": ["lab"]})
    assert created.status_code == 201
    item = created.json()
    assert created.headers["location"] == f"/data/{item['id']}"
    assert item["created_at"] == item["updated_at"]

    assert client.get(f"/data/{item['id']}").json() == item

    patched = client.patch(f"/data/{item['id']}", json={"value": 22.0}).json()
    assert patched["value"] == 22.0
    assert patched["name"] == "temp"
    assert patched["tags"] == ["lab"]
    assert patched["updated_at"] >= item["updated_at"]

    assert client.delete(f"/data/{item['id']}").status_code == 204
    gone = client.get(f"/data/{item['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    assert client.delete(f"/data/{item['id']}").status_code == 404


def test_the_collection_answers_without_its_trailing_slash_too(client: httpx.Client) -> None:
    # A 307 to /data/ would be an empty answer in curl and a lost body in many clients.
    created = client.post("/data", json={"name": "slashless", "value": 1})
    assert created.status_code == 201, created.text
    listed = client.get("/data")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]
    assert "/data" not in client.get("/openapi.json").json()["paths"]


def test_ids_are_server_generated_and_distinct(client: httpx.Client) -> None:
    ids = {
        client.post("/data/", json={"name": f"n{i}", "value": i}).json()["id"] for i in range(30)
    }
    assert len(ids) == 30


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "value": 1}, "body.name"),
        ({"name": "x" * 201, "value": 1}, "body.name"),
        ({"name": "ok", "value": -1}, "body.value"),
        ({"name": "ok", "value": 1, "tags": ["t"] * 21}, "body.tags"),
        ({"name": "ok", "value": 1, "tags": ["x" * 51]}, "body.tags.0"),
        ({"name": "ok", "value": 1, "id": 7}, "body.id"),
        ({"value": 1}, "body.name"),
        # Not numbers, though a lax parser takes them for one.
        ({"name": "ok", "value": True}, "body.value"),
        ({"name": "ok", "value": "1"}, "body.value"),
        # What hides what the text says: NUL, a terminal escape, a bidi override.
        ({"name": "a\u0000b", "value": 1}, "body.name"),
        ({"name": "ok", "value": 1, "tags": ["\x1b[31mred"]}, "body.tags.0"),
        ({"name": "evil\u202etxt.exe", "value": 1}, "body.name"),
        # Invisible, a line separator, only spaces.
        ({"name": "a\u200bb", "value": 1}, "body.name"),
        ({"name": "a\u2028b", "value": 1}, "body.name"),
        ({"name": "   ", "value": 1}, "body.name"),
    ],
)
def test_invalid_item_is_422_naming_the_field(
    client: httpx.Client, body: dict[str, object], field: str
) -> None:
    response = client.post("/data/", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]
    assert field in error["message"]
    assert client.get("/data/").json()["items"] == []  # nothing half-written


def test_a_missing_body_and_a_made_up_cursor_are_said_in_the_requests_terms(
    client: httpx.Client,
) -> None:
    # "body: Field required" and the cursor's regex said nothing a client could act on.
    empty = client.post("/data/", content=b"", headers={"Content-Type": "application/json"})
    assert empty.status_code == 422
    assert empty.json()["error"]["details"][0]["problem"] == "the request needs a JSON body"
    made_up = client.get("/data/", params={"cursor": "garbage"})
    assert made_up.status_code == 422
    assert "pass back the `next_cursor`" in made_up.json()["error"]["message"]


def test_a_tag_too_long_is_said_in_characters(client: httpx.Client) -> None:
    # It said "at most 50 items after validation, not 51" of a 51-character tag.
    response = client.post("/data/", json={"name": "ok", "value": 1, "tags": ["x" * 51]})
    assert response.status_code == 422
    assert "at most 50 characters" in response.json()["error"]["message"]


def test_names_in_any_script_with_joiners_and_direction_marks_are_kept(
    client: httpx.Client,
) -> None:
    for name in (
        "café",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\u05e9\u05dc\u05d5\u05dd\u200f",
    ):
        created = client.post("/data/", json={"name": name, "value": 1})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == name


def test_non_finite_value_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/data/",
        content=b'{"name": "x", "value": Infinity}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert client.get("/data/").json()["items"] == []


def test_a_number_too_large_for_a_float_is_said_to_be_too_large(client: httpx.Client) -> None:
    # It was "Input should be a valid number", of a valid number.
    item = client.post("/data/", json={"name": "a", "value": 1}).json()
    huge = b"9" * 400
    created = client.post(
        "/data/",
        content=b'{"name": "x", "value": ' + huge + b"}",
        headers={"content-type": "application/json"},
    )
    patched = client.patch(
        f"/data/{item['id']}",
        content=b'{"value": -' + huge + b"}",
        headers={"content-type": "application/json"},
    )
    for response in (created, patched):
        assert response.status_code == 422, response.text
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == "body.value"
        assert detail["problem"] == "is too large: at most 1.798e+308", detail
    assert [i["id"] for i in client.get("/data/").json()["items"]] == [item["id"]]


def test_empty_patch_is_422(client: httpx.Client) -> None:
    item = client.post("/data/", json={"name": "a", "value": 1}).json()
    response = client.patch(f"/data/{item['id']}", json={})
    assert response.status_code == 422
    assert "at least one" in response.json()["error"]["message"]


def test_a_null_in_a_patch_names_its_field(client: httpx.Client) -> None:
    # It was reported on `body` ("name cannot be null"), not on the field.
    item = client.post("/data/", json={"name": "a", "value": 1}).json()
    response = client.patch(f"/data/{item['id']}", json={"name": None})
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["field"] == "body.name"
    assert detail["problem"].startswith("cannot be null")
    assert client.get(f"/data/{item['id']}").json()["name"] == "a"


def test_list_pages_with_a_cursor_in_creation_order(client: httpx.Client) -> None:
    names = [f"item{i}" for i in range(5)]
    for name in names:  # back to back: several within one millisecond, listed as made
        client.post("/data/", json={"name": name, "value": 1})

    seen, cursor = [], None
    while True:
        params: dict[str, str | int] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/data/", params=params).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names


def test_forged_cursor_is_422(client: httpx.Client) -> None:
    response = client.get("/data/", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "query.cursor"


@pytest.fixture
def capped_url(start_api: StartApi) -> str:
    """Two api processes of their own, whose principals keep at most CAP items each."""
    return start_api(env={"JOBCAST_QUOTA_DATA_ITEMS": str(CAP)}, processes=2)[1]


def create(client: httpx.Client, name: str) -> httpx.Response:
    return client.post("/data/", json={"name": name, "value": 1})


def kept(client: redis.Redis, owner: str) -> tuple[set[str], set[str]]:
    """(ids of the owner's item hashes, ids in the owner's index), read from Redis itself."""
    prefix = data_item_key("")
    items = {
        key.removeprefix(prefix)
        for key in client.scan_iter(match=data_item_key("*"), count=1000)
        if ITEM_ID.fullmatch(key.removeprefix(prefix)) and client.hget(key, "owner") == owner
    }
    return items, {id_of_member(m) for m in client.zrange(data_of_key(owner), 0, -1)}


def test_one_item_past_the_cap_is_409_until_one_is_deleted(
    stack: SharedStack,
    capped_url: str,
    make_principal: MakePrincipal,
    make_key: MakeKey,
    make_client: MakeClient,
) -> None:
    key, owner = make_principal("alice")
    alice = make_client(capped_url, key)
    ids = [create(alice, f"n{i}").json()["id"] for i in range(CAP)]

    over = create(alice, "one more")

    assert over.status_code == 409, over.text
    assert "location" not in over.headers
    error = over.json()["error"]
    assert error["code"] == "too_many_data_items"
    assert error["details"] == {"max_items": CAP}
    assert f"You keep {CAP} data items" in error["message"]
    assert "JOBCAST_QUOTA_DATA_ITEMS" in error["message"]
    assert kept(stack.redis, owner) == (set(ids), set(ids))  # nothing half-written
    bob = make_client(capped_url, make_key("bob"))
    assert create(bob, "his own").status_code == 201  # the cap is per principal

    assert alice.delete(f"/data/{ids[0]}").status_code == 204
    again = create(alice, "in its place")
    assert again.status_code == 201, again.text
    assert create(alice, "past it again").status_code == 409
    now = {*ids[1:], again.json()["id"]}
    assert kept(stack.redis, owner) == (now, now)


def test_creates_racing_on_several_api_processes_never_pass_the_cap(
    stack: SharedStack, capped_url: str, make_principal: MakePrincipal, make_client: MakeClient
) -> None:
    key, owner = make_principal("alice")
    alice = make_client(capped_url, key)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda i: create(alice, f"n{i}"), range(12)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * CAP + [409] * (12 - CAP), [a.text for a in answers]
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert kept(stack.redis, owner) == (created, created)
