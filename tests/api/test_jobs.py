"""The jobs API on a real uvicorn process.

Uploads, caps, idempotency, ownership, listing, expiry.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from api.job_store import new_job_id
from api.routes.jobs import CURSOR_PATTERN
from jobcast import rediskeys
from jobcast.events import commit
from jobcast.jobs.params import JobParams
from jobcast.jobs.records import SUCCEEDED
from jobcast.rediskeys import job_key
from jobcast.settings import Settings
from tests.conftest import SharedStack, module_stack, new_principal
from tests.support.processes import wait_for
from tests.workers.files.support import SMALL_BATCHES, JobsClient
from workers.files.runner import Hooks, run_job
from workers.files.state import JobState

CAP = 100_000


#: One api for the module; each test's principals keep its jobs apart from the others'.
stack = module_stack(api_env={"JOBCAST_UPLOAD_MAX_BYTES": str(CAP)})


@pytest.fixture
def settings(stack: SharedStack) -> Settings:
    return stack.settings


@pytest.fixture
def api_url(stack: SharedStack) -> str:
    return stack.url


def client_for(url: str, redis_client: redis.Redis, settings: Settings, name: str) -> JobsClient:
    key, _ = new_principal(redis_client, settings, name)
    return JobsClient(url, key)


@pytest.fixture
def alice(api_url: str, redis_client: redis.Redis, settings: Settings) -> Iterator[JobsClient]:
    client = client_for(api_url, redis_client, settings, "alice")
    yield client
    client.http.close()


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,x\n2,y\n")
    return path


def stored_files(settings: Settings) -> set[Path]:
    uploads = settings.data_dir / "uploads"
    return set(uploads.iterdir()) if uploads.exists() else set()


def test_submit_answers_202_with_the_queued_job_and_its_location(
    alice: JobsClient, table: Path
) -> None:
    response = alice.submit(table)

    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/jobs/{job['id']}"
    assert job["status"] == "queued"
    assert job["operation"] == "profile"
    assert job["size"] == table.stat().st_size
    assert "stored" not in job
    assert "owner" not in job


def test_only_a_convert_job_links_to_an_artifact(alice: JobsClient, table: Path) -> None:
    aggregate = '{"operation": "aggregate", "group_by": ["b"], "metrics": {"a": ["sum"]}}'
    ids = {
        "profile": alice.submit_ok(table),
        "aggregate": alice.submit_ok(table, aggregate),
        "convert": alice.submit_ok(table, '{"operation": "convert", "to": "parquet"}'),
    }

    artifacts = {op: alice.job(job_id)["links"]["artifact"] for op, job_id in ids.items()}
    listed = alice.http.get("/jobs").json()["items"]

    assert artifacts == {
        "profile": None,
        "aggregate": None,
        "convert": f"/jobs/{ids['convert']}/artifact",
    }
    assert {j["operation"]: j["links"]["artifact"] for j in listed} == artifacts


@pytest.mark.parametrize(
    "size", [CAP + 1, CAP * 3], ids=["just-over-streamed", "far-over-declared"]
)
def test_upload_over_the_cap_is_413_and_leaves_nothing_on_disk(
    alice: JobsClient, settings: Settings, tmp_path: Path, size: int
) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"a\n" + b"1\n" * (size // 2))
    before = stored_files(settings)

    response = alice.submit(big)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert stored_files(settings) == before


def test_a_client_gone_mid_upload_is_no_server_error_and_leaves_nothing(
    stack: SharedStack, redis_client: redis.Redis, settings: Settings
) -> None:
    key, _ = new_principal(redis_client, settings, "leaver")
    before = stored_files(settings)
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\na\n1\n'
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(
            b"POST /jobs HTTP/1.1\r\nHost: api\r\n"
            + f"Authorization: Bearer {key}\r\n".encode()
            + b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
            + part
        )
        time.sleep(0.2)  # the api is reading the body when the client goes

    assert stack.api is not None
    api = stack.api
    wait_for(lambda: "POST /jobs 400" in api.output(), 10, "the refusal in the access log", api)
    assert "ClientDisconnect" not in stack.api.output()
    assert stored_files(settings) == before


def test_a_boundary_past_rfc_2046s_length_is_400_naming_it(alice: JobsClient) -> None:
    answer = alice.http.post(
        "/jobs",
        content=b"--x",
        headers={"Content-Type": "multipart/form-data; boundary=" + "b" * 2000},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"].startswith("The multipart boundary is 2000 characters")


def test_a_file_name_keeps_no_terminal_escapes_or_bidi_overrides(alice: JobsClient) -> None:
    # `jobcast jobs ls` printed them raw: an escape sequence retitled the reader's terminal.
    name = "x\x1b]0;pwned\x1b[31mred\u202egpj.csv"
    job = alice.http.post("/jobs", files={"file": (name, b"a\n1\n")})
    assert job.status_code == 202, job.text
    assert job.json()["filename"] == "x]0;pwned[31mredgpj.csv"


def test_server_file_path_is_refused_with_a_hint_to_upload(alice: JobsClient, table: Path) -> None:
    as_query = alice.http.post("/tasks/process-file/", params={"file_path": "/etc/passwd"})
    as_json = alice.http.post("/tasks/process-file/", json={"file_path": "/etc/passwd"})
    with table.open("rb") as f:
        as_field = alice.http.post("/jobs", files={"file": f}, data={"file_path": "/etc/passwd"})
    # The seed's form, without a file at all: the path is what to answer about.
    as_only_field = alice.http.post("/jobs", files={"file_path": (None, "/etc/passwd")})

    for response in (as_query, as_json, as_field, as_only_field):
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "upload_required"
        assert "upload" in error["message"]


def test_a_json_body_sent_to_post_jobs_is_told_to_send_multipart(alice: JobsClient) -> None:
    # It was told "Server paths are not accepted", a path it never named.
    answer = alice.http.post("/jobs", json={"operation": "profile"})
    assert answer.status_code == 415, answer.text
    error = answer.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert "multipart/form-data with a part named `file`" in error["message"]


def test_empty_upload_and_invalid_params_are_422(
    alice: JobsClient, tmp_path: Path, table: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")

    assert alice.submit(empty).json()["error"]["code"] == "empty_file"
    bad = alice.submit(table, params=json.dumps({"operation": "explode"}))
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid_params"
    not_json = alice.submit(table, params="{")
    assert not_json.json()["error"]["code"] == "invalid_params"


@pytest.mark.parametrize(
    ("params", "field", "problem"),
    [
        ({"operation": "explode"}, "params.operation", "Input should be 'profile'"),
        ({"operation": "aggregate"}, "params", "aggregate needs `group_by`"),
        ({"operation": "convert", "to": "xlsx"}, "params.to", "Input should be 'parquet'"),
        (
            {"operation": "aggregate", "metrics": {"amount": ["median"]}},
            "params.metrics.amount.0",
            "Input should be 'count'",
        ),
        ({"group_by": ["a"]}, "params", "`group_by` and `metrics` only apply to aggregate"),
        ({"header": "no"}, "params.header", "write true or false (a JSON boolean)"),
        ({"sheet": -1}, "params.sheet", "a sheet index counts from 0 (the first sheet)"),
        ("{", "params", "not valid JSON"),
        ("[]", "params", "should be a JSON object"),  # not "... or instance of JobParams"
        ("[" * 30_000 + "]" * 30_000, "params", "nested too deeply"),
    ],
)
def test_invalid_params_name_the_field_and_the_problem_in_the_documented_shape(
    alice: JobsClient, table: Path, params: dict[str, object] | str, field: str, problem: str
) -> None:
    response = alice.submit(table, params=params if isinstance(params, str) else json.dumps(params))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_params"
    assert error["message"].startswith(f"Invalid request: {field}: {problem}")
    assert "\n" not in error["message"]
    assert "pydantic" not in response.text
    assert "input" not in response.text
    [detail] = error["details"]
    assert detail.keys() == {"field", "problem", "type"}
    assert detail["field"] == field
    assert detail["problem"].startswith(problem)


def test_same_idempotency_key_returns_the_same_job_and_a_different_body_is_422(
    alice: JobsClient, table: Path, tmp_path: Path, settings: Settings
) -> None:
    before = stored_files(settings)
    first = alice.submit(table, **{"Idempotency-Key": "k1"})
    again = alice.submit(table, **{"Idempotency-Key": "k1"})
    other = tmp_path / "other.csv"
    other.write_text("a\n9\n")
    conflict = alice.submit(other, **{"Idempotency-Key": "k1"})

    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert conflict.status_code == 422
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert len(stored_files(settings) - before) == 1


@pytest.mark.parametrize("key", ["", "k" * 201], ids=["empty", "201 characters"])
def test_an_idempotency_key_outside_1_to_200_characters_is_refused_saying_so(
    alice: JobsClient, table: Path, key: str
) -> None:
    # An empty key was taken as none: a retry the caller meant to be safe made a second job.
    response = alice.submit(table, **{"Idempotency-Key": key})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    said = "header.Idempotency-Key: must be 1-200 characters (or leave the header out)"
    assert error["message"] == f"Invalid request: {said}"
    assert [d["field"] for d in error["details"]] == ["header.Idempotency-Key"]
    assert list(alice.http.get("/jobs").json()["items"]) == []


def test_another_principals_job_is_404_and_an_expired_one_410(
    alice: JobsClient, api_url: str, table: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    job_id = alice.submit_ok(table)
    bob = client_for(api_url, redis_client, settings, "bob")

    assert bob.http.get(f"/jobs/{job_id}").status_code == 404
    assert bob.http.delete(f"/jobs/{job_id}").status_code == 404
    assert alice.http.get("/jobs/j_unknown").status_code == 404

    redis_client.delete(job_key(job_id))  # what the retention TTL does
    gone = alice.http.get(f"/jobs/{job_id}")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "gone"
    assert bob.http.get(f"/jobs/{job_id}").status_code == 404


def test_listing_pages_through_my_jobs_newest_first_and_filters_by_status(
    alice: JobsClient, api_url: str, table: Path, redis_client: redis.Redis, settings: Settings
) -> None:
    ids = [alice.submit_ok(table) for _ in range(5)]
    client_for(api_url, redis_client, settings, "bob").submit_ok(table)
    alice.http.delete(f"/jobs/{ids[1]}")

    seen, cursor = [], None
    while True:
        page = alice.http.get(
            "/jobs", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [j["id"] for j in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    cancelled = alice.http.get("/jobs", params={"status": "cancelled"}).json()["items"]

    assert seen == ids[::-1]
    assert [j["id"] for j in cancelled] == [ids[1]]
    assert cancelled == [alice.http.get(f"/jobs/{ids[1]}").json()]  # the same view, whole
    assert alice.http.get("/jobs", params={"status": "nope"}).status_code == 422


def test_a_cursor_pages_on_after_its_job_is_gone(
    alice: JobsClient, table: Path, redis_client: redis.Redis
) -> None:
    ids = [alice.submit_ok(table) for _ in range(3)]
    first = alice.http.get("/jobs", params={"limit": 1}).json()
    # The page's last job expires (retention) before the client asks for the next page, and
    # another listing (another tab, say) forgets it from the index meanwhile.
    redis_client.delete(job_key(ids[2]))
    assert alice.http.get("/jobs", params={"limit": 1}).json()["items"][0]["id"] == ids[1]

    rest = alice.http.get("/jobs", params={"cursor": first["next_cursor"]})

    assert rest.status_code == 200, rest.text
    assert [j["id"] for j in rest.json()["items"]] == [ids[1], ids[0]]


def test_a_filtered_page_that_ends_on_expired_entries_gives_a_cursor_that_works(
    alice: JobsClient, table: Path, redis_client: redis.Redis
) -> None:
    [older, newer] = [alice.submit_ok(table) for _ in range(2)]
    assert alice.http.delete(f"/jobs/{older}").json()["status"] == "cancelled"
    owner = str(redis_client.hget(job_key(older), "owner"))
    index = rediskeys.jobs_of_key(owner)
    # More index entries than one filtered request examines (2,000), whose records expired,
    # between the two jobs: the walk forgets them, and its page ends on one of them.
    scores = [float(redis_client.zscore(index, job) or 0) for job in (older, newer)]
    between = sum(scores) / 2
    redis_client.zadd(index, {f"j_{n:024x}": between for n in range(2100)})

    first = alice.http.get("/jobs", params={"status": "cancelled"}).json()
    assert first["items"] == []
    second = alice.http.get("/jobs", params={"status": "cancelled", "cursor": first["next_cursor"]})

    assert second.status_code == 200, second.text
    assert [j["id"] for j in second.json()["items"]] == [older]


def test_a_queued_job_waits_until_cancelled(
    alice: JobsClient, table: Path, redis_client: redis.Redis
) -> None:
    job_id = alice.submit_ok(table)
    owner = str(redis_client.hget(job_key(job_id), "owner"))
    waiting = rediskeys.files_waiting_key(owner)
    assert redis_client.zscore(waiting, job_id) is not None
    assert redis_client.zscore(rediskeys.WAITING_OWNERS_KEY, owner) is not None

    assert alice.http.delete(f"/jobs/{job_id}").json()["status"] == "cancelled"

    # Its only waiting job gone, the principal waits no more: others' caps stop deferring.
    assert redis_client.zscore(waiting, job_id) is None
    assert redis_client.zscore(rediskeys.WAITING_OWNERS_KEY, owner) is None


def test_seed_routes_are_aliases(alice: JobsClient, table: Path) -> None:
    with table.open("rb") as f:
        created = alice.http.post("/tasks/process-file/", files={"file": f})
    job_id = created.json()["id"]

    fetched = alice.http.get(f"/tasks/{job_id}")

    assert created.status_code == 202
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "queued"
    assert fetched.json()["result"] is None


def test_result_of_an_unfinished_job_is_409_and_no_key_is_401(
    alice: JobsClient, api_url: str, table: Path
) -> None:
    job_id = alice.submit_ok(table)

    assert alice.http.get(f"/jobs/{job_id}/result").json()["error"]["code"] == "not_finished"
    assert httpx.get(f"{api_url}/jobs/{job_id}").status_code == 401


def test_malformed_multipart_is_400_and_non_multipart_is_415(
    alice: JobsClient, settings: Settings
) -> None:
    before = stored_files(settings)
    broken = alice.http.post(
        "/jobs",
        content=b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--nope',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    plain = alice.http.post("/jobs", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})

    params = '{"operation": "profile"}'
    twice = alice.http.post(
        "/jobs",
        files=[
            ("file", ("t.csv", b"a\n1\n")),
            ("params", (None, params)),
            ("params", (None, "{}")),
        ],
    )

    assert broken.status_code == 400
    assert twice.status_code == 422
    assert twice.json()["error"]["message"] == "Send exactly one `params` part."
    assert plain.status_code == 415
    assert plain.json()["error"]["code"] == "unsupported_media_type"
    # Multipart without its boundary was told to send multipart (415), as if it had not.
    unbounded = alice.http.post(
        "/jobs", content=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}
    )
    assert unbounded.status_code == 400
    assert "names no boundary" in unbounded.json()["error"]["message"]
    # A form field past its cap names the cap.
    huge = alice.http.post(
        "/jobs",
        files=[("params", (None, "x" * (65 * 1024))), ("file", ("t.csv", b"a\n1\n"))],
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["message"] == "Field `params` is larger than 64 KiB."
    assert stored_files(settings) == before


def test_a_page_cursor_is_a_job_id_with_its_score_or_alone() -> None:
    job_id = new_job_id()
    for cursor in (job_id, f"1700000000123:{job_id}", f"1700000000123.25:{job_id}"):
        assert re.fullmatch(CURSOR_PATTERN, cursor), cursor
    for cursor in (f"{job_id}0", job_id.upper(), f"x:{job_id}", "o_" + job_id[2:], f"1:{job_id}:"):
        assert not re.fullmatch(CURSOR_PATTERN, cursor), cursor


def test_a_stored_result_with_a_column_type_unknown_here_is_served(
    alice: JobsClient, table: Path, redis_client: redis.Redis, settings: Settings, tmp_path: Path
) -> None:
    # As a newer worker left it (the api was then downgraded): a type this api does not know.
    job_id = alice.submit_ok(table)
    result = run_job(table, JobParams(), SMALL_BATCHES, Hooks(), tmp_path / "out")
    result.update(duration_seconds=0.5, cpu_seconds=0.25, peak_rss_bytes=300 << 20)
    result["profile"][0]["type"] = "quarter"
    loaded = JobState.load(redis_client, job_id, settings.job_retention)
    assert loaded is not None
    state, _ = loaded
    assert state.start(attempt=1, size=table.stat().st_size).committed
    assert commit(state.client, state.outcome(SUCCEEDED, result=result)).committed

    answer = alice.http.get(f"/jobs/{job_id}/result")
    inline = alice.http.get(f"/tasks/{job_id}")

    assert answer.status_code == 200, answer.text
    assert answer.json()["profile"][0]["type"] == "quarter"
    assert inline.status_code == 200, inline.text
    assert inline.json()["result"]["profile"][0]["type"] == "quarter"
