"""Where the client finds the server and its key: arguments, then the environment
(`JOBCAST_URL`, `JOBCAST_API_KEY`), then the file `jobcast login` writes; with no address from
any of them, the API of a local `jobcast up` (`JOBCAST_API_HOST`, `JOBCAST_API_PORT`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from jobcast.client import errors

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


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    api_key: str | None

    def require_key(self) -> str:
        """The key, or AuthenticationError saying how to give one: checked before anything is
        sent, so a 2 GiB upload or a chat room does not start only to be refused."""
        if not self.api_key:
            raise errors.AuthenticationError(
                "unauthenticated", f"No API key: set {KEY_ENV} or run `jobcast login`."
            )
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
    """Where a `jobcast up` on this host serves its API: the address one running from here left
    in its data directory (which an `--api-port` or a `.env` file set too), else by the
    settings it listens by. Each setting as `jobcast up` reads it: the environment, else the
    `.env` file here."""
    running = running_api_url()
    if running:
        return running
    host = local_setting(API_HOST_ENV) or DEFAULT_API_HOST
    port = local_setting(API_PORT_ENV) or str(DEFAULT_API_PORT)
    return reachable_url(host, port)


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


def running_api_url() -> str | None:
    """The address a `jobcast up` running from this directory left (`JOBCAST_DATA_DIR`, from
    the environment or `.env`, by default `var`), or None."""
    path = api_url_file(Path(local_setting(DATA_DIR_ENV) or DEFAULT_DATA_DIR))
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def reachable_url(host: str, port: int | str) -> str:
    """The address to reach, from this host, a server bound to `host`:`port`: one bound to
    every interface (a wildcard) is reached on loopback; an IPv6 host goes in brackets."""
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def resolve(base_url: str | None = None, api_key: str | None = None) -> ClientConfig:
    """ConfigError when the address found is not an http(s) URL, naming where it came from."""
    saved = read_saved()
    sources = [
        ("base_url", base_url),
        (URL_ENV, os.environ.get(URL_ENV)),
        (f"the login saved in {config_path()}", saved.get("url")),
        (f"the local api's address ({API_HOST_ENV}, {API_PORT_ENV})", local_api_url()),
    ]
    source, url = next((name, value) for name, value in sources if value)
    if not is_http_url(url):
        raise errors.ConfigError(
            "bad_url", f"{source} is {url!r}: give the API's address, like {EXAMPLE_URL}."
        )
    key = api_key or os.environ.get(KEY_ENV) or saved.get("api_key")
    return ClientConfig(url.rstrip("/"), key)


def is_http_url(url: str) -> bool:
    """An http(s) URL with a host (and a port that is one, if any)."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (raises on a port that is not one: `:abc`, `:99999`)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
