"""Prometheus metrics of the push layer, in prometheus-client's default registry (`/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("jobcast_ws_connections", "Open WebSocket connections in this api process.")
SUBSCRIPTIONS = Gauge(
    "jobcast_ws_subscriptions", "Channel subscriptions held by this process's WebSockets."
)
HUB_CHANNELS = Gauge(
    "jobcast_ws_hub_channels", "Redis pub/sub channels this process's hub is subscribed to."
)
EVENTS_DELIVERED = Counter(
    "jobcast_ws_events_delivered_total", "Events written to WebSocket clients."
)
SLOW_CLIENT_DISCONNECTS = Counter(
    "jobcast_ws_slow_client_disconnects_total",
    "WebSockets closed with 4008 because their send queue was full.",
)
HUB_RESUBSCRIPTIONS = Counter(
    "jobcast_ws_hub_resubscriptions_total",
    "Channels resubscribed after the hub's Redis connection dropped.",
)
DELIVERY_DELAY = Histogram(
    "jobcast_ws_delivery_delay_seconds",
    "Time from an event's commit (its `ts`) to its write to a WebSocket client.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
