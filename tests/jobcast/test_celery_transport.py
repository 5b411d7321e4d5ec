"""The broker transport Celery is given makes one redis-py client per channel, and still carries
messages like kombu's own."""

from __future__ import annotations

from celery import Celery
from kombu import Connection, Exchange, Queue

import celeryconfig
from jobcast.celery_transport import Channel, SentinelChannel, transport_for
from jobcast.settings import Settings


def test_celery_gets_the_transport_for_its_broker() -> None:
    plain = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0")  # type: ignore[call-arg]
    assert celeryconfig.config_for(plain)["broker_transport"] == transport_for(False)
    assert transport_for(True).endswith(":SentinelTransport")
    assert SentinelChannel._create_client is Channel._create_client  # the same behind Sentinel


def test_a_channel_reuses_its_client_and_messages_go_through(settings: Settings) -> None:
    app = Celery("transport-test")
    app.config_from_object(celeryconfig.config_for(settings))
    queue = Queue("transport-test", Exchange("transport-test"), "transport-test")
    with app.connection_for_write() as connection:
        assert isinstance(connection, Connection)
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        first = channel._create_client()
        assert channel._create_client() is first
        with connection.Producer() as producer:
            for n in range(3):
                producer.publish({"n": n}, exchange=queue.exchange, routing_key="transport-test",
                                 declare=[queue])  # fmt: skip
        got = [queue(channel).get(no_ack=True).payload for _ in range(3)]
        assert got == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert channel._create_client() is first

        channel._pool = None  # as kombu drops a pool when its connection is lost
        assert channel._create_client() is not first
