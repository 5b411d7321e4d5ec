"""`jobcast jobs` against a real stack: what a script reads of a job, and what it may not do."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from jobcast.client import Client, errors
from jobcast.embedded_redis import free_port
from tests.client.conftest import ClientStack
from tests.client.support import write_table
from tests.client.test_cli import jobcast, jobcast_process, user_env


@pytest.fixture(scope="module")
def converted(stack: ClientStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A convert job that succeeded: it has a result and a file to download."""
    table = write_table(tmp_path_factory.mktemp("tables") / "data.csv", 200)
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(table, "convert", to="csv")
        client.wait(job.id, timeout=60)
    return job.id


def test_jobs_result_json_names_its_job(stack: ClientStack, converted: str) -> None:
    # It printed the result alone: a saved answer did not say which job it was the result of.
    done = jobcast(stack, "jobs", "result", converted, "--json")
    assert done.exit_code == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["job_id"] == converted
    assert answer["artifact_format"] == "csv"


def test_download_refuses_to_overwrite_a_file_without_force(
    stack: ClientStack, converted: str, tmp_path: Path
) -> None:
    # It replaced the file silently.
    kept = tmp_path / "out.csv"
    kept.write_text("mine\n")
    refused = jobcast(stack, "jobs", "download", converted, str(kept))
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == f"error: {kept} exists: pass --force to overwrite it.\n"
    assert kept.read_text() == "mine\n"
    assert not list(tmp_path.glob(".*.part"))

    forced = jobcast(stack, "jobs", "download", converted, str(kept), "--force")
    assert forced.exit_code == 0, forced.output
    assert len(kept.read_text().splitlines()) == 201


def test_a_download_path_with_brackets_is_said_as_it_is(
    stack: ClientStack, converted: str, tmp_path: Path
) -> None:
    # Read as markup, "saved .../sales[eu].csv" lost its "[eu]", and an error naming a missing
    # directory "runs[old]" named "runs".
    out = tmp_path / "sales[eu].csv"
    done = jobcast(stack, "jobs", "download", converted, str(out))
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"saved {out} ("), done.stdout
    nowhere = tmp_path / "runs[old]" / "out.csv"
    refused = jobcast(stack, "jobs", "download", converted, str(nowhere))
    assert refused.exit_code == 2, refused.output
    assert f"the directory {nowhere.parent} does not exist" in refused.stderr, refused.stderr


def test_a_failed_jobs_message_keeps_the_brackets_it_names(
    stack: ClientStack, tmp_path: Path
) -> None:
    # `jobs show` printed the job's message as markup: "No column named '[x]'" lost its "[x]".
    table = write_table(tmp_path / "data.csv", 20)
    with Client(stack.url, stack.key) as client:
        job = client.submit_file(table, "aggregate", group_by=["[x]"], metrics={"amount": ["sum"]})
        with pytest.raises(errors.JobFailedError):
            client.wait(job.id, timeout=60)
        message = client.job(job.id).error.message  # type: ignore[union-attr]
    assert "'[x]'" in message  # the server's own words name it
    shown = jobcast(stack, "jobs", "show", job.id)
    assert shown.exit_code == 0, shown.output
    assert f": {message}" in " ".join(shown.stdout.split()), shown.stdout


@pytest.mark.parametrize("output", [["-o", "-"], ["--output", "-"]], ids=["-o", "--output"])
def test_download_to_stdout_writes_the_file_alone(
    stack: ClientStack, converted: str, tmp_path: Path, output: list[str]
) -> None:
    # There was no way to pipe the file: PATH was required, and `-` was a file named "-".
    with Client(stack.url, stack.key) as client:
        saved = client.download(converted, tmp_path / "saved.csv")
    piped = jobcast_process(user_env(stack), "jobs", "download", converted, *output)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == saved.read_text()
    assert piped.stderr == f"wrote {saved.stat().st_size:,} bytes to stdout\n"


def test_download_to_a_path_given_with_output(
    stack: ClientStack, converted: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    done = jobcast(stack, "jobs", "download", converted, "-o", str(out))
    assert done.exit_code == 0, done.output
    assert len(out.read_text().splitlines()) == 201
    both = jobcast(stack, "jobs", "download", converted, str(out), "-o", "-")
    assert both.exit_code == 2, both.output
    assert "either PATH or --output" in both.stderr


def test_a_download_never_replaces_a_file_made_meanwhile_unless_told(
    stack: ClientStack, converted: str, tmp_path: Path
) -> None:
    # The CLI looked for the file before the download, then replaced whatever was there at
    # its end: a file made meanwhile was lost. Without `overwrite` the move refuses one.
    kept = tmp_path / "out.csv"
    kept.write_text("mine\n")
    with Client(stack.url, stack.key) as client:
        with pytest.raises(FileExistsError):
            client.download(converted, kept, overwrite=False)
        assert kept.read_text() == "mine\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
        client.download(converted, kept)  # the library's default: replace, as before
        fresh = client.download(converted, tmp_path / "fresh.csv", overwrite=False)
    assert len(kept.read_text().splitlines()) == 201
    # Saved with a plain open's mode (0666 less the umask), not a temporary file's 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert {stat.S_IMODE(f.stat().st_mode) for f in (kept, fresh)} == {0o666 & ~umask}


@pytest.mark.parametrize("job_id", ["", "j_", "j_XYZ", "6f1c0e6b2f9d4a7c8e3b5a10", "../me"])
@pytest.mark.parametrize(
    "command", [["show"], ["result"], ["cancel"], ["download", "out.csv"]], ids=lambda c: c[0]
)
def test_a_malformed_job_id_is_a_usage_error_before_any_request(
    stack: ClientStack, command: list[str], job_id: str
) -> None:
    # `jobs show ""` was the server's 404 (exit 3), as if a well-formed job were missing.
    nowhere = f"http://127.0.0.1:{free_port()}"  # a request would be exit 5 here
    done = jobcast(stack, "jobs", command[0], job_id, *command[1:], JOBCAST_URL=nowhere)
    assert done.exit_code == 2, done.output
    assert done.stderr == (
        "error: a job id is j_ and 24 lowercase hex digits (e.g. j_6f1c0e6b2f9d4a7c8e3b5a10): "
        f"got {job_id!r}.\n"
    )
