"""Open enumerations: the values a server knows today, in a set a newer server may extend.

A client lags the server it talks to (installed elsewhere, or the server was upgraded, or
downgraded over records a newer version wrote). An answer's field typed `Open[Known]` lists the
known values in the OpenAPI schema, yet reads a value outside them as plain text instead of
refusing the whole answer. Only answers use it: a request keeps its closed `Literal`, so the
server still refuses a value it cannot act on.
"""

from __future__ import annotations

from typing import TypeAlias, TypeVar

Known = TypeVar("Known")

#: `Open[Literal["a", "b"]]`: "a", "b", or any other text a newer server sends.
Open: TypeAlias = Known | str
