"""What a batch takes decoded, and the budget that fails a job past its caps (no Redis)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from workers.files.decoded import DECODED_SLACK, DecodedBudget, decoded_size
from workers.files.errors import FileJobError


def repeated(rows: int, width: int) -> pa.RecordBatch:
    indices = pa.array(np.zeros(rows, dtype=np.int32))
    return pa.record_batch({"v": pa.DictionaryArray.from_arrays(indices, ["x" * width])})


def test_a_dictionary_counts_as_the_values_its_rows_name() -> None:
    batch = repeated(1000, 1000)
    assert batch.nbytes < 10_000  # what Arrow holds: one value and the indices
    decoded = pa.record_batch({"v": batch["v"].dictionary_decode()})
    assert decoded_size(batch) == pytest.approx(decoded.nbytes, rel=0.01)


def test_plain_columns_count_their_buffers() -> None:
    batch = pa.record_batch({"a": pa.array(range(100), pa.int64()), "s": pa.array(["ab"] * 100)})
    assert decoded_size(batch) == batch.nbytes


def test_the_ratio_applies_past_the_slack_and_the_cap_in_all() -> None:
    budget = DecodedBudget(stored_bytes=1000, cap=1 << 40, ratio=10)
    budget.decoded = DECODED_SLACK  # what batches before decoded
    budget.spend(repeated(1, 9000))  # slack + 10 x 1000, just
    with pytest.raises(FileJobError, match="10 times the file's size") as failure:
        budget.spend(repeated(1, 2000))
    assert failure.value.code == "decoded_too_large"
    capped = DecodedBudget(stored_bytes=1 << 40, cap=5 << 20, ratio=10)
    with pytest.raises(FileJobError, match="more than 5 MiB once decoded"):
        capped.spend(repeated(6, 1 << 20))
