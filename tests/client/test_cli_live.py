"""The interactive commands in a real terminal: `jobcast chat` and `jobcast market book --watch`."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

from jobcast.client import Client, errors
from jobcast.keys import create_key, revoke_key
from tests.client.conftest import ClientStack
from tests.client.support import write_table
from tests.client.terminal import Terminal

JOBCAST = [sys.executable, "-m", "jobcast"]


def user_env(stack: ClientStack, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    return {**env, **stack.env(), "JOBCAST_API_KEY": key, "TERM": "xterm-256color"}


def test_chat_shows_the_room_and_sends_what_is_typed(stack: ClientStack) -> None:
    key, _ = stack.new_key("chatter")
    terminal = Terminal([*JOBCAST, "chat", "client-test"], user_env(stack, key))
    try:
        terminal.expect("present: chatter")
        terminal.type("hello from the terminal\n")
        terminal.expect("chatter: hello from the terminal")
        terminal.type("\x04")  # Ctrl-D leaves
        assert terminal.proc.wait(timeout=30) == 0
    finally:
        terminal.close()
    # Someone who joins later sees it in the room's history, said by whom.
    later_key, _ = stack.new_key("later")
    later = Terminal([*JOBCAST, "chat", "client-test"], user_env(stack, later_key))
    try:
        later.expect("chatter: hello from the terminal")  # printed before who is present
        later.expect("present: later")
    finally:
        later.close()


def test_ctrl_c_leaves_chat_with_exit_code_130(stack: ClientStack) -> None:
    # The help says "Ctrl-D or Ctrl-C to leave"; Ctrl-C did nothing until Enter was pressed.
    key, _ = stack.new_key("leaver")
    terminal = Terminal([*JOBCAST, "chat", "client-test"], user_env(stack, key))
    try:
        terminal.expect("present:")
        terminal.type("\x03")
        assert terminal.proc.wait(timeout=15) == 130
        assert "Traceback" not in terminal.rest()
    finally:
        terminal.close()


def test_book_watch_redraws_the_ladder_as_orders_arrive(stack: ClientStack) -> None:
    key, _ = stack.new_key("ladder")
    terminal = Terminal([*JOBCAST, "market", "book", "ACME", "--watch"], user_env(stack, key))
    placed: list[str] = []
    try:
        terminal.expect("ACME book")
        with Client(stack.url, key) as client:
            placed.append(client.place("ACME", "sell", 70, "101.25").id)
            terminal.expect("101.25")
            placed.append(client.place("ACME", "buy", 30, "99.75").id)
            terminal.expect("99.75")
    finally:
        terminal.close()
        with Client(stack.url, key) as client:  # off the book again: others read it whole
            for order_id in placed:
                client.cancel_order(order_id)


def test_ctrl_c_stops_watch_with_exit_code_130_and_no_traceback(
    stack: ClientStack, tmp_path: Path
) -> None:
    with Client(stack.url, stack.key) as client:
        client.submit_file(write_table(tmp_path / "data.csv", 10))
    terminal = Terminal(
        [*JOBCAST, "watch", "user.me", "--since", "0-0"], user_env(stack, stack.key)
    )
    try:
        terminal.expect('"type": "job.queued"')
        terminal.type("\x03")
        code = terminal.proc.wait(timeout=30)
        rest = terminal.rest()
        assert code == 130, rest
        assert "Traceback" not in rest
    finally:
        terminal.close()


def test_a_watch_whose_key_is_revoked_ends_as_a_refused_key_with_exit_4(
    stack: ClientStack, tmp_path: Path
) -> None:
    # The server's `key_revoked` frame was no refused key to the client: exit 3, as for a
    # request the server found invalid, and the error did not say where the key came from.
    key, info = create_key(stack.redis, stack.settings.secret("key_secret"), "soon-revoked")
    with Client(stack.url, key) as client:
        client.submit_file(write_table(tmp_path / "data.csv", 10))
    terminal = Terminal([*JOBCAST, "watch", "user.me", "--since", "0-0"], user_env(stack, key))
    try:
        terminal.expect('"type": "job.queued"')
        revoke_key(stack.redis, info.key_id)
        code = terminal.proc.wait(timeout=30)
        rest = terminal.rest()
        assert "key_revoked" in rest, rest
        assert code == 4, rest
        assert "key from JOBCAST_API_KEY" in rest
    finally:
        terminal.close()


def test_ctrl_c_ends_a_watch_that_is_behind_on_events_at_once(
    stack: ClientStack, tmp_path: Path
) -> None:
    # Interrupted while events it had not printed yet were queued (a replay of many), it
    # exited only 10 s later: the unread frames paused the socket's reading, so the server's
    # answer to its close was never read and websockets waited out its default close timeout.
    key, _ = stack.new_key("behind")
    data = write_table(tmp_path / "data.csv", 100_000)  # a job with dozens of progress events
    with Client(stack.url, key) as client:
        for _ in range(4):
            client.wait(client.submit_file(data).id)
    terminal = Terminal([*JOBCAST, "watch", "user.me", "--since", "0-0"], user_env(stack, key))
    try:
        terminal.expect('"type": "job.queued"')
        pressed = time.monotonic()
        terminal.type("\x03")
        assert terminal.proc.wait(timeout=30) == 130
        assert time.monotonic() - pressed < 5
    finally:
        terminal.close()


def test_ctrl_c_stops_a_watched_book_quietly(stack: ClientStack) -> None:
    key, _ = stack.new_key("quiet")
    terminal = Terminal([*JOBCAST, "market", "book", "SOL-USD", "--watch"], user_env(stack, key))
    try:
        terminal.expect("SOL-USD book")
        terminal.type("\x03")
        assert terminal.proc.wait(timeout=30) == 130
        rest = terminal.rest()
        # It printed "an error occurred during closing of asynchronous generator" twice.
        assert "Traceback" not in rest
        assert "asynchronous generator" not in rest
    finally:
        terminal.close()


def test_ctrl_c_while_submit_waits_says_the_job_keeps_running(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It exited 130 saying nothing, as if the job had stopped with it.
    key, _ = stack.new_key("impatient")
    data = write_table(tmp_path / "big.csv", 1_500_000)  # long enough to still run at Ctrl-C
    terminal = Terminal([*JOBCAST, "submit", str(data), "--wait"], user_env(stack, key))
    try:
        terminal.expect("processing")
        terminal.type("\x03")
        assert terminal.proc.wait(timeout=30) == 130
        said = " ".join(terminal.rest().split())
    finally:
        terminal.close()
    with Client(stack.url, key) as client:
        (job,) = client.jobs()
        # It can end between the listing and the cancel (409 already_finished): either way
        # it no longer runs.
        with contextlib.suppress(errors.ConflictError):
            client.cancel(job.id)
    assert f"job {job.id} keeps running: follow it with `jobcast jobs show {job.id}`, " in said
    assert f"stop it with `jobcast jobs cancel {job.id}`." in said


#: What a terminal is sent to hide its cursor (rich's progress bars do), and to show it again.
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def test_sigterm_while_submit_waits_shows_the_cursor_and_says_the_job_keeps_running(
    stack: ClientStack, tmp_path: Path
) -> None:
    # Python's default end on SIGTERM left the cursor hidden and said nothing of the job.
    key, _ = stack.new_key("terminated")
    data = write_table(tmp_path / "big.csv", 1_500_000)  # long enough to still run at SIGTERM
    terminal = Terminal([*JOBCAST, "submit", str(data), "--wait"], user_env(stack, key))
    try:
        terminal.expect("processing")
        terminal.proc.send_signal(signal.SIGTERM)
        code = terminal.proc.wait(timeout=30)
        rest = terminal.rest()
        said = " ".join(rest.split())
    finally:
        terminal.close()
    with Client(stack.url, key) as client:
        (job,) = client.jobs()
        if job.status not in ("succeeded", "failed", "cancelled"):
            client.cancel(job.id)
    assert code == 143, rest
    written = "".join(terminal.raw)
    assert written.rindex(SHOW_CURSOR) > written.index(HIDE_CURSOR)
    assert f"job {job.id} keeps running: follow it with `jobcast jobs show {job.id}`, " in said
    assert f"stop it with `jobcast jobs cancel {job.id}`." in said
    assert "Traceback" not in said


def test_ctrl_c_during_the_upload_says_nothing_was_stored(
    stack: ClientStack, tmp_path: Path
) -> None:
    # It exited 130 with a red bar, leaving open whether the file was taken.
    key, _ = stack.new_key("cut-off")
    fifo = tmp_path / "slow.csv"
    os.mkfifo(fifo)
    terminal = Terminal([*JOBCAST, "submit", str(fifo), "--wait"], user_env(stack, key))
    writer = os.open(fifo, os.O_WRONLY)
    stop = threading.Event()

    def drip() -> None:  # a slow source: the upload is still going at Ctrl-C
        os.write(writer, b"a,b\n")
        while not stop.wait(0.01):
            with contextlib.suppress(BrokenPipeError):
                os.write(writer, b"1,2\n" * 1000)

    dripping = threading.Thread(target=drip, daemon=True)
    dripping.start()
    try:
        terminal.expect("upload")
        terminal.expect(" MB")  # the bar counts what went out: the upload is under way
        terminal.type("\x03")
        assert terminal.proc.wait(timeout=30) == 130
        said = " ".join(terminal.rest().split())
    finally:
        stop.set()
        dripping.join()
        os.close(writer)
        terminal.close()
    assert "upload interrupted: an upload cut off is not stored, and no job was made." in said
    assert "Traceback" not in said
    with Client(stack.url, key) as client:
        assert list(client.jobs()) == []
