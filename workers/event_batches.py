"""The worker's task events for Flower, published in batches a few milliseconds apart.

A worker buffers its task events (received, started, succeeded, ...) and Celery's consumer asks
its event loop to flush the buffer on the very next tick, so under load nearly every event goes
out alone: one `task.multi` message of one event, a kombu publish (about a third of a `files`
worker's main-process CPU per tiny job) and a Redis PUBLISH, three times per task. This consumer
flushes at most `FLUSH_SECONDS` after the first event buffered since the last flush: the same
events, in the same order, in fewer messages; Flower shows each at most that much later. A full
buffer (Celery's `buffer_limit`) still flushes at once, and stopping the consumer flushes what
is left.
`celeryconfig` names this class as `worker_consumer`; everything else is Celery's own.
"""

from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer as CeleryConsumer

#: The longest a buffered task event waits for its batch.
FLUSH_SECONDS = 0.05


class Consumer(CeleryConsumer):  # type: ignore[misc]
    """Celery's consumer, with its task events flushed on a short timer, not on every tick."""

    _flush_due = False

    def on_send_event_buffered(self) -> None:
        if self.hub is not None and not self._flush_due:
            self._flush_due = True
            self.hub.call_later(FLUSH_SECONDS, self._flush_batch)

    def _flush_batch(self) -> None:
        self._flush_due = False
        self._flush_events()

    def stop(self) -> Any:
        self._flush_events()  # a restart (the broker went away) re-buffers what fails
        return super().stop()

    def shutdown(self) -> Any:
        self._flush_events()
        return super().shutdown()
