"""The soak's load: principals sending file jobs and orders through the api, retrying through
faults without doubling anything (Idempotency-Key, client_order_id), and recording what the api
accepted: an answer that came back is an acceptance; a request whose answer was lost is sent
again with the same key until one comes back."""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from jobcast.jobs.records import TERMINAL
from jobcast.orders.symbols import DEFAULT_SYMBOLS

#: Symbols the traders trade, around these mid prices (ticks).
SYMBOLS = {"BTC-USD": 200, "ETH-USD": 2000, "ACME": 100}
#: The probe's symbol: nobody rests orders there, so its IOC order ends at its first match step.
PROBE_SYMBOL = "SOL-USD"


@dataclass(frozen=True)
class Shape:
    """How heavy the load is: principals of each kind, jobs each keeps unfinished, the pause
    (seconds, drawn uniformly) between a trader's orders."""

    job_senders: int = 3
    traders: int = 3
    jobs_in_flight: int = 2
    order_pause: tuple[float, float] = (0.1, 0.4)


#: A load a 2-core machine carries beside the stack while faults are injected (the short soak).
LIGHT = Shape(job_senders=2, traders=2, jobs_in_flight=1, order_pause=(0.3, 0.8))


class GaveUp(Exception):
    """The api gave no answer for longer than the retry deadline."""


@dataclass
class Principal:
    name: str
    key: str
    principal_id: str
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(headers={"Authorization": f"Bearer {self.key}"}, timeout=15)

    def call(
        self, base: str, method: str, path: str, deadline: float = 120, **kw: Any
    ) -> httpx.Response:
        """The api's answer, sent again on a lost connection or a 5xx (the api or Redis was
        down) until `deadline` seconds have passed."""
        give_up = time.monotonic() + deadline
        while True:
            try:
                response = self.http.request(method, base + path, **kw)
                if response.status_code < 500:
                    return response
            except httpx.TransportError:
                pass
            if time.monotonic() > give_up:
                raise GaveUp(f"{method} {path}")
            time.sleep(0.2)


@dataclass
class Ledger:
    """What the api accepted, in the order its answers came back."""

    jobs: dict[str, tuple[str, Path]] = field(default_factory=dict)  # id -> (principal, file)
    orders: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (principal, symbol)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def job(self, job_id: str, principal: str, path: Path) -> None:
        with self.lock:
            self.jobs[job_id] = (principal, path)

    def order(self, order_id: str, principal: str, symbol: str) -> None:
        with self.lock:
            self.orders[order_id] = (principal, symbol)


def submit_job(base: str, who: Principal, path: Path) -> str:
    key = uuid.uuid4().hex
    with path.open("rb") as f:
        content = f.read()
    response = who.call(
        base,
        "POST",
        "/jobs",
        files={"file": (path.name, content)},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def job_status(base: str, who: Principal, job_id: str) -> str:
    response = who.call(base, "GET", f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def place_order(base: str, who: Principal, order: dict[str, Any]) -> dict[str, Any]:
    order = {**order, "client_order_id": uuid.uuid4().hex}
    response = who.call(base, "POST", "/orders", json=order)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def random_order(rng: random.Random) -> dict[str, Any]:
    symbol = rng.choice(list(SYMBOLS))
    rules = DEFAULT_SYMBOLS[symbol]
    order: dict[str, Any] = {
        "symbol": symbol,
        "side": rng.choice(["buy", "sell"]),
        "quantity": rng.randint(1, 10) * rules.lot_size,
    }
    if rng.random() < 0.2:
        order["self_trade_prevention"] = rng.choice(["cancel_newest", "cancel_oldest"])
    if rng.random() < 0.05:
        return {**order, "type": "market"}
    ticks = SYMBOLS[symbol] + rng.randint(-5, 5)
    tif = "IOC" if rng.random() < 0.2 else "GTC"
    return {**order, "price": rules.price_text(ticks), "time_in_force": tif}


class Load:
    """Threads that keep sending jobs and orders until `stop` is set."""

    def __init__(
        self, base: str, ledger: Ledger, files: list[Path], seed: int, shape: Shape
    ) -> None:
        self.base, self.ledger, self.files, self.seed = base, ledger, files, seed
        self.shape = shape
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []
        #: New job ids per principal name, for that principal's WebSocket client to follow.
        self.new_jobs: dict[str, list[str]] = {}

    def start(self, job_senders: list[Principal], traders: list[Principal]) -> None:
        for i, who in enumerate(job_senders):
            self.new_jobs[who.name] = []
            self._spawn(self._send_jobs, who, random.Random(self.seed * 100 + i))
        for i, who in enumerate(traders):
            self._spawn(self._trade, who, random.Random(self.seed * 100 + 50 + i))

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=self._guarded, args=(target, *args), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _guarded(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except (AssertionError, GaveUp) as err:
            self.errors.append(f"{target.__name__}: {err}")

    def _send_jobs(self, who: Principal, rng: random.Random) -> None:
        in_flight: list[str] = []
        while not self.stop.is_set():
            in_flight = [j for j in in_flight if job_status(self.base, who, j) not in TERMINAL]
            if len(in_flight) >= self.shape.jobs_in_flight:
                self.stop.wait(0.5)
                continue
            path = rng.choice(self.files)
            job_id = submit_job(self.base, who, path)
            self.ledger.job(job_id, who.name, path)
            self.new_jobs[who.name].append(job_id)
            in_flight.append(job_id)
            self.stop.wait(rng.uniform(0.2, 1.0))

    def _trade(self, who: Principal, rng: random.Random) -> None:
        mine: list[str] = []
        while not self.stop.is_set():
            if mine and rng.random() < 0.1:
                response = who.call(self.base, "DELETE", f"/orders/{rng.choice(mine)}")
                assert response.status_code in (202, 409), response.text
            order = random_order(rng)
            placed = place_order(self.base, who, order)
            self.ledger.order(placed["id"], who.name, order["symbol"])
            mine.append(placed["id"])
            self.stop.wait(rng.uniform(*self.shape.order_pause))

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=150)


class Unfinished(Exception):
    """The probe's job or order (which one, and its status, in the message) did not finish in
    time."""


#: Statuses in which the probe's IOC order is done.
ORDER_DONE = ("filled", "cancelled", "rejected")


def probe(base: str, who: Principal, path: Path, ledger: Ledger, timeout: float = 120) -> float:
    """Seconds until a new job and a new order both went through (the stack works again);
    raises Unfinished naming the part still not done after `timeout` seconds."""
    start = time.monotonic()
    job_id = submit_job(base, who, path)
    ledger.job(job_id, who.name, path)
    order = {
        "symbol": PROBE_SYMBOL,
        "side": "buy",
        "quantity": DEFAULT_SYMBOLS[PROBE_SYMBOL].lot_size,
        "price": DEFAULT_SYMBOLS[PROBE_SYMBOL].price_text(1),
        "time_in_force": "IOC",
    }
    placed = place_order(base, who, order)
    ledger.order(placed["id"], who.name, PROBE_SYMBOL)
    while True:
        job = job_status(base, who, job_id)
        order_status = who.call(base, "GET", f"/orders/{placed['id']}").json()["status"]
        if job in TERMINAL and order_status in ORDER_DONE:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            parts = [f"job {job_id} {job}"] if job not in TERMINAL else []
            parts += (
                [f"order {placed['id']} {order_status}"] if order_status not in ORDER_DONE else []
            )
            raise Unfinished(f"{' and '.join(parts)} after {timeout:.0f} s")
        time.sleep(0.2)
