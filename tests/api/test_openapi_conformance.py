"""Real answers of the jobs routes conform to the published OpenAPI document.

The api runs in-process (httpx over ASGI, lifespan and all) against a real Redis, and a real
`files` worker process runs the jobs, so profile, aggregate and convert results, the job in each
state, the list and the errors are all real — and each is validated by schemathesis against the
operation that documents it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import httpx
import redis
import schemathesis

from api.app import create_app
from jobcast.settings import Settings
from tests.api.conftest import MakeKey
from tests.conftest import StartWorker
from tests.support.openapi_headers import header_mismatch
from tests.workers.files.support import await_terminal, mixed_frame

PARAMS = [
    {"operation": "profile"},
    {"operation": "aggregate", "group_by": ["fruit"], "metrics": {"price": ["sum", "mean"]}},
    {"operation": "convert", "to": "csv"},
]


class Checked:
    """An httpx client whose every answer is validated against its documented operation."""

    def __init__(self, client: httpx.AsyncClient, spec: dict[str, Any]) -> None:
        self.client, self.spec = client, spec
        self.schema = schemathesis.openapi.from_dict(spec)
        self.seen: set[tuple[str, str, int]] = set()

    async def call(self, method: str, template: str, path: str, **kw: Any) -> httpx.Response:
        request = self.client.build_request(method, path, **kw)
        await request.aread()  # schemathesis reports the request's body with a failure
        response = await self.client.send(request)
        documented = self.spec["paths"][template][method.lower()]["responses"]
        assert str(response.status_code) in documented, f"{method} {path}: {response.text}"
        self.schema[template][method].validate_response(response)  # the body, by its status
        assert not header_mismatch(self.spec, method, template, response)
        self.seen.add((method, template, response.status_code))
        return response


async def exercise(settings: Settings, key: str, table: bytes, waiter: redis.Redis) -> set[Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api.test", headers=headers
        ) as client:
            api = Checked(client, app.openapi())
            ids = [await submit(api, table, params) for params in PARAMS]
            ids.append(await submit_by_the_seeds_path(api, table))
            for job_id in ids:
                await anyio.to_thread.run_sync(await_terminal, waiter, job_id)
                await api.call("GET", "/tasks/{task_id}", f"/tasks/{job_id}")
                await finished_job(api, job_id)
            await errors(api, table)
            await api.call("GET", "/jobs", "/jobs", params={"limit": 2})
    return api.seen


async def submit(api: Checked, table: bytes, params: dict[str, Any]) -> str:
    files = {"file": ("t.csv", table)}
    data = {"params": json.dumps(params)}
    idempotency = {"Idempotency-Key": f"k-{params['operation']}"}
    first = await api.call("POST", "/jobs", "/jobs", files=files, data=data, headers=idempotency)
    assert first.status_code == 202, first.text
    return str(first.json()["id"])


async def submit_by_the_seeds_path(api: Checked, table: bytes) -> str:
    files = {"file": ("t.csv", table)}
    first = await api.call("POST", "/tasks/process-file/", "/tasks/process-file/", files=files)
    assert first.status_code == 202, first.text
    return str(first.json()["id"])


async def finished_job(api: Checked, job_id: str) -> None:
    job = await api.call("GET", "/jobs/{job_id}", f"/jobs/{job_id}")
    assert job.json()["status"] == "succeeded", job.text
    result = await api.call("GET", "/jobs/{job_id}/result", f"/jobs/{job_id}/result")
    assert result.status_code == 200
    if result.json()["operation"] == "convert":
        artifact = await api.call("GET", "/jobs/{job_id}/artifact", f"/jobs/{job_id}/artifact")
        assert artifact.headers["content-type"].startswith("text/csv")
    else:
        missing = await api.call("GET", "/jobs/{job_id}/artifact", f"/jobs/{job_id}/artifact")
        assert missing.json()["error"]["code"] == "no_artifact"
    ended = await api.call("DELETE", "/jobs/{job_id}", f"/jobs/{job_id}")
    assert ended.json()["error"]["code"] == "already_finished"


async def errors(api: Checked, table: bytes) -> None:
    missing = await api.call("GET", "/jobs/{job_id}", "/jobs/j_000000000000000000000000")
    assert missing.status_code == 404
    not_multipart = await api.call("POST", "/jobs", "/jobs", content=b"a,b\n1,2\n")
    assert not_multipart.status_code == 415
    bad_params = {"params": '{"operation": "nope"}'}
    bad = await api.call(
        "POST", "/jobs", "/jobs", files={"file": ("t.csv", b"a\n1\n")}, data=bad_params
    )
    assert bad.json()["error"]["code"] == "invalid_params"
    # A rule across fields (a model validator) once answered 500: its error was not JSON.
    mismatched = {"params": '{"operation": "profile", "to": "csv"}'}
    bad = await api.call(
        "POST", "/jobs", "/jobs", files={"file": ("t.csv", b"a\n1\n")}, data=mismatched
    )
    assert bad.json()["error"]["code"] == "invalid_params"
    queued = await api.call("POST", "/jobs", "/jobs", files={"file": ("t.csv", table)})
    early = await api.call("GET", "/jobs/{job_id}/result", f"/jobs/{queued.json()['id']}/result")
    assert early.status_code in (200, 409)


def test_real_job_answers_conform_to_the_published_schema(
    settings: Settings, start_worker: StartWorker, make_key: MakeKey, redis_client: redis.Redis
) -> None:
    start_worker(queues="files")
    table = mixed_frame(2000).to_csv(index=False).encode()

    seen = asyncio.run(exercise(settings, make_key("alice"), table, redis_client))

    assert ("GET", "/jobs/{job_id}/result", 200) in seen
    assert ("GET", "/jobs/{job_id}/artifact", 200) in seen
    assert ("DELETE", "/jobs/{job_id}", 409) in seen
    assert ("POST", "/jobs", 415) in seen
    assert ("POST", "/tasks/process-file/", 202) in seen
    assert ("GET", "/tasks/{task_id}", 200) in seen
