"""`JOBCAST_` variables no part of Jobcast reads: a misspelt setting (`JOBCAST_LOG_LEVL=DEBUG`)
was ignored without a word and the default stayed in force. `jobcast up`, the api and each
worker say so once as they start, naming the closest variable Jobcast knows."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from jobcast.orphan_watch import LAUNCHER_PID_VARIABLE
from jobcast.settings import Settings

PREFIX = "JOBCAST_"
#: `JOBCAST_` variables read outside `Settings`: the client's address, key, saved login and retries
#: (`jobcast.client.config`, not imported here: it would load httpx into every server process),
#: the test suite's own Redis (`tests/conftest.py`), and the launcher's pid, which it gives each
#: process it starts (`jobcast.orphan_watch`).
OTHER_VARIABLES = (
    "JOBCAST_URL",
    "JOBCAST_API_KEY",
    "JOBCAST_CONFIG",
    "JOBCAST_MAX_RETRIES",
    "JOBCAST_TEST_REDIS_URL",
    LAUNCHER_PID_VARIABLE,
)


def known_variables() -> list[str]:
    settings = [f"{PREFIX}{name.upper()}" for name in Settings.model_fields]
    return [*settings, *OTHER_VARIABLES]


def unknown_variable_warnings(environ: Mapping[str, str]) -> list[str]:
    """One line for each `JOBCAST_` variable in `environ` that Jobcast does not read. Settings
    are read whatever the case of their names, so the names are compared in upper case."""
    known = known_variables()
    unknown = sorted(
        name for name in environ if name.upper().startswith(PREFIX) and name.upper() not in known
    )
    return [_warning(name, known) for name in unknown]


def _warning(name: str, known: list[str]) -> str:
    # Compared without the prefix every name shares, which would make any two look alike.
    suffixes = [known_name.removeprefix(PREFIX) for known_name in known]
    closest = difflib.get_close_matches(name.upper().removeprefix(PREFIX), suffixes, n=1)
    hint = f"; did you mean {PREFIX}{closest[0]}?" if closest else "."
    return f"{name} is not a Jobcast setting and is ignored{hint}"
