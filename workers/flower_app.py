"""The Celery app Flower runs (`celery -A workers.flower_app flower`): the workers' own
(`workers.app`), on kombu's stock Redis transport.

Flower reads queue lengths (its Broker page, `/api/queues/length`) only from a broker whose URL
scheme it knows, `redis://` or `sentinel://`; with `jobcast.celery_transport` named as the
transport, kombu writes that name where the scheme goes, and Flower answered "'redis' broker is
not supported". The stock transport speaks to the same lists in the same way: what ours saves (a
redis-py client made per command) counts in a worker's hot path, not in Flower.
"""

from __future__ import annotations

from workers.app import app

# kombu takes the transport from the URL's scheme again.
app.conf.broker_transport = None

__all__ = ["app"]
