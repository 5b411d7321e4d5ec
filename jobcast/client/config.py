"""Where the client finds the server and its key, and where each came from (for messages).

The key: the argument, else `JOBCAST_API_KEY`, else the file `jobcast login` writes. The address:
the argument, else `JOBCAST_URL`; else a saved login is used whole, its address with its own key;
a key from elsewhere goes to the api of the `jobcast up` running from here, else to the saved
login's address; else to a local `jobcast up` by its settings (`JOBCAST_API_HOST`,
`JOBCAST_API_PORT`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from jobcast.client import errors
from jobcast.client.retry import RetryPolicy
from jobcast.key_shape import masked

#: The shape of an address, for messages (the address itself comes from `resolve`).
EXAMPLE_URL = "http://127.0.0.1:8000"
URL_ENV, KEY_ENV = "JOBCAST_URL", "JOBCAST_API_KEY"
#: The settings `jobcast up` binds the api by, and their defaults (Settings.api_host and
#: api_port): read here from the environment, as the server's Settings would pull
#: pydantic-settings into a client that needs only httpx, websockets and pydantic.
API_HOST_ENV, API_PORT_ENV = "JOBCAST_API_HOST", "JOBCAST_API_PORT"
DEFAULT_API_HOST, DEFAULT_API_PORT = "127.0.0.1", 8000
#: The launcher's data directory (Settings.data_dir) and the file it names its API in there.
DATA_DIR_ENV, DEFAULT_DATA_DIR, API_URL_FILE = "JOBCAST_DATA_DIR", "var", "api.url"
#: Bind addresses meaning every interface: not an address to connect to, loopback is one of them.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::"})  # noqa: S104 (compared with, never bound)
#: Overrides where the config file lives (tests, several accounts).
CONFIG_ENV = "JOBCAST_CONFIG"
#: Retries of a request that may be sent again, when the client is given no `RetryPolicy` (as
#: AWS_MAX_ATTEMPTS does for the AWS tools): 0 makes a script fail at once when nothing
#: answers, rather than after the backoff's ~4-8 s.
MAX_RETRIES_ENV = "JOBCAST_MAX_RETRIES"
#: How `url_from` begins for the address a `jobcast up` running from here left (the CLI's
#: messages tell it apart by this).
RUNNING_STACK_SOURCE = "the stack running from"


#: Where the address or the key came from when given to `Client` itself.
URL_ARGUMENT, KEY_ARGUMENT = "base_url", "api_key"


@dataclass(frozen=True, repr=False)
class ClientConfig:
    """The address and key, with where each came from (`url_from`, `key_from`) and, when they
    did not come as a pair, a sentence saying so (`pairing`): what a refusal should name.
    Printed, the key shows as its public part (`jc_<id>_…`): a repr gets pasted into tickets."""

    base_url: str
    api_key: str | None
    url_from: str = field(default=URL_ARGUMENT, compare=False)
    key_from: str | None = field(default=KEY_ARGUMENT, compare=False)
    pairing: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.api_key is not None:
            shown["api_key"] = masked(self.api_key)
        return f"ClientConfig({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def require_key(self) -> str:
        """The key, or AuthenticationError saying how to give one: checked before anything is
        sent, so a 2 GiB upload or a chat room does not start only to be refused."""
        if not self.api_key:
            why = self.pairing or f"set {KEY_ENV} or run `jobcast login`."
            # 401: what the server answers a request without a key, said before sending one.
            message = f"No API key: {why}"
            raise errors.AuthenticationError("unauthenticated", message, status=401, local=True)
        if not self.api_key.isprintable() or " " in self.api_key:
            # Sent, httpx refused the header before it left, and it was said as "unreachable".
            message = (
                f"The API key from {self.key_from or KEY_ARGUMENT} has a space or a control "
                "character inside, which no key has: copy it again (jc_<id>_<secret>)."
            )
            raise errors.AuthenticationError("invalid_key", message, status=401, local=True)
        return self.api_key


def config_path() -> Path:
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(home) / "jobcast" / "config.json"


def read_saved(path: Path | None = None) -> dict[str, str]:
    try:
        saved = json.loads((path or config_path()).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in saved.items() if isinstance(v, str)} if isinstance(saved, dict) else {}


def save(base_url: str, api_key: str, path: Path | None = None) -> Path:
    """Write the file readable by its owner only: it holds a key. Created 0600 from the start,
    never chmod-ed after, so the key is never readable by others, even for a moment."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file keeps its mode through O_CREAT: tighten it too
    with os.fdopen(fd, "w") as out:
        json.dump({"url": base_url, "api_key": api_key}, out)
    return path


def local_api_url() -> str:
    return local_api()[0]


def local_api() -> tuple[str, str]:
    """Where a `jobcast up` on this host serves its API, and where that was read: the address
    one running from here left in its data directory (which an `--api-port` or a `.env` file
    set too), else by the settings it listens by. Each setting as `jobcast up` reads it: the
    environment, else the `.env` file here."""
    running = running_api()
    if running:
        return running
    host, port = local_setting(API_HOST_ENV), local_setting(API_PORT_ENV)
    url = reachable_url(host or DEFAULT_API_HOST, port or str(DEFAULT_API_PORT))
    return url, _local_source([n for n, v in ((API_HOST_ENV, host), (API_PORT_ENV, port)) if v])


def _local_source(set_names: list[str]) -> str:
    # Only the settings set are named: "by JOBCAST_API_HOST, JOBCAST_API_PORT" read as if the
    # user had set them when the address was the default.
    if set_names:
        return f"the local api's address by {' and '.join(set_names)}; no stack running here"
    return f"the default address: no stack running here, {API_HOST_ENV} and {API_PORT_ENV} not set"


def local_setting(name: str, dotenv: Path = Path(".env")) -> str | None:
    """A `jobcast up` setting as the stack started here reads it: the environment, else
    `.env` in this directory (`NAME=value` lines; `export`, quotes and comments allowed). Read
    here rather than with pydantic-settings, which the client does not need otherwise."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    try:
        lines = dotenv.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    found = None
    for line in lines:
        key, sep, raw = line.strip().removeprefix("export ").partition("=")
        if sep and key.strip().upper() == name:  # pydantic-settings ignores case
            raw = raw.strip()
            if raw[:1] in ("'", '"') and raw.endswith(raw[:1]) and len(raw) > 1:
                raw = raw[1:-1]
            else:
                raw = raw.split(" #", 1)[0].strip()
            found = raw or None  # the last one wins, as in python-dotenv
    return found


def api_url_file(data_dir: Path) -> Path:
    """Where `jobcast up` leaves its API's address while it runs (as `redis.url` for Redis)."""
    return data_dir / API_URL_FILE


def running_api() -> tuple[str, str] | None:
    """The address a `jobcast up` running from this directory left (`JOBCAST_DATA_DIR`, from
    the environment or `.env`, by default `var`) and the file it is in, or None."""
    path = api_url_file(Path(local_setting(DATA_DIR_ENV) or DEFAULT_DATA_DIR))
    try:
        url = path.read_text().strip()
    except OSError:
        return None
    return (url, f"{RUNNING_STACK_SOURCE} {Path.cwd()}: {path}") if url else None


def reachable_url(host: str, port: int | str) -> str:
    """The address to reach, from this host, a server bound to `host`:`port`: one bound to
    every interface (a wildcard) is reached on loopback; an IPv6 host goes in brackets."""
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def resolve(base_url: str | None = None, api_key: str | None = None) -> ClientConfig:
    """ConfigError when the address found is not an http(s) URL, naming where it came from."""
    saved = read_saved()
    if "api_key" in saved:
        saved["api_key"] = _bare_key(saved["api_key"])
    key, key_from = _key(api_key, saved)
    url, url_from = _address(base_url, key, saved)
    if not is_http_url(url):
        raise errors.ConfigError(
            "bad_url",
            f"{url_from} is {url!r}: give the API's address, like {EXAMPLE_URL}.",
            local=True,
        )
    config = ClientConfig(url.rstrip("/"), key, url_from, key_from)
    config = replace(config, pairing=_pairing(config, saved))
    saved_url = saved.get("url", "").rstrip("/")
    if key_from == saved_source() and saved_url and config.base_url != saved_url:
        # A saved key is its server's: sent to another address, a credential leaks to whoever
        # answers there. No key instead; `require_key` says why and what to do.
        config = replace(config, api_key=None, key_from=None)
    return config


def retry_policy() -> RetryPolicy:
    """The default `RetryPolicy`, with `JOBCAST_MAX_RETRIES` retries when it is set; ConfigError
    when it is not a whole number of 0 or more."""
    given = os.environ.get(MAX_RETRIES_ENV, "").strip()
    if not given:
        return RetryPolicy()
    if not given.isdigit():
        message = f"{MAX_RETRIES_ENV} is {given!r}: give a whole number of retries, 0 or more."
        raise errors.ConfigError("bad_max_retries", message, local=True)
    return RetryPolicy(max_retries=int(given))


def saved_source() -> str:
    return f"the login `jobcast login` saved in {config_path()}"


def _bare_key(key: str) -> str:
    # Without the spaces and line ends around it: a copy's (a terminal's selection, a key file
    # written on Windows), never the key's.
    return key.strip()


def _key(api_key: str | None, saved: dict[str, str]) -> tuple[str | None, str | None]:
    given = [(api_key, KEY_ARGUMENT), (os.environ.get(KEY_ENV), KEY_ENV)]
    given.append((saved.get("api_key"), saved_source()))
    bare = ((_bare_key(key), source) for key, source in given if key)
    return next(((key, source) for key, source in bare if key), (None, None))


def _address(base_url: str | None, key: str | None, saved: dict[str, str]) -> tuple[str, str]:
    """A given address first. A saved login is a pair: its address goes first with its own key
    (or none), after the stack running from here with any other key, which is most likely
    that stack's (its operator's); a key sent to a login made with another is a mistake."""
    given = [(base_url, URL_ARGUMENT), (os.environ.get(URL_ENV), URL_ENV)]
    found = next(((url, source) for url, source in given if url), None)
    saved_url = (saved["url"], saved_source()) if saved.get("url") else None
    if found is None and saved_url and key in (None, saved.get("api_key")):
        found = saved_url
    return found or running_api() or saved_url or local_api()


def _pairing(config: ClientConfig, saved: dict[str, str]) -> str | None:
    """Why the key may not be the address's: one half of a saved login used with another key
    or address."""
    saved_url, saved_key = saved.get("url", "").rstrip("/"), saved.get("api_key")
    if config.url_from == saved_source() and config.api_key not in (None, saved_key):
        return (
            f"the key came from {config.key_from}, the address from a login saved with another "
            f"key: set {URL_ENV} to the key's server, or unset {KEY_ENV} to use the saved login."
        )
    if config.key_from == saved_source() and saved_url and config.base_url != saved_url:
        return (
            f"the key `jobcast login` saved is sent only to {saved_url}, where it was saved: "
            f"set {KEY_ENV} to {config.base_url}'s key, or run `jobcast login --url "
            f"{config.base_url}`."
        )
    return None


def is_http_url(url: str) -> bool:
    """An http(s) URL with a host (and a port that is one, if any)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port that is not one: `:abc`, `:99999`)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
