"""The user commands' exit codes and what each means, apart from the commands: `jobcast --help`
and the output's reader leaving (jobcast.entry) need them without loading the client."""

from __future__ import annotations

#: Exit codes of the user commands (their meanings below).
EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2  # typer's own
EXIT_REFUSED = 3
EXIT_AUTH = 4
EXIT_UNAVAILABLE = 5
EXIT_TIMEOUT = 6
EXIT_INTERRUPTED = 130
EXIT_READER_GONE = 141  # any command's, jobcast.entry's doing: its output's reader left
EXIT_TERMINATED = 143  # 128 + 15, as a shell reports a process SIGTERM ended (sigterm.py)

#: What each exit code means: `jobcast --help` says it in these words, and README.md's table
#: has one row for each (a test keeps them the same).
EXIT_CODE_MEANINGS = (
    (EXIT_OK, "done"),
    (
        EXIT_JOB_FAILED,
        "the job failed or was cancelled (its error code is printed), or the order placed was "
        "rejected",
    ),
    (EXIT_USAGE, "wrong arguments"),
    (EXIT_REFUSED, "the server refused the request (4xx: invalid, not found, conflict, gone)"),
    (EXIT_AUTH, "no key, a wrong key, or not allowed"),
    (
        EXIT_UNAVAILABLE,
        "server unreachable, rate limited, an upload stalled, or failing after the retries",
    ),
    (EXIT_TIMEOUT, "`--timeout` passed before the job ended"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C, SIGINT)"),
    (
        EXIT_READER_GONE,
        "the output's reader left before its end (e.g. `head -1`), as a shell reports SIGPIPE: "
        "128 + 13",
    ),
    (
        EXIT_TERMINATED,
        "stopped by SIGTERM (as a shell reports a process the signal ended: 128 + 15)",
    ),
)

_MEANINGS = "; ".join(f"{code} {meaning}" for code, meaning in EXIT_CODE_MEANINGS)
EXIT_CODES_HELP = f"Exit codes: {_MEANINGS}."
#: The same in `jobcast --help`, which lists the operator commands too: there they read as
#: every command's, and `up` and `keys` have codes of their own.
USER_EXIT_CODES_HELP = (
    "Exit codes of the user commands (`up` and `keys` list their own in their --help): "
    f"{_MEANINGS}."
)
