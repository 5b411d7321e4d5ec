"""The OpenAPI document describes every route truthfully: summaries, typed answers, the error
shape, how to authenticate, and the parts of `POST /jobs` FastAPI cannot see."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.uploads import MAX_FIELD_BYTES
from jobcast.events import EVENT_TYPES
from tests.api.conftest import MakeKey
from tests.conftest import RedisServer, StartApi
from tests.workers.files.support import READ_FORMATS

ERROR_REF = "#/components/schemas/ErrorResponse"
PROBES = {"/healthz", "/readyz"}


# One app and one document for the module: building the document takes about half a CPU-second
# and no test here changes either (the 415 test serves its requests from an api of its own).
@pytest.fixture(scope="module")
def app(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(redis_server.settings_for(tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in spec["paths"].items() for m, op in item.items()]


def test_every_route_has_its_own_summary(spec: dict[str, Any]) -> None:
    ops = operations(spec)
    assert len(ops) >= 24

    for method, path, op in ops:
        # Without one, FastAPI makes the summary from the function name (`Get Job`), which
        # also starts the operation id (`get_job_jobs__job_id__get`).
        from_name = op["summary"].lower().replace(" ", "_")
        assert not op["operationId"].startswith(from_name), f"{method} {path}: {op['summary']}"


def test_every_route_declares_a_typed_success_answer(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            for media, body in response["content"].items():
                schema = body["schema"]
                assert schema not in ({}, {"type": "object", "additionalProperties": True}), (
                    f"{method} {path} {status} {media} is untyped"
                )
                typed = schema.get("items", schema)  # a list of models is typed by its items
                assert "$ref" in typed or "oneOf" in typed or typed.get("format") == "binary", (
                    f"{method} {path} {status} {media}: {schema}"
                )


def test_every_error_answer_has_the_error_shape_and_examples(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith("2"):
                continue
            body = response["content"]["application/json"]
            assert body["schema"] == {"$ref": ERROR_REF}, f"{method} {path} {status}"
            codes = [e["value"]["error"]["code"] for e in body["examples"].values()]
            assert codes, f"{method} {path} {status}"
            assert all(f"`{c}`" in response["description"] for c in codes)


def test_errors_listed_are_the_ones_each_route_gives(spec: dict[str, Any]) -> None:
    def codes(method: str, path: str) -> dict[str, set[str]]:
        responses = spec["paths"][path][method]["responses"]
        return {
            s: set(r["content"]["application/json"]["examples"])
            for s, r in responses.items()
            if not s.startswith("2")
        }

    result = codes("get", "/jobs/{job_id}/result")
    assert result["409"] == {"not_finished", "job_failed", "job_cancelled"}
    assert result["410"] == {"gone"}
    upload = codes("post", "/jobs")
    assert {"400", "413", "415", "422"} <= set(upload)
    assert "idempotency_key_reused" in upload["422"]
    assert "415" not in codes("get", "/jobs/{job_id}")
    assert "422" not in codes("get", "/jobs/{job_id}")  # a path id cannot fail validation
    assert "403" in codes("get", "/admin/keys")
    assert "403" not in codes("get", "/jobs")
    assert "409" in codes("delete", "/orders/{order_id}")


def json_body_routes(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path, in the schema) of every route FastAPI reads a JSON body for."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is not None:
            path = str(context.path_format)
            found += [(m, path, route.include_in_schema) for m in route.methods]
    return found


def test_every_route_reading_a_json_body_documents_and_gives_415(
    app: FastAPI, spec: dict[str, Any], start_api: StartApi, make_key: MakeKey
) -> None:
    routes = json_body_routes(app)
    assert {("POST", "/orders"), ("POST", "/data/"), ("PATCH", "/data/{item_id}")} <= {
        (m, p) for m, p, _ in routes
    }
    _, url = start_api()
    headers = {"Authorization": f"Bearer {make_key()}", "Content-Type": "text/plain"}

    for method, path, documented in routes:
        if documented:
            answer = spec["paths"][path][method.lower()]["responses"].get("415", {})
            examples = answer.get("content", {}).get("application/json", {}).get("examples", {})
            assert set(examples) == {"unsupported_media_type"}, f"{method} {path}"
        # Any id will do: the body is refused before the route looks for the record.
        sent = path.replace("{item_id}", "d_0")
        real = httpx.request(method, url + sent, headers=headers, content=b"x")
        assert real.status_code == 415, f"{method} {path}: {real.text}"
        assert real.json()["error"]["code"] == "unsupported_media_type"


def test_keys_are_documented_as_bearer_and_header_schemes(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["bearer"].items()
    assert schemes["apiKey"]["in"] == "header"
    assert schemes["apiKey"]["name"] == "X-API-Key"
    for method, path, op in operations(spec):
        if path in PROBES:
            assert "security" not in op
        else:
            assert op["security"] == [{"bearer": []}, {"apiKey": []}], f"{method} {path}"
            assert "401" in op["responses"]


def test_job_upload_documents_its_parts_and_the_idempotency_key(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/jobs"]["post"]
    form = op["requestBody"]["content"]["multipart/form-data"]

    assert form["schema"]["required"] == ["file"]
    assert form["schema"]["additionalProperties"] is False  # another part is refused
    assert form["schema"]["properties"]["file"]["format"] == "binary"
    described = form["schema"]["properties"]["file"]["description"]
    assert [f for f in READ_FORMATS if f not in described] == []
    params = form["schema"]["properties"]["params"]
    assert params["$ref"] == "#/components/schemas/JobParams"
    assert params["example"] == {"operation": "profile"}  # what /docs' "Try it out" starts from
    # The cap a larger part is refused by (413 "Field `params` is larger than 64 KiB.").
    assert f"at most {MAX_FIELD_BYTES // 1024} KiB" in params["description"]
    assert form["encoding"]["params"]["contentType"] == "application/json"
    (header,) = [p for p in op["parameters"] if p["in"] == "header"]
    (text,) = [v for v in header["schema"]["anyOf"] if v["type"] == "string"]
    assert header["name"] == "Idempotency-Key"
    assert text["maxLength"] == 200
    assert op["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Job"
    }


def test_the_seeds_paths_are_documented_as_deprecated_aliases(spec: dict[str, Any]) -> None:
    upload = spec["paths"]["/tasks/process-file/"]["post"]
    read = spec["paths"]["/tasks/{task_id}"]["get"]

    assert upload["deprecated"] is read["deprecated"] is True
    assert upload["requestBody"] == spec["paths"]["/jobs"]["post"]["requestBody"]
    assert (
        "upload_required" in upload["responses"]["422"]["content"]["application/json"]["examples"]
    )
    answer = read["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/JobWithResult"}
    assert {"401", "404", "410", "429"} <= set(read["responses"])
    assert {p for p in spec["paths"] if "tasks" in p} == {
        "/tasks/process-file/",
        "/tasks/{task_id}",
    }


def test_description_explains_the_websocket_protocol(spec: dict[str, Any]) -> None:
    text = spec["info"]["description"]

    for needed in ("`/ws`", "POST /ws/ticket", "since", "job.progress", "resync"):
        assert needed in text
    assert [t for t in EVENT_TYPES if f"`{t}`" not in text] == []
    assert {"jobs", "orders", "market", "realtime"} <= {t["name"] for t in spec["tags"]}


def test_models_carry_examples(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    for name in ("Job", "Order", "OrderCreate", "DataCreate", "ErrorDetail"):
        assert schemas[name].get("examples"), name
