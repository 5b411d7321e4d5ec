"""Two principals: every route that takes an id answers 404 to the one who does not own it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import StartApi

#: resource -> (create it as the owner and return its id, the id-taking requests to try)
Creator = Callable[[httpx.Client], str]


def _create_data_item(client: httpx.Client) -> str:
    return str(client.post("/data/", json={"name": "secret", "value": 1}).json()["id"])


ID_ROUTES: dict[str, tuple[Creator, list[tuple[str, str, dict[str, object] | None]]]] = {
    "data item": (
        _create_data_item,
        [
            ("GET", "/data/{id}", None),
            ("PATCH", "/data/{id}", {"value": 2}),
            ("DELETE", "/data/{id}", None),
        ],
    ),
}
LIST_ROUTES = {"data item": "/data/"}


@pytest.fixture
def two_clients(
    start_api: StartApi, make_key: MakeKey, make_client: MakeClient
) -> tuple[httpx.Client, httpx.Client]:
    _, url = start_api()
    return make_client(url, make_key("a")), make_client(url, make_key("b"))


@pytest.mark.parametrize("resource", sorted(ID_ROUTES))
def test_other_principal_gets_404_on_every_id_route(
    two_clients: tuple[httpx.Client, httpx.Client], resource: str
) -> None:
    owner, other = two_clients
    create, routes = ID_ROUTES[resource]
    record_id = create(owner)
    for method, template, body in routes:
        path = template.format(id=record_id)
        response = other.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        # Indistinguishable from a record that does not exist at all.
        missing = other.request(method, template.format(id="0" * 24), json=body)
        assert response.json() == missing.json()
    # And the owner still has it, unchanged by the attempts.
    assert owner.get(routes[0][1].format(id=record_id)).status_code == 200


@pytest.mark.parametrize("resource", sorted(LIST_ROUTES))
def test_lists_never_show_another_principals_records(
    two_clients: tuple[httpx.Client, httpx.Client], resource: str
) -> None:
    owner, other = two_clients
    create, _ = ID_ROUTES[resource]
    mine = create(owner)
    theirs = create(other)
    owner_ids = [r["id"] for r in owner.get(LIST_ROUTES[resource]).json()["items"]]
    other_ids = [r["id"] for r in other.get(LIST_ROUTES[resource]).json()["items"]]
    assert owner_ids == [mine]
    assert other_ids == [theirs]
