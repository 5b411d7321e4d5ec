"""The stream between a stored file and pyarrow's readers: how far ahead of the batches it reads."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from workers.files.errors import FileJobError
from workers.files.streams import BlockLedger, PaddedRows


def test_reads_wait_for_the_batches_once_a_few_blocks_ahead(tmp_path: Path) -> None:
    path = tmp_path / "blocks.bin"
    path.write_bytes(b"x" * 40)
    raw = path.open("rb")
    ledger = BlockLedger(raw, raw, ahead=2)
    third_read = threading.Event()

    def read_three() -> None:
        for _ in range(3):
            ledger.readinto(bytearray(10))
        third_read.set()

    reader = threading.Thread(target=read_three, daemon=True)
    reader.start()
    assert not third_read.wait(0.5)  # two blocks read, none consumed: the third waits
    assert ledger.ends == [10, 20]

    assert ledger.processed(1) == 10  # one batch consumed: one more block may be read
    assert third_read.wait(5)
    assert ledger.ends == [10, 20, 30]
    reader.join()


def test_closing_releases_a_waiting_read_and_the_stored_file(tmp_path: Path) -> None:
    path = tmp_path / "blocks.bin"
    path.write_bytes(b"x" * 40)
    raw = path.open("rb")
    ledger = BlockLedger(io.BufferedReader(raw), raw, ahead=1)
    ledger.readinto(bytearray(10))
    got: list[int] = []
    reader = threading.Thread(target=lambda: got.append(ledger.readinto(bytearray(10))))
    reader.start()

    ledger.close()
    reader.join(5)
    assert got == [0]  # end of input: pyarrow's reader thread ends instead of waiting on
    assert raw.closed


def test_padding_passes_an_excel_sep_line_through_as_it_is() -> None:
    # `sep=;` is two fields split on `;`: fitted to one column, it failed as a row too long.
    text = b"sep=;\r\na\r\n1\r\n\r\n2\r\n"
    padded = PaddedRows(io.BytesIO(text), ";", ("a",), header=True, hint_lines=1)
    assert padded.read() == b"sep=;\na\n1\n\n2\n"


def test_padding_names_a_long_rows_line_counting_an_excel_sep_line() -> None:
    padded = PaddedRows(io.BytesIO(b"sep=;\na;b\n1\n1;2;3\n"), ";", ("a", "b"), True, 1)
    with pytest.raises(FileJobError) as failure:
        padded.read()
    assert failure.value.message.startswith("Line 4 has 3 fields")
