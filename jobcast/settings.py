"""The one typed configuration object, read by the api, the workers, the launcher and celeryconfig.

Every field is an environment variable `JOBCAST_<FIELD>` (upper case); a `.env` file in the
working directory is read too. The README's configuration table is generated from this class
(`jobcast settings-table`) and a test keeps the two in sync.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from jobcast.orders.symbols import SymbolRules
from jobcast.redis_url import masked_url, redis_url_problem

#: The secrets that must be set outside dev mode; each names the variable that sets it.
REQUIRED_SECRETS = ("flower_password", "key_secret")
#: What `log_level` may be: logging's level names, any case.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: The origins dev mode allows when `cors_origins` is empty: http(s) on a loopback name, any port.
DEV_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"


class InsecureSettingsError(ValueError):
    """A secret is missing or left at a development value outside dev mode."""


class ConfigurationError(ValueError):
    """A setting's value cannot be read; the message names each variable and what it needs."""


class Settings(BaseSettings):
    """Jobcast configuration. Field docs become the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="JOBCAST_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    dev: bool = Field(
        default=False,
        description=(
            "Dev mode: the launcher generates secrets and a dev API key. Never in production."
        ),
    )
    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis to use, `redis://[:PASSWORD@]HOST[:PORT][/DB]` (`rediss://` for TLS; no unix "
            "socket). Unset: `jobcast up` starts the embedded server and sets this."
        ),
    )
    redis_password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of the embedded Redis (generated in dev mode), and of the primary and "
            "replicas behind Sentinel."
        ),
    )
    redis_sentinels: str = Field(
        default="",
        description=(
            "Sentinels to ask for the Redis primary, comma-separated `host:port` (e.g. "
            "`s1:26379,s2:26379,s3:26379`). Set: every Redis user follows failovers and "
            "`JOBCAST_REDIS_URL` is ignored."
        ),
    )
    redis_sentinel_master: str = Field(
        default="jobcast", description="Name the sentinels monitor the primary under."
    )
    redis_sentinel_password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of the sentinels themselves (their `requirepass`); unset: they need none."
        ),
    )
    redis_replica_wait_ms: int = Field(
        default=1000,
        ge=0,
        description=(
            "Behind Sentinel: milliseconds a worker (or the api, cancelling a queued job) waits "
            "(WAIT) for a replica to have a job's outcome (or cancel) before it deletes the "
            "job's upload, which a failover that lost that write would run the job on again. "
            "Past it, with a replica connected, the upload is kept for the sweep."
        ),
    )
    redis_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the embedded Redis; 0 picks a free one (the last again if free).",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description=(
            "Where the embedded Redis, logs and uploaded files live. Shared by all workers."
        ),
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port of the API.")
    api_header_timeout: float = Field(
        default=20.0,
        gt=0,
        description=(
            "Seconds a connection to the API has to send a request's line and headers, from its "
            "opening or the request's first byte; slower, it is closed (slowloris)."
        ),
    )
    api_body_timeout: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds a request has to send its whole body once its headers are in (multipart "
            "uploads excepted: they have JOBCAST_UPLOAD_IDLE_TIMEOUT); slower is answered 408 "
            "request_timeout and closed (slowloris on a JSON route)."
        ),
    )
    api_send_timeout: float = Field(
        default=60.0,
        gt=0,
        description=(
            "Seconds an answer's unsent bytes may wait without any of them reaching the client "
            "(one that stopped reading but keeps its connection up); then the connection is "
            "dropped and its request ends. A slow client that reads is never cut."
        ),
    )
    api_max_connections_per_address: int = Field(
        default=256,
        ge=0,
        description=(
            "HTTP connections one client address may hold open to an api process; one more is "
            "answered 503 and closed. 0: no cap (an api that sees every client as one proxy "
            "address)."
        ),
    )
    flower_host: str = Field(default="127.0.0.1", description="Address Flower binds to.")
    flower_port: int = Field(default=5555, ge=1, le=65535, description="Port of Flower.")
    flower_user: str = Field(default="admin", description="Flower basic-auth user.")
    flower_password: SecretStr | None = Field(
        default=None, description="Flower basic-auth password. Required outside dev mode."
    )
    key_secret: SecretStr | None = Field(
        default=None,
        description="Secret that API keys are hashed with (HMAC). Required outside dev mode.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Origins allowed by CORS and the WebSocket Origin check (JSON list, e.g. "
            '["https://app.example"]). Empty in dev mode: any http://localhost:* or '
            "http://127.0.0.1:* origin (a frontend dev server). The app served by the api is "
            "same-origin and always allowed."
        ),
    )
    task_max_attempts: int = Field(
        default=3,
        ge=1,
        description=(
            "Deaths of a task's process (while running it) before the task is quarantined instead "
            "of redelivered at once; also a file job's tries on transient errors."
        ),
    )
    job_retry_backoff: float = Field(
        default=2.0,
        gt=0,
        description=(
            "Seconds before a file job's first retry after a transient error (Redis, storage "
            "I/O); doubled before each further try."
        ),
    )
    task_quarantine_delay: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds a quarantined task waits before it runs again; doubled after each further "
            "death."
        ),
    )
    task_quarantine_max: int = Field(
        default=3,
        ge=0,
        description=(
            "Deaths in quarantine before the task is failed as attempts_exhausted (a poison task)."
        ),
    )
    job_soft_time_limit: int = Field(
        default=600, ge=1, description="Seconds before a file job is asked to stop."
    )
    job_time_limit: int = Field(
        default=660, ge=1, description="Seconds before a file job's process is killed."
    )
    result_expires: int = Field(
        default=86400, ge=60, description="Seconds Celery keeps task results."
    )
    worker_heartbeat_interval: float = Field(
        default=2.0, gt=0, description="Seconds between a worker's readiness reports to Redis."
    )
    log_json: bool = Field(default=False, description="Log as JSON lines instead of text.")
    log_level: str = Field(
        default="INFO",
        description=(
            "Least level logged by the api, the workers and Flower: DEBUG, INFO, WARNING, ERROR "
            "or CRITICAL (a worker's `--loglevel` gives way to it)."
        ),
    )
    log_probes: bool = Field(
        default=False,
        description=(
            "Write an access line for each passing liveness probe (`GET`/`HEAD /healthz` "
            "answered 200) too. Off, a probe is logged only when it fails; metrics count all."
        ),
    )

    # --- API edge: rate limits, proxies, request size ---
    rate_submit_per_minute: int = Field(
        default=120, ge=1, description="Submit budget per principal (jobs, orders, data writes)."
    )
    rate_submit_burst: int = Field(
        default=30, ge=1, description="Submit requests allowed at once before the rate applies."
    )
    rate_read_per_minute: int = Field(
        default=600, ge=1, description="Read budget per principal (GET routes)."
    )
    rate_read_burst: int = Field(
        default=100, ge=1, description="Read requests allowed at once before the rate applies."
    )
    rate_anonymous_per_minute: int = Field(
        default=60,
        ge=1,
        description=(
            "Budget per client address for requests with a key that is not valid (one with no "
            "key spends nothing)."
        ),
    )
    rate_anonymous_burst: int = Field(
        default=20,
        ge=1,
        description="Burst for requests with a key that is not valid, per client address.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Peers (IPs or CIDRs, JSON list) whose X-Forwarded-For is believed, e.g. "
            '["10.0.0.0/8"].'
        ),
    )
    max_json_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest JSON request body; larger answers 413."
    )

    # --- File jobs: uploads, worker memory, results ---
    upload_max_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="Largest uploaded file in bytes; larger answers 413."
    )
    upload_max_decompressed_bytes: int = Field(
        default=8 * 1024**3,
        ge=1,
        description=(
            "Largest decompressed size of a gzip upload; past it the job fails (gzip bomb)."
        ),
    )
    upload_max_decompression_ratio: int = Field(
        default=200,
        ge=2,
        description=(
            "Most bytes a gzip upload may decompress to per compressed byte read so far (past its "
            "first 16 MiB); past it the job fails (gzip bomb)."
        ),
    )
    job_memory_budget: int = Field(
        default=512 * 1024**2,
        ge=32 * 1024**2,
        description=(
            "Bytes a file job's worker process stays under: sizes batches and exact-quantile "
            "buffers; a job whose process comes within 1/12 of it fails as memory_limit and the "
            "process is replaced."
        ),
    )
    job_batch_bytes: int = Field(
        default=4 * 1024**2,
        ge=64 * 1024,
        description=(
            "Bytes of input read per batch (capped at 1/16 of the memory budget left after the "
            "process itself)."
        ),
    )
    job_max_columns: int = Field(
        default=2000,
        ge=1,
        description=(
            "Widest table a file job accepts; wider fails as too_many_columns. A CSV's header "
            "line must also fit in 64 KiB (longer fails as unreadable_file), which long column "
            "names reach first: 1,500 names of 50 characters do."
        ),
    )
    job_max_cell_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description=(
            "Largest value (one cell, decoded) a file job accepts; larger fails as memory_limit."
        ),
    )
    job_max_decoded_bytes: int = Field(
        default=8 * 1024**3,
        ge=1024**2,
        description=(
            "Most bytes a file job's data may take decoded (Arrow batches, text as its "
            "characters); past it the job fails as decoded_too_large."
        ),
    )
    job_max_decoded_ratio: int = Field(
        default=1000,
        ge=2,
        description=(
            "Most bytes a file job's data may take decoded per byte of the stored file, past the "
            "first 256 MiB (a few KB of Parquet can hold gigabytes of repeated text); past it the "
            "job fails as decoded_too_large."
        ),
    )
    job_min_free_disk_bytes: int = Field(
        default=2 * 1024**3,
        ge=0,
        description=(
            "Free space uploads and convert jobs leave on the data directory's disk. An upload "
            "that would leave less (its declared length, then checked every 8 MiB received) "
            "answers 507 storage_full; a convert, checked before it writes and after each batch, "
            "fails as storage_full. Either's partial file is removed. 0: not checked."
        ),
    )
    job_max_json_depth: int = Field(
        default=64,
        ge=2,
        description=(
            "Deepest nesting of objects and arrays in a JSON Lines file; deeper fails as "
            "invalid_json."
        ),
    )
    job_max_groups: int = Field(
        default=1_000_000,
        ge=1,
        description="Most groups an aggregate job keeps; more fails as too_many_groups.",
    )
    job_max_result_bytes: int = Field(
        default=16 * 1024**2,
        ge=64 * 1024,
        description=(
            "Largest result a file job keeps, as its record stores it (JSON): results live in "
            "Redis with the job, so long keys or values (an aggregate of 10,000 groups keyed by "
            "256 KiB cells) would fill its memory for every principal; past it the job fails as "
            "result_too_large."
        ),
    )
    job_distinct_exact_limit: int = Field(
        default=10_000,
        ge=10,
        description=(
            "Distinct values counted exactly per column; past it distinct is an estimate (flagged)."
        ),
    )
    job_retention: int = Field(
        default=7 * 86400,
        ge=60,
        description="Seconds job records, results and artifacts are kept; afterwards 410 Gone.",
    )
    job_progress_interval: float = Field(
        default=0.25, gt=0, description="Least seconds between two progress events of one job."
    )
    files_sweep_interval: float = Field(
        default=600.0,
        gt=0,
        description=(
            "Seconds between a `files` worker's sweeps of stored files no job needs any more."
        ),
    )
    reconcile_interval: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds between the reconciler's sweeps for jobs and symbols no task will run."
        ),
    )
    # Its own setting, not derived from the sweeps': how fast a backlog climbs the `files`
    # queue's priorities is a fairness choice, how soon lost work runs again a recovery one, and
    # tying them made a faster recovery reorder everyone's jobs.
    queue_aging_interval: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds a file job must wait next in a lower priority of the `files` queue before "
            "it moves up one; checked on the reconciler's sweeps, so never sooner than one "
            "`JOBCAST_RECONCILE_INTERVAL`."
        ),
    )
    reconcile_after: float = Field(
        default=120.0,
        gt=0,
        description=(
            "Seconds a job or a symbol's unmatched order must sit idle with no task before the "
            "reconciler sends one."
        ),
    )
    files_sweep_min_age: int = Field(
        default=3600,
        ge=60,
        description="Seconds a stored file must be untouched before a sweep may delete it.",
    )
    files_max_running_per_principal: int = Field(
        default=2,
        ge=0,
        description=(
            "File jobs one principal may run at once across all `files` workers while another "
            "principal has a file job waiting; its next ones wait (re-queued) while the others' "
            "jobs take the slots. With nobody else waiting it may use every slot. It also "
            "orders the `files` queue by backlog: a principal's first this-many queued or "
            "running go at the top priority, deeper ones lower. 0: no cap, arrival order."
        ),
    )
    quota_stored_bytes: int = Field(
        default=20 * 1024**3,
        ge=0,
        description=(
            "Bytes one principal may keep stored: uploads in progress or waiting for their job, "
            "and converted files and kept job results until they expire. Over it an upload "
            "answers 413 storage_quota_exceeded (a job, failed so). 0: no quota."
        ),
    )
    upload_idle_timeout: float = Field(
        default=60.0,
        gt=0,
        # Under the reservation's 300 s expiry less its 60 s refresh step (`api.upload_quota`),
        # so a stalled upload is cut while it still holds its slot: the cap on uploads in
        # progress then counts every open one.
        le=240.0,
        description=(
            "Seconds an upload in progress may go without sending a byte; then it is cut, "
            "answered 408 upload_stalled, its partial file deleted and its slot freed. At most "
            "240."
        ),
    )
    quota_concurrent_uploads: int = Field(
        default=4,
        ge=0,
        description=(
            "Uploads one principal may stream at once (all api processes); one more answers 429 "
            "too_many_uploads. 0: no cap."
        ),
    )

    # --- Orders: symbols, matching batches, market data ---
    order_symbols: dict[str, SymbolRules] | None = Field(
        default=None,
        description=(
            'Tradable symbols and their rules (JSON, e.g. {"BTC-USD": {"tick_size": "0.5", '
            '"lot_size": 1, "min_quantity": 1, "max_quantity": 1000, "max_notional": "1000000"}}). '
            "Unset: BTC-USD, ETH-USD, SOL-USD, ACME."
        ),
    )
    order_batch_max: int = Field(
        default=500, ge=1, description="Most orders one `POST /orders/batch` may carry."
    )
    order_match_batch: int = Field(
        default=1000,
        ge=1,
        description="Inbound orders and cancels one matching step takes and commits at once.",
    )
    order_task_max_steps: int = Field(
        default=50,
        ge=1,
        description="Matching steps one task runs before it requeues, so every symbol gets a turn.",
    )
    order_lease_ms: int = Field(
        default=10_000,
        ge=100,
        description=(
            "Milliseconds a worker holds a symbol's single-writer lease without committing."
        ),
    )
    order_trade_history: int = Field(
        default=1000,
        ge=1,
        description=(
            "Recent trades kept per symbol for `GET /market/{symbol}/trades` and `/fills`."
        ),
    )
    order_depth_levels: int = Field(
        default=50,
        ge=1,
        description="Price levels per side kept in the book snapshot (the largest `depth`).",
    )
    order_retention: int = Field(
        default=7 * 86400,
        ge=60,
        description=(
            "Seconds an order's record is kept after it is filled, cancelled or rejected; "
            "afterwards 410 Gone."
        ),
    )

    # --- Realtime: WebSocket push, chat, monitor ---
    ws_send_queue: int = Field(
        default=1024,
        ge=8,
        description="Messages queued per WebSocket before the client is closed as too slow (4008).",
    )
    ws_send_queue_bytes: int = Field(
        default=32 * 1024**2,
        ge=64 * 1024,
        description=(
            "Characters of JSON text (bytes, for the ASCII frames the server builds) queued per "
            "WebSocket before the client is closed as too slow (4008): a job snapshot carries "
            "the whole result, so a count alone let one client hold hundreds of them. At least "
            "the largest snapshot (JOBCAST_JOB_MAX_RESULT_BYTES plus 3 x "
            "JOBCAST_MAX_JSON_BODY_BYTES for the rest of the record)."
        ),
    )
    ws_send_queue_bytes_per_principal: int = Field(
        default=256 * 1024**2,
        ge=64 * 1024,
        description=(
            "Characters of JSON text queued for all of one principal's WebSockets in one api "
            "process together; the socket that pushes past it is closed as too slow (4008), so "
            "one tenant that never reads on many sockets cannot exhaust the api's memory. Text "
            "counts only until it is written to the socket: a client that reads holds little. "
            "At least JOBCAST_WS_SEND_QUEUE_BYTES (one socket's full queue)."
        ),
    )
    ws_heartbeat_interval: float = Field(
        default=15.0, gt=0, description="Seconds between the server's heartbeat messages."
    )
    ws_auth_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a new WebSocket has to authenticate."
    )
    ws_close_timeout: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds a closing WebSocket's last frames may take to reach a client that stopped "
            "reading (after an unanswered ping, say); then the connection is dropped with them, "
            "and its session ends."
        ),
    )
    ws_ticket_ttl: int = Field(
        default=30, ge=1, description="Seconds a single-use WebSocket ticket stays valid."
    )
    ws_max_subscriptions: int = Field(
        default=200, ge=1, description="Channels one WebSocket may subscribe to at once."
    )
    ws_max_connections_per_principal: int = Field(
        default=100,
        ge=1,
        description=(
            "WebSockets one principal may hold open at once, across all api processes; more are "
            "refused (4029)."
        ),
    )
    ws_connection_ttl: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds a WebSocket stays counted against its principal's limit without a refresh (a "
            "dead api process's connections stop counting after it)."
        ),
    )
    ws_max_frame_bytes: int = Field(
        default=65_536, ge=256, description="Largest message a client may send over WebSocket."
    )
    ws_reconnect_max_backoff: float = Field(
        default=5.0,
        gt=0,
        description="Longest wait between the hub's attempts to reconnect its Redis pub/sub.",
    )
    # One ping per quiet interval per api process; a silent connection is found within about
    # interval + timeout. The timeout leaves room for a Redis that stalls for a few seconds (a
    # slow script, a fork for a snapshot): a false alarm costs a resubscribe and a replay of
    # every channel the process holds.
    ws_hub_ping_interval: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds the hub's Redis pub/sub connection may stay quiet before the hub pings Redis "
            "on it."
        ),
    )
    ws_hub_ping_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds the hub waits for that ping's answer before it drops the connection as dead "
            "(half-open) and reconnects."
        ),
    )
    chat_history: int = Field(
        default=50, ge=0, description="Chat messages sent to a client when it joins a room."
    )
    chat_max_message_bytes: int = Field(
        default=2000, ge=1, description="Largest chat message text (UTF-8 bytes)."
    )
    chat_rate_per_minute: int = Field(
        default=60, ge=1, description="Chat messages one principal may send per minute."
    )
    chat_rate_burst: int = Field(
        default=10, ge=1, description="Chat messages one principal may send at once."
    )
    chat_presence_ttl: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Seconds a chat presence entry lives without a refresh (a dead process's users vanish "
            "after it)."
        ),
    )
    monitor_interval: float = Field(
        default=1.0, gt=0, description="Seconds between `monitor.sample` events (cluster-wide)."
    )

    # --- Resource limits against abuse (README: Security) ---
    ws_max_unauthenticated_per_address: int = Field(
        default=20,
        ge=1,
        description=(
            "WebSockets one client address may hold open before authenticating, per api process; "
            "one more is let in and the address's oldest still waiting for its first message is "
            "closed (4029)."
        ),
    )
    ws_auth_attempts_per_minute: int = Field(
        default=60,
        ge=1,
        description=(
            "Failed WebSocket authentication attempts (wrong key or ticket) per client address; "
            "over budget a wrong one is closed at once (4029), a valid one still gets in."
        ),
    )
    ws_auth_attempts_burst: int = Field(
        default=30,
        ge=1,
        description="Failed WebSocket authentication attempts allowed at once per address.",
    )
    ws_subscribes_per_minute: int = Field(
        default=120,
        ge=1,
        description="WebSocket subscribes per principal per minute (all sockets).",
    )
    ws_subscribes_burst: int = Field(
        default=200, ge=1, description="WebSocket subscribes one principal may make at once."
    )
    # The burst is the most subscriptions a socket may hold: a client resubscribing after a
    # reconnect is never closed though every one of its channels is refused (jobs expired).
    ws_refused_frames_per_minute: int = Field(
        default=120,
        ge=1,
        description=(
            "Frames one WebSocket may send that are answered with an error (bad_json, "
            "unknown_type, a refused subscribe...), per minute; over budget it is closed (4008)."
        ),
    )
    ws_refused_frames_burst: int = Field(
        default=200, ge=1, description="Refused frames one WebSocket may send at once."
    )
    chat_max_rooms_per_principal: int = Field(
        default=20,
        ge=1,
        description="Chat rooms one principal may be in at once, across all its sockets.",
    )
    chat_empty_room_ttl: int = Field(
        default=600,
        ge=1,
        description="Seconds a chat room's history is kept once nobody is in it.",
    )
    rate_orders_per_minute: int = Field(
        default=3000,
        ge=1,
        description=(
            "Orders per principal per minute through `POST /orders/batch` (each order spends one)."
        ),
    )
    rate_orders_burst: int = Field(
        default=500,
        ge=1,
        description=(
            "Orders a principal may send at once in batches; a batch needs as many as it has "
            "orders."
        ),
    )
    quota_active_jobs: int = Field(
        default=1000,
        ge=0,
        description=(
            "File jobs one principal may have queued or running (all api processes); one more "
            "upload answers 429 too_many_active_jobs. 0: no cap."
        ),
    )
    quota_job_records: int = Field(
        default=10_000,
        ge=0,
        description=(
            "Job records kept per principal. Past it the oldest ended jobs are dropped before "
            "their retention ends (410 Gone for an hour, then 404). 0: no cap."
        ),
    )
    quota_open_orders: int = Field(
        default=10_000,
        ge=0,
        description=(
            "Orders one principal may have open (accepted, not yet filled, cancelled or "
            "rejected); past it a new order is rejected too_many_open_orders. 0: no cap."
        ),
    )
    quota_order_records: int = Field(
        default=100_000,
        ge=0,
        description=(
            "Order records kept per principal. Past it the oldest ended orders are dropped "
            "before their retention ends (410 Gone for an hour, then 404). 0: no cap."
        ),
    )
    quota_data_items: int = Field(
        default=10_000,
        ge=0,
        description=(
            "Data items one principal may keep; one more answers 409 too_many_data_items. "
            "0: no cap."
        ),
    )
    redis_maxmemory: int = Field(
        default=1024**3,
        ge=0,
        description=(
            "`maxmemory` of the embedded Redis in bytes (0: no limit). Writes fail past it "
            "(noeviction)."
        ),
    )
    redis_ha_down_after_ms: int = Field(
        default=5000,
        ge=100,
        description=(
            "`jobcast up --ha`: milliseconds the embedded sentinels wait for the primary to "
            "answer before calling it down and failing over (Sentinel's "
            "`down-after-milliseconds`); lower, a failover comes sooner and a pause is "
            "more likely to be taken for a death."
        ),
    )
    redis_eviction_accepted: bool = Field(
        default=False,
        description=(
            "Start on a Redis whose `maxmemory-policy` is not `noeviction` (a warning at each "
            "start, `/readyz` ready). Unset, every process refuses it: a full Redis would drop "
            "jobs, queued tasks and keys without a word."
        ),
    )
    redis_memory_pressure_ratio: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description=(
            "Share of Redis `maxmemory` in use at which `/readyz` answers 503 (memory pressure)."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, `/metrics` needs `Authorization: Bearer <this token>`.",
    )

    @model_validator(mode="after")
    def _time_limits_are_ordered(self) -> Settings:
        if self.job_soft_time_limit >= self.job_time_limit:
            raise ValueError(
                "JOBCAST_JOB_SOFT_TIME_LIMIT must be smaller than JOBCAST_JOB_TIME_LIMIT"
            )
        return self

    @model_validator(mode="after")
    def _largest_snapshot_fits_a_send_queue(self) -> Settings:
        # Otherwise a client subscribing to its own finished job would be closed 4008 each time.
        if self.ws_send_queue_bytes < self.largest_snapshot_bytes:
            raise ValueError(
                "JOBCAST_WS_SEND_QUEUE_BYTES must hold the largest job snapshot: at least "
                f"{self.largest_snapshot_bytes} (JOBCAST_JOB_MAX_RESULT_BYTES plus 3 x "
                "JOBCAST_MAX_JSON_BODY_BYTES)"
            )
        return self

    @model_validator(mode="after")
    def _a_full_send_queue_fits_a_principal_budget(self) -> Settings:
        # Otherwise the budget, not the socket's own queue, would close a principal's only
        # socket receiving the largest snapshot. Not one snapshot per socket (100 x 19 MiB by
        # default): the budget bounds text queued but unwritten, which only a client that stops
        # reading keeps, and a tenant's hundred such sockets are what it is for.
        if self.ws_send_queue_bytes_per_principal < self.ws_send_queue_bytes:
            raise ValueError(
                "JOBCAST_WS_SEND_QUEUE_BYTES_PER_PRINCIPAL must hold one socket's full send "
                f"queue: at least JOBCAST_WS_SEND_QUEUE_BYTES ({self.ws_send_queue_bytes})"
            )
        return self

    @property
    def largest_snapshot_bytes(self) -> int:
        """A bound on a `job.{id}` snapshot's text: the result as the record keeps it, plus the
        params, at most one JSON body, which the record's ASCII JSON can make 3x longer (a
        2-byte UTF-8 character is written `\\u00e9`)."""
        return self.job_max_result_bytes + 3 * self.max_json_body_bytes

    @property
    def visibility_timeout(self) -> int:
        """Broker redelivery delay: longer than the longest hard limit, or a running task
        would be handed to a second worker while the first still works on it."""
        return self.job_time_limit * 2 + 60

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with `changes` applied (model_copy would skip validation)."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def require_secrets(
        self, also: tuple[str, ...] = (), names: tuple[str, ...] = REQUIRED_SECRETS
    ) -> None:
        """Refuse to start a production process without its secrets, `names` and `also`,
        naming every one missing at once."""
        if self.dev:
            return
        missing = []
        for name in (*names, *also):
            value: Any = getattr(self, name)
            if value is None or not value.get_secret_value():
                missing.append(f"JOBCAST_{name.upper()}")
        if len(missing) == 1:
            raise InsecureSettingsError(
                f"{missing[0]} is not set. Set it (or JOBCAST_DEV=1 for development)."
            )
        if missing:
            raise InsecureSettingsError(
                f"{', '.join(missing)} are not set. Set them (or JOBCAST_DEV=1 for development)."
            )

    def secret(self, name: str) -> str:
        """The plain value of a secret field, or an error naming its variable."""
        value: SecretStr | None = getattr(self, name)
        if value is None:
            raise InsecureSettingsError(f"JOBCAST_{name.upper()} is not set.")
        return value.get_secret_value()

    @property
    def cors_origin_regex(self) -> str | None:
        """Dev mode without `cors_origins`: any localhost origin, so a separate frontend dev
        server can call the api. Never outside dev mode."""
        return DEV_ORIGIN_REGEX if self.dev and not self.cors_origins else None

    @field_validator("log_level")
    @classmethod
    def _log_level_is_known(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_readable(cls, value: str | None) -> str | None:
        # Checked here, not where a client is built: every process then failed in its own way
        # (a traceback, Celery's "no attribute 'RedisBackend+…'"), never naming the variable.
        problem = redis_url_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels_are_host_port(cls, value: str) -> str:
        sentinel_addresses(value)  # raises on a malformed entry, naming it
        return value

    @property
    def sentinels(self) -> list[tuple[str, int]]:
        """The sentinels' addresses; empty when Redis is reached by URL."""
        return sentinel_addresses(self.redis_sentinels)

    @property
    def broker_url(self) -> str:
        """The URL Celery and kombu are given: `sentinel://…;sentinel://…` behind Sentinel
        (with the primary's password and database 0), else `JOBCAST_REDIS_URL`."""
        if self.sentinels:
            password = quote(self.secret("redis_password"), safe="") if self.redis_password else ""
            auth = f":{password}@" if password else ""
            return ";".join(f"sentinel://{auth}{host}:{port}/0" for host, port in self.sentinels)
        if not self.redis_url:
            raise InsecureSettingsError(
                "JOBCAST_REDIS_URL is not set. Start the stack with `jobcast up`, or point it at a "
                "Redis."
            )
        return self.redis_url


def sentinel_addresses(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` as pairs (an empty string: none)."""
    addresses = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"JOBCAST_REDIS_SENTINELS: {entry!r} is not host:port")
        addresses.append((host, int(port)))
    return addresses


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment.

    A setting at fault ends the process (exit 2) with one line naming it, as `jobcast up`
    refuses it: an api or worker started by hand (the README's scale-out commands) otherwise
    died under a screenful of pydantic's traceback."""
    try:
        return load_settings()
    except ConfigurationError as exc:
        print(f"jobcast error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def load_settings() -> Settings:
    """Settings from the environment and `.env`, or ConfigurationError naming each variable
    at fault in a line: pydantic's own error is a screenful, under a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(_invalid(exc)) from None
    except SettingsError as exc:
        # Raised before validation, for a list or dict setting whose value is not JSON.
        field = re.search(r'field "(\w+)"', str(exc))
        name = f"JOBCAST_{field.group(1).upper()}" if field else "a JOBCAST_ setting"
        raise ConfigurationError(
            f"{name} could not be read: list and dict settings are written as JSON, "
            "e.g. JOBCAST_CORS_ORIGINS='[\"https://app.example\"]'."
        ) from None


def _invalid(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = error["loc"]
        name = f"JOBCAST_{str(where[0]).upper()}" if where else "the settings"
        given = f" (got {_shown(where[0], error['input'])!r})" if where and "input" in error else ""
        problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}{given}")
    return "; ".join(problems) + "."


def _shown(field: str | int, value: Any) -> Any:
    """A value at fault as a message may show it: a Redis URL without its password."""
    return masked_url(value) if field == "redis_url" and isinstance(value, str) else value
