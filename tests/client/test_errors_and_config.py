"""Pure rules: which exception an error answer becomes, and where the client's settings come
from (arguments, then the environment, then the file `jobcast login` writes)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobcast.client import errors
from jobcast.client.config import resolve, save


def test_an_error_answer_becomes_its_family_with_code_details_and_request_id() -> None:
    body = {
        "error": {"code": "price_off_tick", "message": "Use the tick.", "details": {"rule": "x"}}
    }
    exc = errors.from_response(422, body, "req-1")
    assert isinstance(exc, errors.InvalidRequestError)
    assert (exc.code, exc.message, exc.details, exc.status, exc.request_id) == (
        "price_off_tick",
        "Use the tick.",
        {"rule": "x"},
        422,
        "req-1",
    )
    assert isinstance(errors.from_response(410, body, None), errors.GoneError)
    assert isinstance(errors.from_response(502, "Bad Gateway", None), errors.ServerError)


def test_a_500_names_the_request_id_from_its_details() -> None:
    body = {"error": {"code": "internal_error", "message": "m", "details": {"request_id": "r9"}}}
    exc = errors.from_response(500, body, None)
    assert isinstance(exc, errors.ServerError)
    assert exc.request_id == "r9"


def test_websocket_errors_map_to_the_same_families() -> None:
    assert isinstance(errors.from_ws_error({"code": "invalid_key"}), errors.AuthenticationError)
    assert isinstance(errors.from_ws_error({"code": "not_found"}), errors.NotFoundError)
    assert type(errors.from_ws_error({"code": "bad_channel"})) is errors.StreamError


def test_login_file_is_0600_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "jobcast" / "config.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)  # an older, looser file is tightened too
    monkeypatch.setenv("JOBCAST_CONFIG", str(path))
    monkeypatch.delenv("JOBCAST_URL", raising=False)
    monkeypatch.delenv("JOBCAST_API_KEY", raising=False)
    save("http://saved:8000", "jc_saved")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert resolve() == resolve("http://saved:8000", "jc_saved")
    monkeypatch.setenv("JOBCAST_API_KEY", "jc_env")
    assert resolve().api_key == "jc_env"
    assert resolve().base_url == "http://saved:8000"
    assert resolve(api_key="jc_arg").api_key == "jc_arg"
