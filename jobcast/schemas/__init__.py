"""The public API's request and response models: pure pydantic, shared by the api and clients.

Nothing here imports a web framework or a data library, so a client can use these models with
only pydantic installed. The api declares them as its routes' models, so the OpenAPI document,
the server and the client describe each answer the same way.
"""

from jobcast.jobs.params import JobParams
from jobcast.schemas.admin import ApiKey
from jobcast.schemas.data import DataCreate, DataItem, DataPage, DataUpdate
from jobcast.schemas.errors import ErrorDetail, ErrorResponse
from jobcast.schemas.health import Alive, Ready
from jobcast.schemas.jobs import (
    AggregateResult,
    ColumnProfile,
    ConvertResult,
    Histogram,
    Job,
    JobError,
    JobLinks,
    JobPage,
    JobProgress,
    JobResult,
    JobStatus,
    JobWithResult,
    ProfileResult,
    TopValue,
)
from jobcast.schemas.market import (
    BookDepth,
    Fill,
    FillList,
    Level,
    Quote,
    SymbolInfo,
    SymbolList,
    Trade,
    TradeList,
)
from jobcast.schemas.me import Limits, Me
from jobcast.schemas.orders import (
    BatchResult,
    Order,
    OrderBatchCreate,
    OrderBatchResult,
    OrderCreate,
    OrderPage,
    OrderStatus,
)
from jobcast.schemas.realtime import WsTicket

__all__ = [
    "AggregateResult",
    "Alive",
    "ApiKey",
    "BatchResult",
    "BookDepth",
    "ColumnProfile",
    "ConvertResult",
    "DataCreate",
    "DataItem",
    "DataPage",
    "DataUpdate",
    "ErrorDetail",
    "ErrorResponse",
    "Fill",
    "FillList",
    "Histogram",
    "Job",
    "JobError",
    "JobLinks",
    "JobPage",
    "JobParams",
    "JobProgress",
    "JobResult",
    "JobStatus",
    "JobWithResult",
    "Level",
    "Limits",
    "Me",
    "Order",
    "OrderBatchCreate",
    "OrderBatchResult",
    "OrderCreate",
    "OrderPage",
    "OrderStatus",
    "ProfileResult",
    "Quote",
    "Ready",
    "SymbolInfo",
    "SymbolList",
    "TopValue",
    "Trade",
    "TradeList",
    "WsTicket",
]
