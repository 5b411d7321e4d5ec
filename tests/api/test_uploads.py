"""Uploads the api removes (a refused one's partial file, a replay's copy, a cancelled job's
file) are removed on a worker thread, never on the event loop every other request waits on."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from jobcast.settings import Settings
from tests.api.conftest import MakeKey
from tests.api.inprocess import run_in_process

QUOTA = 100_000


def test_uploads_are_removed_off_the_event_loop_and_are_gone_when_the_answer_comes(
    settings: Settings, make_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = settings.data_dir / "uploads"
    removed: list[tuple[str, str]] = []  # (file, thread that removed it)
    unlink = Path.unlink

    def recorded(path: Path, missing_ok: bool = False) -> None:
        if uploads in path.parents:
            removed.append((path.name, threading.current_thread().name))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", recorded)
    loop_thread = threading.current_thread().name  # run_in_process runs the app's loop here
    headers = {"Authorization": f"Bearer {make_key()}"}
    table = ("t.csv", b"n\n" + b"7\n" * 15_000)

    async def scenario(client: httpx.AsyncClient) -> None:
        first = await client.post(
            "/jobs", files={"file": table}, headers={**headers, "Idempotency-Key": "k"}
        )
        replay = await client.post(
            "/jobs", files={"file": table}, headers={**headers, "Idempotency-Key": "k"}
        )
        assert replay.json()["id"] == first.json()["id"]
        await client.post("/jobs", files={"file": table}, headers=headers)

        async def over_quota():  # type: ignore[no-untyped-def]
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="t.csv"\r\n\r\n'
            for _ in range(20):
                yield b"7\n" * 2048
            yield b"\r\n--b--\r\n"

        refused = await client.post(
            "/jobs",
            content=over_quota(),
            headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert refused.status_code == 413, refused.text
        cancelled = await client.delete(f"/jobs/{first.json()['id']}", headers=headers)
        assert cancelled.json()["status"] == "cancelled"

    quota = settings.model_copy(update={"quota_stored_bytes": QUOTA})
    run_in_process(quota, scenario)
    # the replay's copy, the refused partial, the cancelled job's file
    assert len(removed) == 3, removed
    assert all(thread != loop_thread for _, thread in removed), removed
    assert len(list(uploads.iterdir())) == 1  # the one job left queued keeps its file
