"""Two principals: every route that takes an id answers 404 to the one who does not own it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from jobcast.settings import Settings
from tests.api.conftest import MakeClient, MakeKey
from tests.conftest import SharedStack, module_stack

Creator = Callable[[httpx.Client], str]
Route = tuple[str, str, dict[str, object] | None]


def _create_data_item(client: httpx.Client) -> str:
    return str(client.post("/data/", json={"name": "secret", "value": 1}).json()["id"])


def _create_job(client: httpx.Client) -> str:
    response = client.post("/jobs", files={"file": ("t.csv", b"a,b\n1,2\n", "text/csv")})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _create_order(client: httpx.Client) -> str:
    body = {"symbol": "SOL-USD", "side": "buy", "type": "limit", "quantity": 1, "price": "1.00"}
    response = client.post("/orders", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


#: resource -> (create one as its owner and return its id, the id-taking requests to try)
ID_ROUTES: dict[str, tuple[Creator, list[Route]]] = {
    "data item": (
        _create_data_item,
        [
            ("GET", "/data/{id}", None),
            ("PATCH", "/data/{id}", {"value": 2}),
            ("DELETE", "/data/{id}", None),
        ],
    ),
    "job": (
        _create_job,
        [
            ("GET", "/jobs/{id}", None),
            ("GET", "/jobs/{id}/result", None),
            ("GET", "/jobs/{id}/artifact", None),
            ("GET", "/tasks/{id}", None),
            ("DELETE", "/jobs/{id}", None),
        ],
    ),
    "order": (_create_order, [("GET", "/orders/{id}", None), ("DELETE", "/orders/{id}", None)]),
}
#: resource -> (list route, the key its page keeps records under)
LIST_ROUTES = {
    "data item": ("/data/", "items"),
    "job": ("/jobs", "items"),
    "order": ("/orders", "items"),
}


def _missing_like(record_id: str) -> str:
    """An id of the same form that names nothing."""
    tail = "1111" if record_id.endswith("0000") else "0000"
    return record_id[:-4] + tail


def owners_view(client: httpx.Client, routes: list[Route], record_id: str) -> list[tuple[int, Any]]:
    """Status and body of every GET route the owner has on the record, and their list page."""
    reads = [t.format(id=record_id) for method, t, _ in routes if method == "GET"]
    listing = next(
        path for path, _ in LIST_ROUTES.values() if reads[0].startswith(path.rstrip("/"))
    )
    return [(r.status_code, r.json()) for r in (client.get(path) for path in [*reads, listing])]


#: One api for the module: each test's two principals are new, so ownership keeps the tests
#: apart as it keeps them apart.
stack = module_stack()


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def two_clients(
    stack: SharedStack, make_key: MakeKey, make_client: MakeClient
) -> tuple[httpx.Client, httpx.Client]:
    return make_client(stack.url, make_key("a")), make_client(stack.url, make_key("b"))


@pytest.mark.parametrize("resource", sorted(ID_ROUTES))
def test_other_principal_gets_404_on_every_id_route(
    two_clients: tuple[httpx.Client, httpx.Client], resource: str
) -> None:
    owner, other = two_clients
    create, routes = ID_ROUTES[resource]
    record_id = create(owner)
    before = owners_view(owner, routes, record_id)
    for method, template, body in routes:
        path = template.format(id=record_id)
        response = other.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        # Indistinguishable from a record that does not exist at all.
        missing = other.request(method, template.format(id=_missing_like(record_id)), json=body)
        assert response.json() == missing.json()
    # And the owner still sees exactly what they saw before the attempts.
    assert owners_view(owner, routes, record_id) == before
    assert before[0][0] == 200


@pytest.mark.parametrize("resource", sorted(LIST_ROUTES))
def test_lists_never_show_another_principals_records(
    two_clients: tuple[httpx.Client, httpx.Client], resource: str
) -> None:
    owner, other = two_clients
    create, _ = ID_ROUTES[resource]
    mine = create(owner)
    theirs = create(other)
    path, key = LIST_ROUTES[resource]
    owner_ids = [r["id"] for r in owner.get(path).json()[key]]
    other_ids = [r["id"] for r in other.get(path).json()[key]]
    assert owner_ids == [mine]
    assert other_ids == [theirs]


def test_an_idempotency_key_is_per_principal(
    two_clients: tuple[httpx.Client, httpx.Client],
) -> None:
    owner, other = two_clients
    key = {"Idempotency-Key": "shared-k1"}
    upload = {"file": ("t.csv", b"a,b\n1,2\n", "text/csv")}
    mine = owner.post("/jobs", files=upload, headers=key)
    theirs_first = owner.post("/jobs", files=upload, headers={"Idempotency-Key": "shared-k2"})
    before = owner.get(f"/jobs/{mine.json()['id']}").json()

    # The same key with the same upload: a job of their own, not the owner's.
    same = other.post("/jobs", files=upload, headers=key)
    # A key the owner used, with another upload: no conflict, the key was never theirs.
    other_upload = {"file": ("u.csv", b"x\n9\n", "text/csv")}
    different = other.post("/jobs", files=other_upload, headers={"Idempotency-Key": "shared-k2"})

    statuses = [r.status_code for r in (mine, theirs_first, same, different)]
    assert statuses == [202] * 4, different.text
    assert same.json()["id"] != mine.json()["id"]
    assert other.get(f"/jobs/{mine.json()['id']}").status_code == 404
    assert owner.get(f"/jobs/{same.json()['id']}").status_code == 404
    # Each key still names its own principal's first job.
    assert other.post("/jobs", files=upload, headers=key).json()["id"] == same.json()["id"]
    assert owner.post("/jobs", files=upload, headers=key).json()["id"] == mine.json()["id"]
    assert owner.get(f"/jobs/{mine.json()['id']}").json() == before
