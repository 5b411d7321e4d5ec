"""`jobcast watch`: channels' events as JSON lines, resuming across drops."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import closing
from typing import Annotated, Any

import typer

from jobcast.client import Event, StreamOptions, errors
from jobcast.client.resume import SEQ_FORM, is_seq
from jobcast.client.waiting import TERMINAL, raise_outcome
from jobcast.client_cli.common import (
    client_session,
    err_console,
    fail_usage,
    flowing_help,
    report_error,
)
from jobcast.client_cli.exit_codes import (
    EXIT_JOB_FAILED,
)

EXAMPLE = "Example: jobcast watch user.me market.BTC-USD --since 1732760000123-0"


def watch(
    channels: Annotated[
        list[str], typer.Argument(help="user.me, job.<id>, market.<symbol>, chat.<room>, monitor")
    ],
    since: Annotated[
        str | None, typer.Option(help=f"Resume after this seq ({SEQ_FORM}, as events carry it).")
    ] = None,
) -> None:
    """Print every event of CHANNELS as one JSON line each, until interrupted.

    Watching only jobs' channels, it ends once each job has ended (nothing follows an end),
    exit 1 if one failed or was cancelled (its error on stderr), as `submit --wait` does.
    Drops are resumed from the last seq printed, so no event is missing or printed twice;
    a `resync` line means the server lost some events and the channel starts afresh.
    """
    if since is not None and not is_seq(since):
        fail_usage(
            f"--since must be an event's seq, {SEQ_FORM} (e.g. 1732760000123-0): got {since!r}."
        )
    with client_session() as client:
        # One request first: with nothing answering (or a key refused) that is said now, exit
        # 5 (or 4); the stream itself retries a dropped connection for as long as it takes.
        client.me()
        # A job's channel says nothing after the job's end: a watch of jobs alone ends there
        # (it waited for an interrupt, also when the job had ended before the watch began).
        jobs_only = all(c.startswith("job.") for c in channels)
        options = _said_on_stderr(channels)
        with closing(client.events(*channels, since=since, options=options)) as events:
            ends = _print_events(events, set(channels) if jobs_only else None)
    _exit_as_the_jobs_ended(ends)


def _print_events(events: Iterator[Event], running: set[str] | None) -> dict[str, Event]:
    """Each event as a JSON line, until each of the `running` job channels has ended (None:
    until interrupted); the ending event of each, by channel."""
    ends: dict[str, Event] = {}
    for event in events:
        line: dict[str, Any] = {"channel": event.channel, "seq": event.seq, "type": event.type}
        # A start state (a job's snapshot, a room's history) has no time of its own: the protocol
        # tells events from them by `ts` (README's message table), so none is printed, not null.
        line |= {"ts": event.ts} if event.ts is not None else {}
        line["data"] = event.data
        sys.stdout.write(json.dumps(line, default=str) + "\n")
        sys.stdout.flush()
        if running is not None and event.data.get("status") in TERMINAL:
            ends[event.channel] = event
            running.discard(event.channel)
            if not running:
                break
    return ends


def _exit_as_the_jobs_ended(ends: dict[str, Event]) -> None:
    """Exit 1, as `submit --wait` does, when a watched job failed or was cancelled, each one's
    error on stderr: a script reads the outcome from the exit code, not from the lines."""
    ended_badly = [_outcome(channel, event) for channel, event in ends.items()]
    said = [exc for exc in ended_badly if exc is not None]
    for exc in said:
        report_error(exc, as_json=False)
    if said:
        raise typer.Exit(EXIT_JOB_FAILED)


def _outcome(channel: str, event: Event) -> errors.JobcastError | None:
    """The error `wait` raises for the job's end; None for a job that succeeded."""
    status, error = str(event.data.get("status")), event.data.get("error")
    try:
        raise_outcome(channel.removeprefix("job."), status, error)
    except (errors.JobFailedError, errors.JobCancelledError) as exc:
        return exc
    return None


def _said_on_stderr(channels: list[str]) -> StreamOptions:
    """Drops said on stderr (stdout keeps only events): once when the connection is lost, once
    when its channels are subscribed again (confirmed in the order they were asked for). A
    watch that went quiet could not be told from a server that was down."""
    lost = False

    def reconnecting(failures: int, pause: float) -> None:
        nonlocal lost
        if not lost:
            lost = True
            err_console.print("[yellow]connection lost; reconnecting…[/yellow]")

    def subscribed(channel: str) -> None:
        nonlocal lost
        if lost and channel == channels[-1]:
            lost = False
            err_console.print("[green]reconnected; resuming after the last event printed[/green]")

    return StreamOptions(on_reconnect=reconnecting, on_subscribed=subscribed)


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.command("watch", help=flowing_help(watch), epilog=EXAMPLE)(watch)
