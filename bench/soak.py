"""A soak: a mixed load under random faults, then the accounting.

`python bench/soak.py --faults 100`.

For as long as it takes to inject `--faults` faults (one at a time, each followed by a probe job
and a probe order, timed: the recovery time), principals send file jobs of three sizes and
order streams on three symbols, and each principal's WebSocket client follows `user.me`, a
market and its jobs, dropping and resuming with `since`. Faults, drawn at random, every kind at
least once: SIGKILL of a `files` pool process, of an `orders` pool process, of a worker's main
process (restarted), of the api (restarted), SIGSTOP of a worker past the matching lease then
SIGCONT, SIGKILL of Redis (restarted from its AOF, `appendfsync always`).

Then: every accepted job ended once, `succeeded`, with the result of a fault-free run of its
file; every accepted order, the trades and the books equal the reference model fed the accepted
commands in acceptance order; every WebSocket client saw each event once, in order; nothing
stuck after the reconciler's bound. Prints the figures; exits 1 if anything was lost, doubled,
stuck or wrong. Accepted means the api's answer came back (a request whose answer was lost is
sent again with the same Idempotency-Key or client_order_id).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.soak_check import Tally, WsTally, check_jobs, check_orders, check_ws, drained  # noqa: E402
from bench.soak_load import (  # noqa: E402
    LIGHT,
    SYMBOLS,
    GaveUp,
    Ledger,
    Load,
    Principal,
    Shape,
    Unfinished,
    probe,
    submit_job,
)
from bench.soak_stack import FAULTS, RECONCILE_BOUND, FaultNotPossible, SoakStack  # noqa: E402
from bench.soak_ws import WsClient  # noqa: E402
from jobcast.jobs.records import TERMINAL  # noqa: E402
from jobcast.keys import create_key  # noqa: E402
from jobcast.rediskeys import job_key, stream_key  # noqa: E402
from tests.workers.files.support import write_csv  # noqa: E402

#: Rows of the files the jobs process (CSV of about 15 KB, 150 KB, 1 MB).
FILE_ROWS = (200, 2_000, 12_000)
#: Seconds the stack gets after the load stops to finish what it accepted.
SETTLE_SECONDS = RECONCILE_BOUND + 80
#: Seconds the WebSocket clients get, once the stack settled, to resume and read the last events.
CATCH_UP_SECONDS = 60


@dataclass
class Report:
    faults: Counter[str] = field(default_factory=Counter)
    recovery: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    jobs: Tally = field(default_factory=Tally)
    orders: Tally = field(default_factory=Tally)
    ws: WsTally = field(default_factory=WsTally)
    load_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Workers that exited on their own (a pool process killed while the worker started) and
    #: were restarted, as a supervisor would.
    revived: int = 0
    #: Which part of a probe did not finish, per fault the stack did not recover from.
    unrecovered: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        parts, ws = (self.jobs, self.orders), self.ws
        ws_doubled = ws.duplicated + ws.terminal_job_events_doubled
        return {
            "lost": sum(p.lost for p in parts) + ws.missing + ws.terminal_job_events_missing,
            "duplicated": sum(p.duplicated for p in parts) + ws_doubled,
            "stuck": sum(p.stuck for p in parts),
            "wrong": sum(p.wrong for p in parts) + ws.out_of_order + len(self.load_errors),
        }

    def lines(self) -> list[str]:
        faults = sum(self.faults.values())
        out = [
            f"soak: {faults} faults in {self.seconds:.0f} s; workers that exited on their own"
            f" and were restarted: {self.revived}"
        ]
        out.append("fault kind          count  recovery p50  max")
        for kind in FAULTS:
            times = self.recovery.get(kind) or [float("nan")]
            median, worst = statistics.median(times), max(times)
            out.append(f"  {kind:<18}{self.faults[kind]:>5}  {median:>9.1f} s  {worst:>5.1f} s")
        for name, t in (("jobs", self.jobs), ("orders", self.orders)):
            out.append(
                f"{name:<7} accepted {t.accepted:>6}  lost {t.lost}  duplicated {t.duplicated}"
                f"  stuck {t.stuck}  wrong {t.wrong}"
            )
        w = self.ws
        out.append(
            f"ws      clients {w.clients}  events {w.events}  sessions {w.sessions}"
            f"  resyncs {w.resyncs}  missing {w.missing}  duplicated {w.duplicated}"
            f"  out of order {w.out_of_order}"
        )
        out.append(f"ws      errors answered {dict(w.errors)}")
        out.append(
            f"ws      terminal job events missing {w.terminal_job_events_missing}"
            f"  doubled {w.terminal_job_events_doubled}"
        )
        out.append("totals  " + "  ".join(f"{k} {v}" for k, v in self.totals().items()))
        notes = self.unrecovered + self.load_errors + self.jobs.notes + self.orders.notes
        notes += self.ws.notes
        return out + [f"  ! {n}" for n in notes[:40]]


@dataclass(frozen=True)
class Plan:
    """What to inject and under which load."""

    faults: int
    seed: int = 1
    shape: Shape = field(default_factory=Shape)
    kinds: tuple[str, ...] = tuple(FAULTS)
    #: Seconds (drawn uniformly) between the end of one fault and the next.
    pause: tuple[float, float] = (0.5, 2.0)
    #: Wait for the stack to recover before the next fault (False: faults overlap recoveries,
    #: each still timed from its own fault).
    wait_recovery: bool = True


def run_soak(plan: Plan, workdir: Path, say: Callable[[str], Any] = print) -> Report:
    """Start a stack under `workdir`, soak it as planned, check, stop it."""
    started = time.monotonic()
    stack = SoakStack(workdir)
    try:
        report = _soak(stack, plan, say)
    finally:
        stack.stop()
    report.seconds = time.monotonic() - started
    return report


def _soak(stack: SoakStack, plan: Plan, say: Callable[[str], Any]) -> Report:
    rng, report, ledger = random.Random(plan.seed), Report(), Ledger()
    files = [write_csv(stack.workdir / f"rows{n}.csv", n, seed=n) for n in FILE_ROWS]
    senders = [f"jobs-{i}" for i in range(plan.shape.job_senders)]
    traders = [f"trader-{i}" for i in range(plan.shape.traders)]
    people = {n: principal(stack, n) for n in [*senders, *traders, "probe"]}
    load = Load(stack.url, ledger, files, plan.seed, plan.shape)
    load.start([people[n] for n in senders], [people[n] for n in traders])
    markets = list(SYMBOLS)
    clients = [
        WsClient(
            p.name,
            stack.url,
            p.key,
            p.principal_id,
            markets[i % len(markets)],
            load.new_jobs.get(p.name),
            plan.seed + i,
        ).start()
        for i, p in enumerate(people.values())
    ]
    probes: list[threading.Thread] = []
    for n, kind in enumerate(schedule(plan.faults, plan.kinds, rng), 1):
        time.sleep(rng.uniform(*plan.pause))
        stack.revive()
        start = time.monotonic()
        hit = inject(stack, kind, rng)
        say(f"{time.strftime('%H:%M:%S')} fault {n}/{plan.faults}: {kind} ({hit})")
        measure = threading.Thread(
            target=recover,
            args=(stack, people["probe"], files[0], ledger, report, kind, start, say),
        )
        measure.start()
        probes.append(measure)
        if plan.wait_recovery:
            measure.join()
    for measure in probes:
        while measure.is_alive():  # keep the workers up until every recovery is timed
            stack.revive()
            measure.join(timeout=1)
    load.join()
    report.load_errors = load.errors
    settle(stack, ledger)
    report.revived = stack.revived
    baseline = fault_free_results(stack, people["probe"], files)
    wait_for_clients(stack, clients)
    for client in clients:
        client.join()
    results = job_results(stack, ledger, people)
    report.jobs = check_jobs(stack.client, ledger.jobs, results, baseline)
    report.orders = check_orders(stack.client, ledger.orders)
    report.ws = check_ws(stack.client, clients, ledger.jobs)
    return report


def principal(stack: SoakStack, name: str) -> Principal:
    key, info = create_key(stack.client, stack.settings.secret("key_secret"), name)
    return Principal(name, key, info.principal_id)


def schedule(faults: int, kinds_: tuple[str, ...], rng: random.Random) -> list[str]:
    """`faults` fault kinds in random order, each kind at least once."""
    kinds = list(kinds_)
    drawn = kinds + rng.choices(kinds, k=max(0, faults - len(kinds)))
    rng.shuffle(drawn)
    return drawn


def inject(stack: SoakStack, kind: str, rng: random.Random) -> str:
    """What was hit, once the fault and any restart are done (a restarted worker may take a
    while to have its pool again on a busy machine)."""
    for _ in range(450):
        try:
            return FAULTS[kind](stack, rng)
        except FaultNotPossible:
            stack.revive()  # the target may be a worker that gave up while starting
            time.sleep(0.2)
    raise RuntimeError(f"could not inject {kind}")


def recover(
    stack: SoakStack,
    who: Principal,
    path: Path,
    ledger: Ledger,
    report: Report,
    kind: str,
    start: float,
    say: Callable[[str], Any],
) -> None:
    """Time from the fault until a new job and a new order went through (the stack works);
    when they did not within the probe's patience: inf, and which part did not, in the report."""
    try:
        probe(stack.url, who, path, ledger)
        took, missed = time.monotonic() - start, ""
    except (Unfinished, GaveUp) as err:
        took = float("inf")
        injected = time.localtime(time.time() - (time.monotonic() - start))
        what = f"the probe's {err}" if isinstance(err, Unfinished) else f"no answer to {err}"
        missed = f"{kind} at {time.strftime('%H:%M:%S', injected)}: not recovered, {what}"
    with report.lock:
        report.faults[kind] += 1
        report.recovery[kind].append(took)
        if missed:
            report.unrecovered.append(missed)
    say(f"{time.strftime('%H:%M:%S')}   {kind}: " + (missed or f"recovered in {took:.1f} s"))


def unfinished(stack: SoakStack, ledger: Ledger) -> int:
    statuses = [stack.client.hget(job_key(j), "status") for j in ledger.jobs]
    symbols = {symbol for _, symbol in ledger.orders.values()}
    jobs_left = sum(s not in TERMINAL for s in statuses)
    books_left = sum(not drained(stack.client, s) for s in symbols)
    return jobs_left + books_left


def behind(stack: SoakStack, client: WsClient) -> bool:
    """Whether the client has not yet received its complete channels' newest events."""
    for channel, seen in client.last_seen().items():
        newest = stack.client.xrevrange(stream_key(channel), count=1)
        if newest and newest[0][0] != seen:
            return True
    return False


def wait_for_clients(stack: SoakStack, clients: list[WsClient]) -> None:
    """Until every client caught up (a client between sessions, or refused, resumes a little
    later; a fixed pause checked some mid-resume), bounded: one that never does is reported."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while any(behind(stack, c) for c in clients) and time.monotonic() < deadline:
        time.sleep(0.5)


def settle(stack: SoakStack, ledger: Ledger) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while unfinished(stack, ledger) and time.monotonic() < deadline:
        stack.revive()
        time.sleep(0.5)


def fault_free_results(stack: SoakStack, who: Principal, files: list[Path]) -> dict[Path, Any]:
    """Each file's result from a run with no fault (the faults are over)."""
    ids = {path: submit_job(stack.url, who, path) for path in files}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(stack.client.hget(job_key(j), "status") in TERMINAL for j in ids.values()):
            break
        time.sleep(0.2)
    return {path: who.call(stack.url, "GET", f"/jobs/{j}/result").json() for path, j in ids.items()}


def job_results(stack: SoakStack, ledger: Ledger, people: dict[str, Principal]) -> dict[str, Any]:
    results = {}
    for job_id, (name, _) in ledger.jobs.items():
        if stack.client.hget(job_key(job_id), "status") == "succeeded":
            results[job_id] = people[name].call(stack.url, "GET", f"/jobs/{job_id}/result").json()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--faults", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--light", action="store_true", help="the short soak's lighter load")
    parser.add_argument(
        "--overlap", action="store_true", help="next fault without waiting for recovery"
    )
    parser.add_argument(
        "--only", action="append", choices=list(FAULTS), help="inject only these kinds"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jobcast-soak-"))
    shape = LIGHT if args.light else Shape()
    plan = Plan(
        args.faults, args.seed, shape, tuple(args.only or FAULTS), wait_recovery=not args.overlap
    )
    report = run_soak(plan, workdir)
    print("\n".join(report.lines()))
    if args.keep:
        print(f"logs: {workdir}/logs")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if any(report.totals().values()) else 0)


if __name__ == "__main__":
    main()
