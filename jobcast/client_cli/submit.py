"""`jobcast submit`: upload a table, and with --wait follow it to its result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal, cast

import typer
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

from jobcast.client import Client, Reading, errors
from jobcast.client.aio import job_params
from jobcast.client.waiting import ReachableCallback
from jobcast.client_cli.common import (
    client_session,
    console,
    err_console,
    fail_usage,
    print_json,
    tables_width,
)
from jobcast.client_cli.exit_codes import EXIT_CODES_HELP
from jobcast.client_cli.summary import result_json, result_tables
from jobcast.schemas import Job, JobProgress, JobResult

#: What `-` names: the process's standard input, opened as a file (a pipe's size is unknown).
STANDARD_INPUT = Path("/dev/stdin")

EXAMPLE = (
    "Example: jobcast submit sales.csv --op aggregate --group-by city --metric amount:sum --wait"
)


def _existing_file(file: str) -> str:
    """`-` or a file that exists, checked before a byte is sent (exit 2, not a traceback).

    Any file that is no directory: `<(gunzip -c t.csv.gz)` names a pipe, not a regular file.
    """
    path = Path(file)
    if file != "-" and (path.is_dir() or not path.exists()):
        said = "is a directory" if path.is_dir() else "does not exist"
        raise typer.BadParameter(f"File {file!r} {said}.")
    return file


def submit(
    # A str, not a Path: typer (0.29) compares the converted Path with "-", so `allow_dash`
    # never let a dash through one; and on a str it ignores `exists` and `dir_okay`, hence
    # the callback.
    file: Annotated[
        str,
        typer.Argument(callback=_existing_file, help="The table to upload (- reads stdin)."),
    ],
    op: Annotated[str, typer.Option("--op", help="profile, aggregate or convert.")] = "profile",
    group_by: Annotated[list[str] | None, typer.Option(help="Column to group by (repeat).")] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="COLUMN:FN, FN one of count sum mean min max (repeat).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="convert: parquet or csv.")] = None,
    header: Annotated[
        bool, typer.Option(help="--no-header: the first line is data (columns become 0, 1, ...).")
    ] = True,
    sheet: Annotated[
        str | None,
        typer.Option(help="Spreadsheets: the sheet's name, or its 0-based index (digits)."),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding, e.g. cp1252 (default: detected).")
    ] = None,
    decimal: Annotated[
        str | None, typer.Option(help="Decimal separator of numbers: . or , (default: detected).")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Follow the job to its result.")] = False,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Seconds --wait waits at most.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Upload FILE as a file job; with --wait show its progress and result."""
    # `-` as a Unix command reads it: `… | jobcast submit - --wait`.
    path = STANDARD_INPUT if file == "-" else Path(file)
    metrics = parse_metrics(metric or [])
    reading = _reading(header, sheet, encoding, decimal)
    _check_options(op, group_by or [], metrics, to, reading)
    with client_session(as_json) as client:
        client.config.require_key()  # before the bars are drawn: without a key nothing is sent
        with _bars(as_json) as bars:
            job = _upload(client, bars, path, op, group_by or [], metrics, to, reading)
            with _still_running_if_left(job, bars):
                result = _follow(client, bars, job, timeout) if wait else None
    if result is None:
        print_json(job) if as_json else console.print(f"job [bold]{job.id}[/bold] {job.status}")
    elif as_json:
        print_json(result_json(job.id, result))
    else:
        console.print(f"job [bold]{job.id}[/bold] succeeded")
        for table in result_tables(result, tables_width()):
            console.print(table)


def parse_metrics(specs: list[str]) -> dict[str, list[str]]:
    metrics: dict[str, list[str]] = {}
    for spec in specs:
        column, sep, fn = spec.rpartition(":")
        if not sep or not column or not fn:
            raise typer.BadParameter(
                f"{spec!r}: write COLUMN:FN, e.g. amount:sum", param_hint="--metric"
            )
        metrics.setdefault(column, []).append(fn)
    return metrics


def _reading(header: bool, sheet: str | None, encoding: str | None, decimal: str | None) -> Reading:
    if decimal not in (None, ".", ","):
        fail_usage(f"--decimal: {decimal!r} is neither . nor ,")
    # All digits: an index, as pandas' `sheet_name` takes an int (a sheet named "2" is then the
    # third sheet: the Python client's `Reading(sheet="2")` names it).
    chosen = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    return Reading(header, chosen, encoding, cast(Literal[".", ","] | None, decimal))


#: The option that sets each of a job's params.
OPTIONS = {
    "operation": "--op",
    "group_by": "--group-by",
    "metrics": "--metric",
    "to": "--to",
    "header": "--no-header",
    "sheet": "--sheet",
    "encoding": "--encoding",
    "decimal": "--decimal",
}


def _check_options(
    op: str,
    group_by: list[str],
    metrics: dict[str, list[str]],
    to: str | None,
    reading: Reading,
) -> None:
    """Wrong options end the command before the upload (exit 2), naming the option."""
    try:
        job_params(op, group_by, metrics, to, reading)
    except errors.InvalidRequestError as exc:
        first = exc.details[0]  # "params.metrics.amount.0": the part after "params" says which
        parts = first["field"].split(".")
        option = OPTIONS.get(parts[1]) if len(parts) > 1 else None
        fail_usage(f"{option}: {first['problem']}" if option else f"{_in_options(first)}.")


def _in_options(error: dict[str, str]) -> str:
    """A rule across params (`to` only applies to convert) in the options that set them."""
    problem = error["problem"]
    for param, option in OPTIONS.items():
        problem = problem.replace(f"`{param}`", f"`{option}`")
    return problem


def _bars(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[info]}"),
        # On stderr, as curl's and pip's: `jobcast submit ... --json > job.json` keeps the JSON
        # alone in the file (the bars' last state was printed into it).
        console=err_console,
        disable=quiet,
        transient=False,
    )


def _upload(
    client: Client,
    bars: Progress,
    file: Path,
    op: str,
    group_by: list[str],
    metrics: dict[str, list[str]],
    to: str | None,
    reading: Reading,
) -> Job:
    task = bars.add_task("upload", total=file.stat().st_size or 1, info="")

    def on_upload(sent: int, total: int) -> None:
        bars.update(
            task, completed=sent, total=total, info=f"{sent / 1e6:,.1f}/{total / 1e6:,.1f} MB"
        )

    try:
        job = client.submit_file(
            file,
            op,
            group_by=group_by,
            metrics=metrics,
            to=to,
            reading=reading,
            on_upload=on_upload,
        )
    except errors.JobcastError:
        # Refused (a wrong key, too large, over a quota): a small file had gone out whole
        # before the answer came, and its bar at 100% read as if the file had been taken.
        bars.remove_task(task)
        raise
    except KeyboardInterrupt:
        bars.stop()  # a red bar alone left it open whether the file was taken
        err_console.print(
            "upload interrupted: an upload cut off is not stored, and no job was made."
        )
        raise
    bars.update(task, completed=bars.tasks[task].total, info=f"job {job.id}")
    return job


@contextmanager
def _still_running_if_left(job: Job, bars: Progress) -> Iterator[None]:
    """Ctrl-C, or a timeout, stops the waiting, not the job: say so, and how to reach it again."""
    try:
        yield
    except (KeyboardInterrupt, errors.WaitTimeoutError):
        bars.stop()
        err_console.print(
            f"job {job.id} keeps running: follow it with `jobcast jobs show {job.id}`, "
            f"stop it with `jobcast jobs cancel {job.id}`.",
            highlight=False,
            soft_wrap=True,
        )
        raise


def _follow(client: Client, bars: Progress, job: Job, timeout: float | None) -> JobResult:
    task = bars.add_task("processing", total=100, info="queued", rows=None)

    def on_progress(p: JobProgress) -> None:
        eta = f" · ETA {p.eta_seconds:.0f}s" if p.eta_seconds is not None else ""
        bars.update(task, completed=p.percent, info=f"{p.rows:,} rows{eta}", rows=p.rows)

    try:
        result = client.wait(
            job.id, timeout=timeout, on_progress=on_progress, on_reachable=_said_on_stderr(job)
        )
    except errors.JobFailedError:
        _ended(bars, task, "failed")
        raise
    except errors.JobCancelledError:
        _ended(bars, task, "cancelled")
        raise
    bars.update(task, completed=100, info=f"{result.rows:,} rows · done")
    return result


def _ended(bars: Progress, task: TaskID, how: str) -> None:
    """The bar left where the job stopped, saying how it ended as a finished one says `done`:
    left as it was, above the error, it read as stuck rather than ended."""
    rows = next(shown for shown in bars.tasks if shown.id == task).fields["rows"]
    bars.update(task, info=f"{rows:,} rows · {how}" if rows is not None else how)


def _said_on_stderr(job: Job) -> ReachableCallback:
    """An outage said once as it starts and once as it ends: a bar that stopped moving could
    not be told from an api that was down."""

    def said(reachable: bool) -> None:
        if reachable:
            err_console.print("[green]api answers again; following the job on[/green]")
        else:
            err_console.print(
                f"[yellow]api unreachable; still waiting for job {job.id}, trying again "
                "(Ctrl-C stops waiting, not the job)…[/yellow]",
                highlight=False,
            )

    return said


def register(cli: typer.Typer) -> None:
    """Add this command to `cli` (jobcast.lazy_commands runs it)."""
    cli.command("submit", epilog=f"{EXAMPLE}\n\n{EXIT_CODES_HELP}")(submit)
