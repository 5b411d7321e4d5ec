"""Every answer of the api tells browsers not to sniff its type: a JSON body or a downloaded
file is never read as HTML or a script, whatever it holds."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import SharedStack, module_stack
from tests.workers.files.support import JobsClient, await_terminal

#: An api and a files worker: a converted file to download, through the real job path.
stack = module_stack(worker_queues="files")


def test_json_answers_and_downloads_carry_nosniff_once(stack: SharedStack, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,<script>x</script>\n")
    jobs = JobsClient(stack.url, stack.new_key("sniffed")[0])
    job_id = jobs.submit_ok(table, json.dumps({"operation": "convert", "to": "csv"}))
    assert await_terminal(stack.redis, job_id)["type"] == "job.succeeded"
    answers = {
        path: jobs.http.get(path)
        for path in ("/me", f"/jobs/{job_id}/result", f"/jobs/{job_id}/artifact", "/healthz")
    }
    jobs.http.close()
    answers["401"] = httpx.get(f"{stack.url}/me", headers={"X-API-Key": "jc_wrong"})
    answers["404"] = httpx.get(f"{stack.url}/nope")
    answers["414"] = httpx.get(f"{stack.url}/{'x' * 9000}")  # refused by the front door itself
    answers["/"] = httpx.get(f"{stack.url}/")
    for name, answer in answers.items():
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"], name
    assert answers[f"/jobs/{job_id}/artifact"].headers["content-type"].startswith("text/csv")
