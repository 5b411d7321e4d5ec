"""Rate limits are kept in Redis and hold across api processes."""

from __future__ import annotations

import itertools

import httpx

from jobcast.settings import Settings
from tests.api.conftest import MakeClient, MakeKey
from tests.api.inprocess import run_in_process
from tests.conftest import StartApi

TIGHT = {"JOBCAST_RATE_SUBMIT_PER_MINUTE": "6", "JOBCAST_RATE_SUBMIT_BURST": "5"}
TIGHT_ANON = {"JOBCAST_RATE_ANONYMOUS_PER_MINUTE": "6", "JOBCAST_RATE_ANONYMOUS_BURST": "5"}


def test_submit_budget_holds_in_aggregate_across_two_api_processes(
    start_api: StartApi, make_key: MakeKey, make_client: MakeClient
) -> None:
    key = make_key()
    a = make_client(start_api(env=TIGHT)[1], key)
    b = make_client(start_api(env=TIGHT)[1], key)

    statuses = [
        client.post("/data/", json={"name": "x", "value": 1}).status_code
        for client in itertools.islice(itertools.cycle([a, b]), 12)
    ]

    assert statuses.count(201) == 5  # the burst, shared: not 5 per process
    assert statuses[5:].count(429) == 7
    limited = a.post("/data/", json={"name": "x", "value": 1})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert limited.json()["error"]["code"] == "rate_limited"


def test_reads_have_their_own_budget(
    start_api: StartApi, make_key: MakeKey, make_client: MakeClient
) -> None:
    client = make_client(start_api(env=TIGHT)[1], make_key())
    for _ in range(5):
        client.post("/data/", json={"name": "x", "value": 1})
    assert client.post("/data/", json={"name": "x", "value": 1}).status_code == 429
    ok = client.get("/data/")
    assert ok.status_code == 200
    assert int(ok.headers["RateLimit-Remaining"]) > 0


#: A key that is not one: what the per-address budget limits (a guess at a key).
GUESS = {"X-API-Key": "jc_guess_guess"}


def test_rotating_forwarded_for_from_untrusted_peer_does_not_escape_the_limit(
    start_api: StartApi,
) -> None:
    _, url = start_api(env=TIGHT_ANON)
    statuses = [
        httpx.get(f"{url}/data/", headers={**GUESS, "X-Forwarded-For": f"203.0.113.{i}"})
        for i in range(10)
    ]
    assert [s.status_code for s in statuses[:5]] == [401] * 5
    assert [s.status_code for s in statuses[5:]] == [429] * 5


def test_forwarded_for_counts_when_the_peer_is_a_trusted_proxy(start_api: StartApi) -> None:
    _, url = start_api(env={**TIGHT_ANON, "JOBCAST_TRUSTED_PROXIES": '["127.0.0.1"]'})
    statuses = [
        httpx.get(f"{url}/data/", headers={**GUESS, "X-Forwarded-For": f"203.0.113.{i}"})
        for i in range(10)
    ]
    assert [s.status_code for s in statuses] == [401] * 10  # ten clients, one request each


def test_a_request_with_no_key_is_told_so_however_many_its_address_sent(
    start_api: StartApi,
) -> None:
    _, url = start_api(env=TIGHT_ANON)
    keyless = [httpx.get(f"{url}/me") for _ in range(8)]  # past the address's burst of 5
    guessed = [httpx.get(f"{url}/me", headers=GUESS) for _ in range(6)]

    for answer in keyless:
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "unauthenticated"
        assert "send `Authorization: Bearer <key>`" in answer.json()["error"]["message"]
        assert answer.headers["WWW-Authenticate"] == "Bearer"
    # It cost nothing (no key is looked up): a guessed key still has the whole budget, and
    # is limited by it.
    assert [g.status_code for g in guessed] == [401] * 5 + [429]
    assert httpx.get(f"{url}/me").status_code == 401


def test_job_reads_spend_the_read_budget_and_a_malformed_id_spends_too(
    settings: Settings, make_key: MakeKey
) -> None:
    """`GET /jobs/{id}` spends and reads in one round trip: the same budget, headers and 429."""
    tight = settings.replace(rate_read_per_minute=1, rate_read_burst=3)
    headers = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        files = {"file": ("t.csv", b"a,b\n1,2\n")}
        job = (await client.post("/jobs", files=files, headers=headers)).json()["id"]
        remaining = []
        for _ in range(2):
            answer = await client.get(f"/jobs/{job}", headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["id"] == job
            remaining.append(answer.headers["RateLimit-Remaining"])
        assert remaining == ["2", "1"]
        malformed = await client.get("/jobs/j_nope", headers=headers)
        assert malformed.status_code == 404  # the last of the burst, spent
        assert malformed.headers["RateLimit-Remaining"] == "0"  # and said so
        limited = await client.get(f"/jobs/{job}", headers=headers)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
        assert (await client.get("/jobs/j_nope", headers=headers)).status_code == 429

    run_in_process(tight, scenario)


def test_an_answer_that_failed_after_spending_or_had_no_body_still_carries_the_budget(
    settings: Settings, make_key: MakeKey
) -> None:
    """A 404, a 422 or a 204 cost the caller a request: its RateLimit headers say what is left."""
    headers = {"Authorization": f"Bearer {make_key()}"}

    async def scenario(client: httpx.AsyncClient) -> None:
        answers = [
            await client.get("/jobs/j_000000000000000000000000", headers=headers),
            await client.get("/data/d_nope", headers=headers),
            await client.get("/data/", params={"limit": 0}, headers=headers),
            await client.post("/data/", json={"name": ""}, headers=headers),
        ]
        assert [a.status_code for a in answers] == [404, 404, 422, 422]
        # An answer with no body costs as much, and says so too.
        item = await client.post("/data/", json={"name": "a", "value": 1}, headers=headers)
        deleted = await client.delete(f"/data/{item.json()['id']}", headers=headers)
        assert deleted.status_code == 204
        answers.append(deleted)
        reads = [int(a.headers["RateLimit-Remaining"]) for a in answers[:3]]
        assert reads == sorted(reads, reverse=True)
        assert reads[0] > reads[2]
        assert all("RateLimit-Limit" in a.headers for a in answers), [a.headers for a in answers]

    run_in_process(settings, scenario)


def test_uploads_refused_for_their_body_spend_and_a_spent_budget_answers_429_first(
    settings: Settings, make_key: MakeKey
) -> None:
    """A submit spends with its upload's first quota reservation; one refused before that (its
    body, its headers) spends all the same, and once the budget is spent every upload gets 429,
    whatever else is wrong with it."""
    headers = {"Authorization": f"Bearer {make_key()}"}
    tight = settings.replace(rate_submit_per_minute=6, rate_submit_burst=3)
    table = {"file": ("t.csv", b"a,b\n1,2\n")}

    async def scenario(client: httpx.AsyncClient) -> None:
        refused = [
            await client.post("/jobs", json={"file_path": "/etc"}, headers=headers),
            await client.post("/jobs", files=table, headers={**headers, "Idempotency-Key": ""}),
            await client.post("/jobs", files={"params": (None, "{}")}, headers=headers),
        ]
        assert [a.status_code for a in refused] == [415, 422, 422]
        remaining = [int(a.headers["RateLimit-Remaining"]) for a in refused]
        assert remaining == [2, 1, 0]
        for answer in (
            await client.post("/jobs", files=table, headers=headers),
            await client.post("/jobs", json={"file_path": "/etc"}, headers=headers),
        ):
            assert answer.status_code == 429, answer.text
            assert answer.json()["error"]["code"] == "rate_limited"

    run_in_process(tight, scenario)
