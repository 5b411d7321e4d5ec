"""Where a running `jobcast up` leaves its Redis's address for other commands (`jobcast keys`).

Apart from `jobcast.launcher`, which writes them: reading one must not load what starting a
stack needs (Celery's config, kombu), ~0.1-0.2 CPU-s of each `jobcast keys` run.
"""

from __future__ import annotations

from pathlib import Path

from jobcast.settings import Settings


def redis_url_file(settings: Settings) -> Path:
    return settings.data_dir / "redis.url"


def running_redis_url(settings: Settings) -> str | None:
    """The embedded Redis URL a running `jobcast up` left for other commands (`jobcast keys`)."""
    path = redis_url_file(settings)
    return path.read_text().strip() if path.exists() else None


def redis_sentinels_file(settings: Settings) -> Path:
    return settings.data_dir / "redis.sentinels"


def running_sentinels(settings: Settings) -> str | None:
    """The sentinels a running `jobcast up --ha` left for other commands (`jobcast keys`)."""
    path = redis_sentinels_file(settings)
    return path.read_text().strip() if path.exists() else None
