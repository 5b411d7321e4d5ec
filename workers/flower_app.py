"""The Celery app Flower runs (`celery -A workers.flower_app flower`): the workers' own
(`workers.app`), on kombu's stock Redis transport, knowing every task by name.

Flower reads queue lengths (its Broker page, `/api/queues/length`) only from a broker whose URL
scheme it knows, `redis://` or `sentinel://`; with `jobcast.celery_transport` named as the
transport, kombu writes that name where the scheme goes, and Flower answered "'redis' broker is
not supported". The stock transport speaks to the same lists in the same way: what ours saves (a
redis-py client made per command) counts in a worker's hot path, not in Flower.

Flower sets a task's rate and time limits on a worker (its worker page's Limits tab) only for a
task its own app has registered, and answered 404 "Unknown task" for ours: their modules are
imported by the workers that run them (`workers.app`), and the files one loads pyarrow (~100 MB)
Flower would never use. It only sends them, by name, as the api does.

Flower takes its login from FLOWER_BASIC_AUTH alone, which `jobcast up` and docker-compose set.
Started by hand with only the JOBCAST_ settings the other processes take, it served its pages
and controls to anyone; so an unset FLOWER_BASIC_AUTH is made here from `JOBCAST_FLOWER_USER`
and `JOBCAST_FLOWER_PASSWORD` (in dev mode the dev stack's, under the same data dir), and
without a password outside dev mode Flower refuses to start, as the other processes do.

With its Redis gone Flower ignores SIGTERM (its exit waits on its event thread); the launcher's
stop SIGKILLs it after the grace, and a launcher killed with -9 is watched for here as the api
and the workers watch it (`jobcast.orphan_watch`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from typing import NoReturn

from celery import Task

from jobcast import orphan_watch
from jobcast.dev_secrets import stored_secret
from jobcast.settings import InsecureSettingsError, Settings, get_settings
from jobcast.task_names import TASK_NAMES
from workers.app import app


def flower_password(settings: Settings) -> str:
    """The password Flower asks for; in dev mode an unset one is the dev stack's."""
    if settings.flower_password is None and settings.dev:
        stored = stored_secret(settings, "flower_password")
        if stored is not None:
            return stored
    settings.require_secrets(names=("flower_password",))
    return settings.secret("flower_password")


def require_basic_auth(settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Put Flower behind basic auth unless its own FLOWER_BASIC_AUTH already does."""
    if environ.get("FLOWER_BASIC_AUTH"):
        return
    try:
        password = flower_password(settings)
    except InsecureSettingsError as exc:
        print(f"jobcast error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    environ["FLOWER_BASIC_AUTH"] = f"{settings.flower_user}:{password}"


def listen_as_configured(settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Bind where JOBCAST_FLOWER_HOST and _PORT say (127.0.0.1:5555 by default) unless Flower's
    own variables do: started by hand without `--address`, Flower listened on every interface.
    A command-line `--address` or `--port` still wins (Flower reads them after its variables)."""
    environ.setdefault("FLOWER_ADDRESS", settings.flower_host)
    environ.setdefault("FLOWER_PORT", str(settings.flower_port))


# Flower reads its FLOWER_ variables after loading this app, as its command starts.
require_basic_auth(get_settings(), os.environ)
listen_as_configured(get_settings(), os.environ)
orphan_watch.start()  # started by `jobcast up`: a stop bounded even if it is killed

# kombu takes the transport from the URL's scheme again.
app.conf.broker_transport = None


def _runs_on_a_worker(*_: object, **__: object) -> NoReturn:
    raise RuntimeError("a Jobcast task runs on a worker, never in Flower")


for _name in TASK_NAMES:
    # Plain `Task`, not the workers' `CappedTask`: nothing here runs, so nothing is capped.
    app.task(name=_name, base=Task, shared=False)(_runs_on_a_worker)

__all__ = ["app"]
