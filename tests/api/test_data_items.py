"""The seed's `/data/` API, for real: owned, validated, paginated, atomic."""

from __future__ import annotations

import httpx
import pytest

from jobcast.settings import Settings
from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import SharedStack, module_stack

#: One api for the module; each test's own principal keeps its items apart.
stack = module_stack()


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


def test_non_finite_value_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/data/",
        content=b'{"name": "x", "value": Infinity}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert client.get("/data/").json()["items"] == []


def test_empty_patch_is_422(client: httpx.Client) -> None:
    item = client.post("/data/", json={"name": "a", "value": 1}).json()
    response = client.patch(f"/data/{item['id']}", json={})
    assert response.status_code == 422
    assert "at least one" in response.json()["error"]["message"]


def test_list_pages_with_a_cursor_in_creation_order(client: httpx.Client) -> None:
    names = [f"item{i}" for i in range(5)]
    for name in names:
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
