"""Each example in `examples/` runs against a real stack, so none can rot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from jobcast.client import Client
from tests.client.conftest import ClientStack
from tests.client.support import write_table
from tests.support.processes import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"


def run(stack: ClientStack, argv: list[str], key: str | None = None) -> str:
    env = {**os.environ, **stack.env(), "PYTHONPATH": str(REPO_ROOT)}
    if key is not None:
        env["JOBCAST_API_KEY"] = key
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=90, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_curl_uploads_polls_and_prints_the_result(stack: ClientStack, tmp_path: Path) -> None:
    data = write_table(tmp_path / "data.csv", 500)
    result = json.loads(run(stack, ["sh", str(EXAMPLES / "curl.sh"), str(data)]))
    assert result["rows"] == 500


def test_curl_says_what_the_api_refused(stack: ClientStack, tmp_path: Path) -> None:
    # It printed only curl's "(22) The requested URL returned error: 401": the API's own
    # answer, which says what to fix, was captured and lost.
    env = {**os.environ, **stack.env(), "JOBCAST_API_KEY": "jc_wrong"}
    argv = ["sh", str(EXAMPLES / "curl.sh"), str(write_table(tmp_path / "data.csv", 5))]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=90, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert '"code":"invalid_key"' in done.stderr, done.stderr
    assert "The API key is unknown or revoked." in done.stderr


def test_python_sync_example_submits_and_waits(stack: ClientStack, tmp_path: Path) -> None:
    data = write_table(tmp_path / "data.csv", 500)
    out = run(stack, [sys.executable, str(EXAMPLES / "submit_sync.py"), str(data)])
    assert "500 rows, 4 columns" in out
    assert "city: string" in out


def test_python_async_example_follows_events_to_the_result(
    stack: ClientStack, tmp_path: Path
) -> None:
    data = write_table(tmp_path / "data.csv", 500)
    out = run(stack, [sys.executable, str(EXAMPLES / "submit_async.py"), str(data)])
    lines = out.splitlines()
    assert lines[0].startswith("job.queued")
    assert any(line.startswith("job.succeeded") for line in lines)
    assert sum("'city':" in line for line in lines) == 13


def test_python_async_example_says_why_a_job_failed_without_a_traceback(
    stack: ClientStack, tmp_path: Path
) -> None:
    # A table without `city` and `amount` ended the example with a JobFailedError traceback.
    data = tmp_path / "other.csv"
    data.write_text("a,b\n1,2\n")
    env = {**os.environ, **stack.env(), "PYTHONPATH": str(REPO_ROOT)}
    argv = [sys.executable, str(EXAMPLES / "submit_async.py"), str(data)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=90, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "job.failed" in done.stdout
    assert "unknown_column: " in done.stdout
    assert "Traceback" not in done.stderr


def test_tail_example_prints_user_me_from_a_seq(stack: ClientStack, tmp_path: Path) -> None:
    key, _ = stack.new_key("tailer")
    with Client(stack.url, key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 200))
        client.wait(job.id, timeout=60)
    env = {**os.environ, **stack.env(), "JOBCAST_API_KEY": key, "PYTHONPATH": str(REPO_ROOT)}
    tail = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "tail_user_me.py"), "0-0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C as from a terminal (a test run started in the background ignores SIGINT).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert tail.stdout is not None
        lines: list[str] = []
        while not lines or "job.succeeded" not in lines[-1]:
            lines.append(tail.stdout.readline())
        tail.send_signal(signal.SIGINT)  # how a tail ends; it printed a traceback
        _, said = tail.communicate(timeout=10)
    finally:
        tail.kill()
        tail.wait(timeout=10)
    assert lines[0].split()[1:] == ["job.queued", job.id]
    assert tail.returncode == 130
    assert "Traceback" not in said, said


def test_browser_snippet_follows_a_job_over_a_ticket(stack: ClientStack, tmp_path: Path) -> None:
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(write_table(tmp_path / "data.csv", 30_000))
    script = (
        f"import({json.dumps(str(EXAMPLES / 'browser-job-progress.js'))}).then((m) => m.followJob("
        f"{json.dumps(stack.url)}, {json.dumps(stack.key)}, {json.dumps(job.id)}, "
        "(p) => console.log('progress', p.percent)).then((job) => console.log('done', job.status)))"
    )
    out = run(stack, ["node", "--experimental-websocket", "--no-warnings", "-e", script])
    lines = out.splitlines()
    assert lines[-1] == "done succeeded"
    assert lines[0].startswith("progress")
    assert lines[-2] == "progress 100"  # the job's end (it showed 0 % for a job that fast)


def test_browser_snippet_ends_a_job_without_progress_events_at_100_percent() -> None:
    # A job over within one progress interval sends no job.progress: the page showed the
    # snapshot's 0 % to the end. The frames a queued job sends, played to the snippet alone.
    frames = [
        {"type": "snapshot", "channel": "job.j1", "seq": "1-0",
         "data": {"id": "j1", "status": "queued", "progress": {"rows": 0, "percent": 0}}},
        {"type": "job.started", "channel": "job.j1", "seq": "2-0",
         "data": {"job_id": "j1", "status": "running", "attempt": 1}},
        {"type": "job.succeeded", "channel": "job.j1", "seq": "3-0",
         "data": {"job_id": "j1", "status": "succeeded", "rows": 3, "percent": 100}},
    ]  # fmt: skip
    script = f"""
globalThis.fetch = async () => ({{ ok: true, json: async () => ({{ ticket: "t" }}) }});
globalThis.WebSocket = class {{
  constructor() {{
    setTimeout(() => {{
      this.onopen();
      for (const frame of {json.dumps(frames)}) this.onmessage({{ data: JSON.stringify(frame) }});
    }});
  }}
  send() {{}}
  close() {{}}
}};
import({json.dumps(str(EXAMPLES / "browser-job-progress.js"))}).then((m) =>
  m.followJob("http://api", "key", "j1", (p) => console.log("progress", p.percent))
).then((job) => console.log("done", job.status));
"""
    done = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert done.stdout.splitlines() == ["progress 0", "progress 100", "done succeeded"]
