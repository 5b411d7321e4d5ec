"""Rebuild the derived files of this corpus from the originals beside them (see README.md).

Run once by hand (`.venv/bin/python tests/data/real/derive.py`); the tests read the results,
which are committed. Each derived file changes only the container, line endings, encoding or
shape of real data; no value is invented.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent


def main() -> None:
    # Classic Mac line endings (bare CR), as Excel for Mac writes CSV.
    (HERE / "debian-cr.csv").write_bytes((HERE / "debian.csv").read_bytes().replace(b"\n", b"\r"))
    # The ISO 3166 table of tzdata, its comment lines dropped, given a header, in three encodings.
    lines = [ln for ln in (HERE / "iso3166.tab").read_text("utf-8").splitlines() if ln[:1] != "#"]
    text = "code\tname\n" + "\n".join(lines) + "\n"
    (HERE / "iso3166-cp1252.tsv").write_bytes(text.encode("cp1252"))
    (HERE / "iso3166-utf16.tsv").write_bytes(text.encode("utf-16"))  # with its BOM
    (HERE / "iso3166-utf8bom.tsv").write_bytes(text.encode("utf-8-sig"))
    # Seattle's weather as a spreadsheet in most of Europe exports it: `;` and decimal commas.
    weather = pd.read_csv(HERE / "seattle-weather.csv")
    weather.to_csv(HERE / "seattle-weather-eu.csv", sep=";", decimal=",", index=False)
    # Stock prices pivoted to a wide table whose header is years (as World Bank tables are).
    stocks = pd.read_csv(HERE / "stocks.csv")
    stocks["year"] = stocks["date"].str[-4:]
    wide = stocks.pivot_table(index="symbol", columns="year", values="price", aggfunc="max")
    wide.reset_index().to_csv(HERE / "stocks-wide.csv", index=False)
    # Debian's releases with the version as a float: the missing ones stored as NaN, as numpy
    # and Spark writers do (from_pandas=False keeps NaN instead of making it null).
    debian = pd.read_csv(HERE / "debian.csv")
    arrays = [pa.array(debian[c].to_numpy(), from_pandas=c != "version") for c in debian]
    pq.write_table(pa.Table.from_arrays(arrays, names=list(debian)), HERE / "debian-nan.parquet")
    # Spreadsheets: the stock prices as .xlsx (openpyxl) and Ubuntu's releases as .ods (odfpy).
    stocks.drop(columns="year").to_excel(HERE / "stocks.xlsx", index=False, engine="openpyxl")
    pd.read_csv(HERE / "ubuntu.csv").to_excel(HERE / "ubuntu.ods", index=False, engine="odf")


if __name__ == "__main__":
    main()
