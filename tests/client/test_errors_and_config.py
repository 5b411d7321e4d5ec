"""Pure rules: which exception an error answer becomes, and where the client's settings come
from (arguments, then the environment, then the file `jobcast login` writes, then where a local
`jobcast up` serves its api)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobcast.cli import cli
from jobcast.client import Client, errors
from jobcast.client.config import ClientConfig, read_saved, resolve, save
from jobcast.client.retry import RetryPolicy
from jobcast.settings import Settings
from tests.client.conftest import ClientStack
from tests.support.http_stub import HttpStub
from tests.support.processes import REPO_ROOT


def alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No saved login and no running stack: what this process would find is only what the
    test sets (a developer's own login or `jobcast up` from the checkout is not seen)."""
    monkeypatch.setenv("JOBCAST_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.setenv("JOBCAST_DATA_DIR", str(tmp_path))


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


def test_a_408_is_an_upload_stalled_only_when_the_server_says_so() -> None:
    # The api's body deadline answers 408 `request_timeout` on any route (an order, a data
    # item): it was raised as UploadStalledError, an upload that never was.
    stalled = {"error": {"code": "upload_stalled", "message": "m", "details": None}}
    slow = {"error": {"code": "request_timeout", "message": "m", "details": None}}
    assert type(errors.from_response(408, stalled, None)) is errors.UploadStalledError
    assert type(errors.from_response(408, slow, None)) is errors.UnavailableError


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
    # No stack running from here: a key set apart from the login would go to it.
    monkeypatch.setenv("JOBCAST_DATA_DIR", str(tmp_path / "no-stack"))
    monkeypatch.delenv("JOBCAST_URL", raising=False)
    monkeypatch.delenv("JOBCAST_API_KEY", raising=False)
    save("http://saved:8000", "jc_saved")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert resolve() == resolve("http://saved:8000", "jc_saved")
    monkeypatch.setenv("JOBCAST_API_KEY", "jc_env")
    assert resolve().api_key == "jc_env"
    assert resolve().base_url == "http://saved:8000"
    assert resolve(api_key="jc_arg").api_key == "jc_arg"


@pytest.mark.parametrize(
    ("bind_host", "reached_at"),
    [
        (None, "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "127.0.0.1"),
        ("10.1.2.3", "10.1.2.3"),
        ("::1", "[::1]"),
    ],
)
def test_with_no_address_given_the_client_goes_where_jobcast_up_serves_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bind_host: str | None, reached_at: str
) -> None:
    # It went to :8000 whatever port `make run` had the api listen on.
    alone(tmp_path, monkeypatch)
    monkeypatch.delenv("JOBCAST_URL", raising=False)
    monkeypatch.setenv("JOBCAST_API_PORT", "8100")
    if bind_host is None:
        monkeypatch.delenv("JOBCAST_API_HOST", raising=False)
    else:
        monkeypatch.setenv("JOBCAST_API_HOST", bind_host)
    assert resolve().base_url == f"http://{reached_at}:8100"
    # An address given, set or saved still wins, in that order.
    save("http://saved:8000", "jc_saved")
    assert resolve().base_url == "http://saved:8000"
    monkeypatch.setenv("JOBCAST_URL", "http://env:7000")
    assert resolve().base_url == "http://env:7000"
    assert resolve("http://given:9000").base_url == "http://given:9000"


def test_a_saved_login_is_a_pair_and_another_key_goes_to_the_stack_running_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key from the environment went to the address of a login saved with another key.
    alone(tmp_path, monkeypatch)
    monkeypatch.delenv("JOBCAST_URL", raising=False)
    monkeypatch.delenv("JOBCAST_API_KEY", raising=False)
    save("http://saved:8000", "jc_saved")
    (tmp_path / "api.url").write_text("http://127.0.0.1:8200")
    assert resolve().base_url == "http://saved:8000"
    assert resolve().pairing is None
    monkeypatch.setenv("JOBCAST_API_KEY", "jc_saved")  # the saved key, set: still the pair
    assert resolve().base_url == "http://saved:8000"
    monkeypatch.setenv("JOBCAST_API_KEY", "jc_env")
    assert (resolve().base_url, resolve().url_from) == (
        "http://127.0.0.1:8200",
        f"the stack running from {Path.cwd()}: {tmp_path / 'api.url'}",
    )
    assert resolve().pairing is None
    (tmp_path / "api.url").unlink()  # no stack here: the saved address, said to be a mix
    assert resolve().base_url == "http://saved:8000"
    assert (resolve().pairing or "").startswith("the key came from JOBCAST_API_KEY, the address")


def test_the_local_api_address_defaults_as_the_launchers_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone(tmp_path, monkeypatch)
    for name in ("JOBCAST_URL", "JOBCAST_API_HOST", "JOBCAST_API_PORT"):
        monkeypatch.delenv(name, raising=False)
    fields = Settings.model_fields
    assert resolve().base_url == (
        f"http://{fields['api_host'].default}:{fields['api_port'].default}"
    )


def test_a_local_api_port_that_is_not_one_is_refused_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone(tmp_path, monkeypatch)
    monkeypatch.delenv("JOBCAST_URL", raising=False)
    monkeypatch.setenv("JOBCAST_API_PORT", "80OO")
    with pytest.raises(errors.ConfigError, match="JOBCAST_API_PORT") as refused:
        resolve()
    assert refused.value.code == "bad_url"


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "not-a-url", "ftp://host", "http://"])
def test_an_address_that_is_not_an_http_url_is_refused_naming_where_it_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    alone(tmp_path, monkeypatch)
    monkeypatch.setenv("JOBCAST_URL", url)
    with pytest.raises(errors.ConfigError) as refused:
        resolve()
    assert refused.value.message == (
        f"JOBCAST_URL is {url!r}: give the API's address, like http://127.0.0.1:8000."
    )
    with pytest.raises(errors.ConfigError, match=r"^bad_url: base_url is"):
        resolve(url)


def test_an_answer_that_is_not_the_apis_says_so_instead_of_quoting_the_page() -> None:
    page = "<!doctype html><html><body>Flower</body></html>"
    error = errors.from_response(404, page, None)
    assert error.code == "http_404"
    assert error.message == (
        "HTTP 404, not an answer of the Jobcast API: is the URL the API's address?"
    )


def test_without_a_key_nothing_is_sent_and_the_error_says_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads went out anyway: against a live api a 401 that did not name `jobcast login`, and
    # with nothing listening "unreachable" (exit 5) instead of "no key" (exit 4).
    alone(tmp_path, monkeypatch)
    monkeypatch.delenv("JOBCAST_API_KEY", raising=False)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with Client(url) as client, pytest.raises(errors.AuthenticationError) as refused:
        next(iter(client.jobs()))
    assert "jobcast login" in refused.value.message
    # README's Python section quotes it as a traceback ends with it, for a reader who ran the
    # example in the quick start's terminal, whose KEY is not exported.
    assert f"``AuthenticationError: {refused.value}``" in (REPO_ROOT / "README.md").read_text()
    listed = CliRunner().invoke(cli, ["jobs", "ls"], env={"JOBCAST_URL": url})
    assert listed.exit_code == 4, listed.output
    assert "No API key" in listed.stderr


def test_the_address_a_running_jobcast_up_left_wins_over_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `jobcast up --api-port 8200` (or a .env file) is not in this process's environment.
    monkeypatch.setenv("JOBCAST_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.delenv("JOBCAST_URL", raising=False)
    monkeypatch.setenv("JOBCAST_API_PORT", "8100")
    monkeypatch.setenv("JOBCAST_DATA_DIR", str(tmp_path / "var"))
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "api.url").write_text("http://127.0.0.1:8200")
    assert resolve().base_url == "http://127.0.0.1:8200"
    (tmp_path / "var" / "api.url").unlink()  # it stopped
    assert resolve().base_url == "http://127.0.0.1:8100"


def test_the_local_api_is_found_by_the_dotenv_file_jobcast_up_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With JOBCAST_DATA_DIR and JOBCAST_API_PORT in .env, the stack served on 19730 and left
    # var3/api.url, but the client read neither and went to :8000.
    monkeypatch.setenv("JOBCAST_CONFIG", str(tmp_path / "none.json"))
    for name in ("JOBCAST_URL", "JOBCAST_API_HOST", "JOBCAST_API_PORT", "JOBCAST_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "# the stack's settings\nexport JOBCAST_DATA_DIR='var3'\njobcast_api_port=19730  # ours\n"
    )
    assert resolve().base_url == "http://127.0.0.1:19730"
    (tmp_path / "var3").mkdir()
    (tmp_path / "var3" / "api.url").write_text("http://127.0.0.1:19731")
    assert resolve().base_url == "http://127.0.0.1:19731"
    monkeypatch.setenv("JOBCAST_API_PORT", "8100")  # the environment wins, as for the stack
    (tmp_path / "var3" / "api.url").unlink()
    assert resolve().base_url == "http://127.0.0.1:8100"


def test_https_to_a_plain_http_server_says_so_rather_than_nothing_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone(tmp_path, monkeypatch)
    with HttpStub() as server:
        url = f"https://127.0.0.1:{server.port}"
        with (
            Client(url, "jc_x", retry=RetryPolicy(max_retries=0)) as client,
            pytest.raises(errors.UnavailableError) as e,
        ):
            next(iter(client.jobs()))
    assert e.value.code == "not_tls"
    assert e.value.message.startswith(f"{url} answered, but not over TLS (")
    assert e.value.message.endswith(f"is its address {server.url}?")


def busy() -> HttpStub:
    """Answers every request 503 with `Retry-After: 0` (retried without a pause), counted."""
    body = b'{"error": {"code": "unavailable", "message": "Busy.", "details": {}}}'
    return HttpStub(503, body, {"Retry-After": "0", "Content-Type": "application/json"})


def tries_of_a_read(server: HttpStub) -> int:
    """How many times the client sends a read the server keeps answering 503."""
    server.asked.clear()
    with Client(server.url, "jc_x") as client, pytest.raises(errors.UnavailableError):
        next(iter(client.jobs()))
    return len(server.asked)


def test_jobcast_max_retries_sets_the_retries_of_a_client_given_no_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone(tmp_path, monkeypatch)
    with busy() as server:
        busy_env = {"JOBCAST_URL": server.url, "JOBCAST_API_KEY": "jc_x"}
        monkeypatch.delenv("JOBCAST_MAX_RETRIES", raising=False)
        assert tries_of_a_read(server) == 1 + RetryPolicy().max_retries
        monkeypatch.setenv("JOBCAST_MAX_RETRIES", "2")
        assert tries_of_a_read(server) == 3
        monkeypatch.setenv("JOBCAST_MAX_RETRIES", "0")
        assert tries_of_a_read(server) == 1
        listed = CliRunner().invoke(cli, ["jobs", "ls"], env=busy_env)
        assert (listed.exit_code, len(server.asked)) == (5, 2), listed.output
    monkeypatch.setenv("JOBCAST_MAX_RETRIES", "many")
    with pytest.raises(errors.ConfigError) as e:
        Client(server.url, "jc_x")
    assert e.value.code == "bad_max_retries"
    assert e.value.message == (
        "JOBCAST_MAX_RETRIES is 'many': give a whole number of retries, 0 or more."
    )
    refused = CliRunner().invoke(cli, ["jobs", "ls"], env=busy_env)
    assert refused.exit_code == 2, refused.output
    assert "bad_max_retries" in refused.stderr


def test_nothing_answering_at_the_address_is_said_plainly_with_what_to_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It said "GET http://…/jobs: ConnectError('All connection attempts failed')".
    alone(tmp_path, monkeypatch)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    no_retries = RetryPolicy(max_retries=0)
    with (
        Client(url, "jc_x", retry=no_retries) as client,
        pytest.raises(errors.UnavailableError) as e,
    ):
        next(iter(client.jobs()))
    assert e.value.code == "unreachable"
    assert e.value.message.startswith(f"Nothing answers at {url} (GET /jobs: ")
    assert e.value.message.endswith("is the Jobcast API running, and is this its address?")
    # One try: what is said once the retries run out is the same, after ~4-8 s of backoff.
    once = {"JOBCAST_URL": url, "JOBCAST_API_KEY": "k", "JOBCAST_MAX_RETRIES": "0"}
    listed = CliRunner().invoke(cli, ["jobs", "ls"], env=once)
    assert listed.exit_code == 5, listed.output
    said = " ".join(listed.stderr.split())
    assert said.startswith(f"error unreachable: Nothing answers at {url}")
    assert said.endswith(
        "JOBCAST_URL names it: start the API there, or set JOBCAST_URL to where it runs (or "
        f"unset it, for a saved login or a local `jobcast up`). asked {url} (JOBCAST_URL)"
    )
    # `watch` too, rather than retrying its stream silently for ever.
    watched = CliRunner().invoke(cli, ["watch", "user.me"], env=once)
    assert watched.exit_code == 5, watched.output
    assert " ".join(watched.stderr.split()).startswith(
        f"error unreachable: Nothing answers at {url}"
    )


def test_the_config_names_which_key_it_holds_but_never_shows_the_key(
    stack: ClientStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README suggests printing `client.config` to diagnose an address or key, and people paste
    # what it prints into tickets: its repr showed the whole key.
    alone(tmp_path, monkeypatch)
    prefix, key_id, secret = stack.key.split("_", 2)  # the secret may itself hold "_"
    with Client(stack.url, stack.key) as client:
        shown = [repr(client.config), str(client.config), repr(client), repr(client.aio)]
        assert client.config.api_key == stack.key  # the key itself is still there to use
        assert client.me().id == stack.principal_id  # and it works
    assert f"api_key='{prefix}_{key_id}_…'" in shown[0]
    assert all(secret not in text for text in shown), shown


def test_a_refused_key_is_not_quoted_in_the_error(
    stack: ClientStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone(tmp_path, monkeypatch)
    wrong = stack.key[:-6] + "AAAAAA"
    with Client(stack.url, wrong) as client, pytest.raises(errors.AuthenticationError) as refused:
        client.job("j_nothing")
    texts = [str(refused.value), repr(refused.value), repr(refused.value.__dict__)]
    assert all(wrong.split("_", 2)[2] not in text for text in texts), texts


def test_a_key_of_another_shape_is_hidden_whole() -> None:
    config = ClientConfig("http://127.0.0.1:8000", "hunter2-not-a-key")
    assert "hunter2" not in repr(config)
    assert "not a jc_<id>_<secret> key" in repr(config)


def test_the_local_address_names_only_the_settings_that_made_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default address was said to be "by JOBCAST_API_HOST, JOBCAST_API_PORT", as if set.
    alone(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("JOBCAST_URL", "JOBCAST_API_HOST", "JOBCAST_API_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert (resolve().base_url, resolve().url_from) == (
        "http://127.0.0.1:8000",
        "the default address: no stack running here, JOBCAST_API_HOST and JOBCAST_API_PORT not set",
    )
    monkeypatch.setenv("JOBCAST_API_PORT", "8100")
    assert (resolve().base_url, resolve().url_from) == (
        "http://127.0.0.1:8100",
        "the local api's address by JOBCAST_API_PORT; no stack running here",
    )


def test_a_key_given_with_a_space_or_line_end_around_it_is_the_key(
    stack: ClientStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sent as given, `Bearer <key>\r` was refused by httpx before it left, and the CLI said
    # nothing answered at the address (exit 5): "is that stack still up?".
    alone(tmp_path, monkeypatch)
    with Client(stack.url, f" {stack.key}\r\n") as client:
        assert client.me().id == stack.principal_id
    env = {"JOBCAST_URL": stack.url, "JOBCAST_API_KEY": f"{stack.key} "}
    listed = CliRunner().invoke(cli, ["jobs", "ls", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    signed = CliRunner().invoke(cli, ["login", "--url", stack.url, "--key", f" {stack.key}\r"])
    assert signed.exit_code == 0, signed.output
    assert read_saved()["api_key"] == stack.key
    blank = CliRunner().invoke(cli, ["login", "--url", stack.url, "--key", " "], env=env)
    assert blank.exit_code == 2, blank.output  # not signed in with JOBCAST_API_KEY's key
    assert "--key is blank" in blank.stderr


def test_a_key_with_a_space_or_control_character_inside_is_refused_before_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Against a live api or none, it was "unreachable" (exit 5): the key is what to fix.
    alone(tmp_path, monkeypatch)
    broken = "jc_0123456789ab_first half\nsecond half"
    with (
        Client("http://127.0.0.1:9", broken) as client,
        pytest.raises(errors.AuthenticationError) as refused,
    ):
        client.me()
    assert "copy it again" in refused.value.message
    assert "second half" not in refused.value.message
    listed = CliRunner().invoke(
        cli, ["jobs", "ls"], env={"JOBCAST_URL": "http://127.0.0.1:9", "JOBCAST_API_KEY": broken}
    )
    assert listed.exit_code == 4, listed.output
    assert "copy it again" in listed.stderr
