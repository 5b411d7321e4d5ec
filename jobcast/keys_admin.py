"""What `jobcast keys` does (`jobcast.keys_cli` holds the commands and imports this when one
runs): create, list and revoke API keys in the stack's Redis."""

from __future__ import annotations

import getpass
import logging
import socket
from datetime import UTC, datetime
from typing import NoReturn

import redis
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from jobcast import cluster_key_secret
from jobcast.console import make_console
from jobcast.dev_secrets import secrets_path, stored_key_secret, stored_secret
from jobcast.keys import (
    InvalidNameError,
    KeyInfo,
    audit,
    check_name,
    create_key,
    list_keys,
    revoke_key,
)
from jobcast.logs import JsonFormatter, TextFormatter
from jobcast.redis_clients import (
    CONNECT_TIMEOUT_SECONDS,
    configured_redis,
    redis_problem,
    sync_client,
)
from jobcast.redis_credentials import EXIT_CREDENTIALS_REFUSED, credentials_refusal
from jobcast.settings import ConfigurationError, Settings, load_settings
from jobcast.stack_files import running_redis_url, running_sentinels

console = make_console()
#: Notes and refusals: stdout keeps only what a script reads (the key, the table).
err_console = Console(stderr=True, soft_wrap=True)  # one line each: a script may grep it
#: As the user commands' table (README): the request was refused, here a key id unknown.
EXIT_NOT_FOUND = 3


def _connect() -> tuple[Settings, redis.Redis]:
    """The Redis and key secret of the configured stack, or of the dev stack under data_dir."""
    try:
        configured = load_settings()
    except ConfigurationError as exc:
        _refuse(str(exc))
    settings = _with_running_sentinels(configured)
    url = settings.redis_url or running_redis_url(settings)
    secret = settings.key_secret.get_secret_value() if settings.key_secret else None
    secret = secret or stored_key_secret(settings)
    if (url is None and not settings.sentinels) or secret is None:
        _refuse(_what_to_set(settings, url))
    settings = settings.replace(redis_url=url, key_secret=secret)  # sentinels, when set, win
    _audit_to_stderr(settings)
    client = sync_client(settings, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        refused = credentials_refusal(settings, exc)
        if refused is not None:
            _refuse(str(refused), EXIT_CREDENTIALS_REFUSED)
        _refuse(
            _unreachable(settings, exc, external=bool(configured.redis_url or configured.sentinels))
        )
    return settings, client


def _unreachable(settings: Settings, exc: BaseException, external: bool) -> str:
    problem = redis_problem(exc, where=True)
    if external:  # JOBCAST_REDIS_URL or the sentinels set: no `jobcast up` is asked about
        return f"cannot reach the Redis at {configured_redis(settings)} ({problem})."
    # A dev stack's, found through its data directory: one killed without cleaning up leaves
    # its redis.url (or redis.sentinels) behind.
    return f"cannot reach the stack's Redis ({problem}). Is `jobcast up` running?"


#: How a person at a terminal reads the audit record: a sentence, not a log line.
PLAIN_AUDIT = logging.Formatter("Audit: %(message)s.")


def _audit_to_stderr(settings: Settings) -> None:
    """Key events on stderr, as the servers write their lines. The command is the only process
    that sees a key made (the api takes no part), and the one that knows who ran it: the line
    belongs in the log of whatever runs it (a shell session, a CI job). The key's record in
    Redis keeps `created_at`; api processes log a revocation again when they hear of it."""
    handler = logging.StreamHandler()  # stderr: stdout is for the key, which scripts read
    handler.setFormatter(_audit_format(settings, handler.stream.isatty()))
    audit.handlers[:] = [handler]
    audit.setLevel(logging.INFO)
    audit.propagate = False


def _audit_format(settings: Settings, to_terminal: bool) -> logging.Formatter:
    """The servers' format where a log keeps it (CI, a redirect, a collector); in a terminal,
    where only a person sees it, a sentence: there a timestamped `INFO jobcast.audit:` line
    reads as a server's log leaking. JSON, when asked for, stays JSON."""
    if settings.log_json:
        return JsonFormatter()
    return PLAIN_AUDIT if to_terminal else TextFormatter()


def _who() -> str:
    """Who ran the command, as `user@host`."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # a container's uid with no name and no $USER
        user = "?"
    return f"{user}@{socket.gethostname()}"


def _with_running_sentinels(settings: Settings) -> Settings:
    """Behind a running `jobcast up --ha` under data_dir: its sentinels and dev Redis password."""
    if settings.redis_url or settings.sentinels:
        return settings
    sentinels = running_sentinels(settings)
    if sentinels is None:
        return settings
    password = settings.redis_password or stored_secret(settings, "redis_password")
    return settings.replace(
        redis_sentinels=sentinels, redis_password=password, redis_sentinel_password=password
    )


def _refuse(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[red]jobcast error:[/red] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _what_to_set(settings: Settings, url: str | None) -> str:
    where = settings.data_dir.resolve()
    if url is not None and secrets_path(settings).exists():
        # A dev stack that took its key secret from its environment keeps none in the file.
        return (
            f"JOBCAST_KEY_SECRET is not set here, and the stack under {where} takes it from its "
            "environment (or .env): set the same JOBCAST_KEY_SECRET for this command."
        )
    if url is None:
        found = f"no running `jobcast up` under {where} (it leaves redis.url there)."
    else:
        found = f"JOBCAST_KEY_SECRET is not set and no dev secrets are stored under {where}."
    return (
        f"{found} Run this from the directory you ran `jobcast up` in, or set "
        "JOBCAST_DATA_DIR to that stack's data directory (its `var`); for a Redis of your "
        "own, set JOBCAST_REDIS_URL and JOBCAST_KEY_SECRET."
    )


def create(name: str | None, admin: bool, principal: str | None) -> None:
    settings, client = _connect()
    try:  # a key made with another secret than the api's would be answered 401
        cluster_key_secret.check(client, settings.secret("key_secret"))
    except cluster_key_secret.KeySecretMismatchError as exc:
        _refuse(str(exc))
    keys = list_keys(client)
    if principal is not None:
        name = _name_of(keys, principal, name)
    elif name is None or not name.strip():
        _refuse("say who the key is for: --name NAME (a new principal) or --principal ID.")
    else:
        try:
            name = check_name(name)
        except InvalidNameError as exc:
            _refuse(f"--name: {exc}.")
        _note_namesakes(keys, name)
    raw, info = create_key(
        client, settings.secret("key_secret"), name, admin=admin, principal_id=principal
    )
    audit.info(
        "API key %s created for principal %s (name %r, admin %s) by %s",
        info.key_id,
        info.principal_id,
        info.name,
        info.admin,
        _who(),
        extra={"key_id": info.key_id, "principal_id": info.principal_id, "by": _who()},
    )
    console.print(f"key id {info.key_id}, principal {info.principal_id}")
    typer.echo(raw)


def _name_of(keys: list[KeyInfo], principal: str, name: str | None) -> str:
    """The existing principal's name: a key is only ever added to a principal that has one."""
    names = {key.name for key in keys if key.principal_id == principal}
    if not names:
        _refuse(f"no key belongs to principal {principal}; `jobcast keys list` shows them.")
    known = sorted(names)[0]
    if name is not None and name not in names:
        _refuse(f"principal {principal} is named {known!r}, not {name!r}; leave out --name.")
    return name or known


def _note_namesakes(keys: list[KeyInfo], name: str) -> None:
    """Names are labels: a second `--name alice` is a second tenant, which may not be meant."""
    namesakes = sorted({key.principal_id for key in keys if key.name == name and not key.revoked})
    if namesakes:
        err_console.print(
            f"note: {', '.join(namesakes)} already named {name!r}; this creates a new principal "
            "that sees none of their records. To give one of them another key (to rotate), "
            "use --principal ID instead.",
            markup=False,
            highlight=False,
        )


def list_all() -> None:
    _, client = _connect()
    table = Table("key id", "principal", "name", "admin", "created (UTC)", "revoked (UTC)")
    for key in list_keys(client):
        created = _utc(key.created_at)
        # The name as text: rich read `team[eu]` as markup and showed `team`.
        name = Text(key.name)
        table.add_row(key.key_id, key.principal_id, name, str(key.admin), created, _revoked(key))
    console.print(table)


def _revoked(key: KeyInfo) -> str:
    if not key.revoked:
        return "-"
    # Revoked before revocations kept their time.
    return "yes" if key.revoked_at is None else _utc(key.revoked_at)


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def revoke(key_id: str) -> None:
    _, client = _connect()
    known = revoke_key(client, key_id)
    if known is None:
        _refuse(f"no key with id {key_id}; `jobcast keys list` shows them.", EXIT_NOT_FOUND)
    if not known.revoked:
        audit.info(
            "API key %s revoked (principal %s, name %r) by %s",
            key_id,
            known.principal_id,
            known.name,
            _who(),
            extra={"key_id": key_id, "principal_id": known.principal_id, "by": _who()},
        )
    console.print(f"{'already revoked' if known.revoked else 'revoked'} {key_id}")
