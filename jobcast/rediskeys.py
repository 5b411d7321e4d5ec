"""Every Redis key and channel name Jobcast uses, in one place.

All of Jobcast's own names start with `PREFIX`, so one Redis can be shared with other software and
`SCAN jobcast:*` finds everything of ours. A function builds a name that carries an id; a constant
is a single key. The comment of each says what Redis type lives there and who writes it.
kombu's names (`unacked`, priority queues, the event topic) are listed too: Jobcast reads them
(and writes a file job's task message where kombu would), never owns them. The
queue names themselves are Celery settings and live in `celeryconfig.py` with the rest.
"""

from __future__ import annotations

import hashlib

PREFIX = "jobcast:"

# --- Celery (kombu's Redis transport) -------------------------------------------------------

#: kombu's hash of messages a worker took but has not acked (tag -> message), restored to their
#: queue after the visibility timeout.
UNACKED_KEY = "unacked"
#: kombu's sorted set of when (epoch seconds) each unacked message was taken, by delivery tag.
UNACKED_INDEX_KEY = "unacked_index"
#: kombu names priority sub-queues `<queue><PRIORITY_SEP><priority>` for these priorities.
PRIORITY_SEP, PRIORITIES = "\x06\x16", (3, 6, 9)


def priority_queue(queue: str, priority: int) -> str:
    """kombu's Redis list of `queue`'s messages of `priority` (one of 0 and `PRIORITIES`): 0
    is the queue's own list, taken from first, then 3, 6 and 9 (`Channel._q_for_pri`)."""
    return f"{queue}{PRIORITY_SEP}{priority}" if priority else queue


def queue_lists(queue: str) -> tuple[str, ...]:
    """Every Redis list holding `queue`'s waiting messages, one per priority: its depth is the
    sum of their lengths."""
    return tuple(priority_queue(queue, p) for p in (0, *PRIORITIES))


def celery_event_topic(db: int, event_type: str) -> str:
    """The pub/sub channel kombu publishes a Celery event of `event_type` on (`task-sent`):
    `/<db>.<exchange>/<routing key>` (its `fanout_prefix` and `fanout_patterns`, both on by
    default), the exchange `celeryev` and the type with `.` for `-` as routing key."""
    return f"/{db}.celeryev/{event_type.replace('-', '.')}"


def celery_result_key(task_id: str) -> str:
    """The Redis result backend's record of a task (Celery's default `task-meta` key prefix); a
    file job's task id is the job id."""
    return f"celery-task-meta-{task_id}"


# --- Events -----------------------------------------------------------------------------------


def stream_key(channel: str) -> str:
    """Capped stream of a channel's recent events, kept for replay (`jobcast.events`)."""
    return f"{PREFIX}stream:{channel}"


#: Prefix of the pub/sub channels live events are published on (`<prefix><channel>`).
EVENTS_PREFIX = f"{PREFIX}events:"


def pubsub_channel(channel: str) -> str:
    """The Redis pub/sub channel the live events of `channel` are published on."""
    return EVENTS_PREFIX + channel


def no_record_key(channel: str) -> str:
    """The record an event-only commit names (chat, monitor, market data); never written."""
    return f"{PREFIX}nil:{channel}"


def hub_control_channel(token: str) -> str:
    """A pub/sub channel one hub holds so its connection exists with no event channel."""
    return f"{PREFIX}hub:{token}"


# --- Records and their indexes ----------------------------------------------------------------


def tombstone_key(record_key: str) -> str:
    """Plain key holding the owner of the expired record at `record_key` (410, not 404)."""
    return f"{record_key}:gone"


def job_key(job_id: str) -> str:
    """Hash: a file job's record."""
    return f"{PREFIX}job:{job_id}"


def jobs_of_key(owner: str) -> str:
    """Sorted set of the owner's job ids, scored by creation time (for listing)."""
    return f"{PREFIX}jobs-of:{owner}"


#: Set of the ids of jobs a task must still move on (queued, running, retrying, cancelling), so
#: the reconciler reads those, not every record kept: a job joins and leaves it in the commit
#: that changes its status (`jobcast.jobs.records.transition`). An entry whose record expired
#: or ended is dropped by the next sweep (`workers.unfinished_jobs`).
UNFINISHED_JOBS_KEY = f"{PREFIX}jobs-unfinished"
#: Plain key set once the reconciler has put every unfinished job of a Redis written without
#: the index into it (`workers.unfinished_jobs`).
UNFINISHED_JOBS_BUILT_KEY = f"{PREFIX}jobs-unfinished:built"


def job_idempotency_key(owner: str, key: str) -> str:
    """Plain key: `Idempotency-Key` -> the job it created, per owner."""
    return f"{PREFIX}job-idem:{owner}:{key}"


def data_item_key(item_id: str) -> str:
    """Hash: a data item."""
    return f"{PREFIX}data:{item_id}"


def data_of_key(owner: str) -> str:
    """Sorted set of the owner's data items (for listing)."""
    return f"{PREFIX}data:owner:{owner}"


def order_key(order_id: str) -> str:
    """Hash: an order's record."""
    return f"{PREFIX}order:{order_id}"


def orders_of_key(principal_id: str) -> str:
    """Sorted set (all scores 0) of `<created ms>:<order id>`, walked by ZRANGEBYLEX."""
    return f"{PREFIX}orders:owner:{principal_id}"


#: Hash: principal -> how many of its orders are open (accepted and not yet ended), raised by
#: the accepting script and lowered by the matching step that ends each (`quota_open_orders`).
OPEN_ORDERS_KEY = f"{PREFIX}orders:open"


def client_order_id_key(principal_id: str, client_order_id: str) -> str:
    """Plain key: a principal's `client_order_id` -> the order it named."""
    return f"{PREFIX}orders:cid:{principal_id}:{client_order_id}"


# --- Matching (per symbol) --------------------------------------------------------------------


def inbound_key(symbol: str) -> str:
    """The symbol's inbound log (a stream): accepted orders and cancels, in matching order."""
    return f"{PREFIX}orders:in:{symbol}"


def pending_key(symbol: str) -> str:
    """Set while a matching task for the symbol is queued but not started: one send covers many."""
    return f"{PREFIX}orders:pending:{symbol}"


def market_key(symbol: str) -> str:
    """Hash: committed inbound-log cursor, trade sequence, last price, top of book, depth."""
    return f"{PREFIX}market:{symbol}"


def book_key(symbol: str) -> str:
    """Hash: resting order id -> its compact state, enough to rebuild the book in a fresh worker."""
    return f"{PREFIX}book:{symbol}"


def trades_key(symbol: str) -> str:
    """List of the symbol's recent trades, newest first."""
    return f"{PREFIX}market:{symbol}:trades"


def order_lease_key(symbol: str) -> str:
    """Plain key: the worker that matches the symbol now (a lease with a TTL)."""
    return f"{PREFIX}orders:lease:{symbol}"


def order_fence_key(symbol: str) -> str:
    """Counter bumped at each lease take-over: a step from an older holder is refused."""
    return f"{PREFIX}orders:fence:{symbol}"


def order_watch_key(symbol: str) -> str:
    """Set while a delayed check of a busy symbol is scheduled (one, not one per waiting task)."""
    return f"{PREFIX}orders:watch:{symbol}"


def quota_ledger_key(owner: str) -> str:
    """Hash: what the owner has stored, by entry (uploads in progress, waiting, converted files)."""
    return f"{PREFIX}quota:stored:{owner}"


def files_running_key(owner: str) -> str:
    """Sorted set of the owner's file jobs holding a slot, scored by their deadline."""
    return f"{PREFIX}files:running:{owner}"


def files_waiting_key(owner: str) -> str:
    """Sorted set of the owner's file jobs queued and not yet started, scored by enqueue time."""
    return f"{PREFIX}files:waiting:{owner}"


#: Sorted set of principals with a waiting file job, scored by their newest job's enqueue time.
WAITING_OWNERS_KEY = f"{PREFIX}files:waiting-owners"


# --- Tasks and their recovery -----------------------------------------------------------------


def task_deaths_key(task_id: str) -> str:
    """Counter of the processes that died running `task_id`."""
    return f"{PREFIX}task-deaths:{task_id}"


def task_running_key(task_id: str) -> str:
    """Set while a delivery of `task_id` runs; left behind when its process dies."""
    return f"{PREFIX}task-running:{task_id}"


#: Plain key: the worker running the reconciler now (a lease).
RECONCILER_LEASE_KEY = f"{PREFIX}reconciler:lease"
#: Hash: symbol -> when (ms) the reconciler last sent it a task.
SYMBOL_RESENDS_KEY = f"{PREFIX}reconciler:symbol-resends"

# --- The cluster ------------------------------------------------------------------------------

#: Plain key: the token of the storage (data directory) every api process and files worker
#: shares, as its `storage-id` file holds it (`jobcast.shared_storage`).
STORAGE_ID_KEY = f"{PREFIX}storage-id"

#: Plain key: proof of the key secret the cluster's API keys are made and checked with, an HMAC
#: of a fixed label under it, never the secret itself (`jobcast.cluster_key_secret`).
KEY_SECRET_FINGERPRINT_KEY = f"{PREFIX}key-secret-fingerprint"

# --- Workers and the monitor ------------------------------------------------------------------

#: Hash: worker hostname -> {"queues": [...], "holds": [task ids], "pid": ..., "ts": ...}
#: (`jobcast.worker_registry`).
WORKERS_KEY = f"{PREFIX}workers"


def worker_name_key(hostname: str) -> str:
    """The mark of the live worker process that holds the node name `hostname` (`-n`), a lease
    its heartbeat extends (`jobcast.worker_registry`)."""
    return f"{PREFIX}worker-name:{hostname}"


#: Plain key: the api process producing the monitor's samples now (a lease).
MONITOR_LEASE_KEY = f"{PREFIX}monitor:lease"
#: Hash: hostname -> JSON of the host's figures.
HOSTS_KEY = f"{PREFIX}monitor:hosts"
#: Hash: "<kind>:<host>:<pid>" -> JSON of one process's figures.
PROCESSES_KEY = f"{PREFIX}monitor:processes"
#: Counters of tasks started and finished, incremented by workers.
TASKS_STARTED_KEY = f"{PREFIX}monitor:tasks-started"
TASKS_FINISHED_KEY = f"{PREFIX}monitor:tasks-finished"
#: Plain key a worker writes just before it asks Redis to WAIT for a replica
#: (`jobcast.replication`): a write of its own connection after the ones it waits for.
REPLICATION_PROBE_KEY = f"{PREFIX}replication:probe"
#: Sorted set: uploads kept because no replica confirmed their job's end, "<stored> <job id>"
#: by when (`jobcast.kept_uploads`).
KEPT_UPLOADS_KEY = f"{PREFIX}uploads:kept"
#: Prefix of the cluster-wide metric hashes (`jobcast.tallies`).
METRICS_PREFIX = f"{PREFIX}metrics:"

# --- API keys, rate limits, WebSockets --------------------------------------------------------

#: Hash: key id -> JSON of KeyInfo (for listing and revocation).
API_KEYS_KEY = f"{PREFIX}apikeys"
#: Pub/sub channel a revoked key's id is published on, so every api process closes its sockets.
KEY_REVOKED_CHANNEL = f"{PREFIX}keys:revoked"


def api_key_lookup_key(digest: str) -> str:
    """Plain key: an API key's digest -> its principal."""
    return f"{PREFIX}apikey:{digest}"


def rate_limit_key(budget: str, who: str) -> str:
    """Plain key: the GCRA "theoretical arrival time" of `who` in `budget` (`jobcast.ratelimit`)."""
    return f"{PREFIX}rl:{budget}:{who}"


def ws_ticket_key(ticket: str) -> str:
    """Plain key: a one-time WebSocket ticket -> its principal (stored by digest, never as is)."""
    return f"{PREFIX}wsticket:{hashlib.sha256(ticket.encode()).hexdigest()}"


def ws_connections_key(principal_id: str) -> str:
    """Sorted set of a principal's open WebSockets, scored by when each entry expires."""
    return f"{PREFIX}ws:conns:{principal_id}"


def presence_key(room_channel: str) -> str:
    """Sorted set of who is in a chat room, scored by when each entry expires."""
    return f"{PREFIX}presence:{room_channel}"


def chat_messages_key(room_channel: str) -> str:
    """List of a chat room's last messages as published, oldest first (`realtime.chat`)."""
    return f"{PREFIX}chat:messages:{room_channel}"


def chat_rooms_key(principal_id: str) -> str:
    """The rooms a principal is in: room channel -> when its last presence entry expires."""
    return f"{PREFIX}chat:rooms:{principal_id}"
