"""Request bodies whose JSON numbers with a fraction or an exponent are read as written.

The standard reading makes `100.00000000000000000001` the float 100.0: a price sent as a JSON
number was silently rounded, while the same figure as text met the price rule (at most 12
decimals, no exponent) and was refused. Read as its text, a number goes through that same rule.
Integers are exact already and stay ints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class JsonNumber(str):
    """A JSON number with a fraction or an exponent, as it was written (`"1.50"`, `"1e3"`).

    A `str`, so a field that takes text (a price) reads it exactly, and one that takes a strict
    int (a quantity) refuses it as it refused the float."""

    __slots__ = ()


def loads_exact(body: bytes) -> Any:
    return json.loads(body, parse_float=JsonNumber)


class ExactNumberRequest(Request):
    async def json(self) -> Any:
        return loads_exact(await self.body())  # FastAPI reads a body's JSON once


class ExactNumberRoute(APIRoute):
    """A route whose JSON body is read by `loads_exact` (one parse, as FastAPI's own)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            return await handler(ExactNumberRequest(request.scope, request.receive))

        return exact
