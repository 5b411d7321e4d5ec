"""The cell texts read as missing, as pandas reads them by default."""

from __future__ import annotations

#: pandas' default `na_values` (`pandas._libs.parsers.STR_NA_VALUES`; a test keeps them equal).
PANDAS_NA_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
