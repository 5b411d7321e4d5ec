"""What every WebSocket of one api process shares, built once in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from jobcast.key_cache import KeyCache
from jobcast.orders.symbols import SymbolRules, symbol_table
from jobcast.settings import Settings
from realtime.hub import ChannelHub
from realtime.send_budget import SendBudgets

if TYPE_CHECKING:
    from realtime.gate import Waiting


@dataclass
class Realtime:
    settings: Settings
    redis: aioredis.Redis
    hub: ChannelHub
    #: Open sessions of this process (counted by the monitor, closed on shutdown).
    sessions: set[Any] = field(default_factory=set)
    #: Open sockets not yet authenticated, per client address, oldest first (realtime/gate.py).
    unauthenticated: dict[str, list[Waiting]] = field(default_factory=dict)
    #: Keys this process has looked up (the REST routes' too), evicted on revocation: clients
    #: of one key reconnecting at once cost one lookup, not one each.
    key_cache: KeyCache | None = None
    #: The text queued for each principal's WebSockets in this process (realtime/send_budget.py).
    send_budgets: SendBudgets = field(init=False)

    def __post_init__(self) -> None:
        self.send_budgets = SendBudgets(self.settings.ws_send_queue_bytes_per_principal)

    @property
    def symbols(self) -> dict[str, SymbolRules]:
        """The tradable symbols, whose `market.{symbol}` channels exist."""
        return symbol_table(self.settings.order_symbols)
