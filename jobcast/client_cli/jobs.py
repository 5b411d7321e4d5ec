"""`jobcast jobs ls|show|cancel|result|download`."""

from __future__ import annotations

import itertools
import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from jobcast.client_cli.common import (
    client_session,
    console,
    err_console,
    fail_usage,
    print_json,
    print_listing,
    tables_width,
)
from jobcast.client_cli.exit_codes import EXIT_CODES_HELP
from jobcast.client_cli.summary import (
    cancelled_line,
    job_record,
    job_table,
    result_json,
    result_tables,
)
from jobcast.jobs.ids import JOB_ID, JOB_ID_FORM
from jobcast.schemas.jobs import JobStatus

jobs_cli = typer.Typer(help="Your file jobs.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _checked_job_id(value: str) -> str:
    """An id not shaped as a job's is a wrong argument (exit 2), said before asking: the api
    answered it 404 (exit 3), as if a job of that id might have existed."""
    if not JOB_ID.fullmatch(value):
        fail_usage(f"a job id is {JOB_ID_FORM}: got {value!r}.")
    return value


JobId = Annotated[str, typer.Argument(help="The job id (j_...).", callback=_checked_job_id)]


@jobs_cli.command("ls", epilog="Example: jobcast jobs ls --status running --limit 20")
def list_jobs(
    status: Annotated[
        JobStatus | None, typer.Option(case_sensitive=False, help="Only jobs in this status.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List your jobs, newest first."""
    with client_session(as_json) as client, closing(client.jobs(status=status)) as all_jobs:
        jobs = list(itertools.islice(all_jobs, limit))
    if as_json:
        print_json([job.model_dump(mode="json", by_alias=True) for job in jobs])
    else:
        print_listing(job_table(jobs, tables_width()), "no jobs" + (f" {status}" if status else ""))


@jobs_cli.command("show", epilog="Example: jobcast jobs show j_6f1c0e6b2f9d4a7c8e3b5a10")
def show(job_id: JobId, as_json: JsonOption = False) -> None:
    """Show one job: status, progress, error."""
    with client_session(as_json) as client:
        job = client.job(job_id)
    if as_json:
        print_json(job)
    else:
        console.print(job_record(job, tables_width()))
        if job.error is not None:
            # The message may name a column as written (`[price]`): text, not markup.
            error = job.error
            console.print(f"[red]{escape(error.code)}[/red]: {escape(error.message)}")
        elif job.status == "cancelled":
            console.print(cancelled_line(job))


@jobs_cli.command("cancel", epilog="Example: jobcast jobs cancel j_6f1c0e6b2f9d4a7c8e3b5a10")
def cancel(job_id: JobId, as_json: JsonOption = False) -> None:
    """Cancel a job: a queued one never runs, a running one stops at its next batch."""
    with client_session(as_json) as client:
        job = client.cancel(job_id)
    print_json(job) if as_json else console.print(f"job {job.id} {job.status}")


@jobs_cli.command("result", epilog="Example: jobcast jobs result j_6f1c0e6b2f9d4a7c8e3b5a10 --json")
def result(job_id: JobId, as_json: JsonOption = False) -> None:
    """Print a finished job's result (--json: with its "job_id")."""
    with client_session(as_json) as client:
        answer = client.result(job_id)
    if as_json:
        print_json(result_json(job_id, answer))
        return
    for table in result_tables(answer, tables_width()):
        console.print(table)


#: The PATH that means stdout, as for curl's `-o -`.
STDOUT = Path("-")


@jobs_cli.command(
    "download",
    epilog="Example: jobcast jobs download j_6f1c0e6b2f9d4a7c8e3b5a10 out.parquet "
    "(or -o - | duckdb ...)",
)
def download(
    job_id: JobId,
    path: Annotated[
        Path | None, typer.Argument(dir_okay=False, help="Where to save the file; - for stdout.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="PATH, as an option: -o - for stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Save a convert job's file to PATH, or to stdout with -o -; an existing PATH needs --force."""
    target = _download_target(path, output)
    if target == STDOUT:
        _download_to_stdout(job_id)
    else:
        _download_to_file(job_id, target, force)


def _download_target(path: Path | None, output: Path | None) -> Path:
    given = [target for target in (path, output) if target is not None]
    if len(given) != 1:
        fail_usage("give where to save the file: either PATH or --output (-o -: stdout).")
    return given[0]


def _download_to_stdout(job_id: str) -> None:
    # The file's bytes alone on stdout, for a pipe; what is said about them goes to stderr.
    with client_session() as client:
        written = client.download_into(job_id, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    err_console.print(f"wrote {written:,} bytes to stdout", highlight=False)


def _download_to_file(job_id: str, path: Path, force: bool) -> None:
    if not path.parent.is_dir():
        fail_usage(f"cannot save to {path}: the directory {path.parent} does not exist.")
    # Checked before asking too, not to download a file only to refuse it; the move at the end
    # checks again, for a file made meanwhile.
    if path.exists() and not force:
        _refuse_existing(path)
    try:
        with client_session() as client:
            saved = client.download(job_id, path, overwrite=force)
    except FileExistsError:
        _refuse_existing(path)
    except OSError as exc:  # not writable, disk full: nothing is left behind (Client.download)
        fail_usage(f"cannot save to {path}: {exc.strerror or exc}.")
    console.print(f"saved {saved} ({saved.stat().st_size:,} bytes)", markup=False)


def _refuse_existing(path: Path) -> NoReturn:
    fail_usage(f"{path} exists: pass --force to overwrite it.")


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.add_typer(jobs_cli, name="jobs", epilog=f"Example: jobcast jobs ls\n\n{EXIT_CODES_HELP}")
