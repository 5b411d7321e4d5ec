"""Ids go into URL paths as one segment each, whatever they hold: a caller's id never walks to
another route, and an id that names nothing is the server's 404 as a NotFoundError."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobcast.client import Client, errors
from tests.client.conftest import ClientStack

ODD_IDS = ["../me", "..", ".", "a/b", "x?y#z", "%2F", "..%2Fme", "é", " "]


def calls(client: Client, tmp_path: Path) -> list[tuple[Callable[[str], Any], str]]:
    """Each client call that puts a caller's id in a path, with what its 404 says."""
    return [
        (client.job, "No job with that id."),
        (client.cancel, "No job with that id."),
        (client.result, "No job with that id."),
        (lambda job_id: client.download(job_id, tmp_path / "out"), "No job with that id."),
        (client.order, "No order with that id."),
        (client.cancel_order, "No order with that id."),
        (client.quote, "No symbol"),
        (client.book, "No symbol"),
        (client.trades, "No symbol"),
    ]


@pytest.mark.parametrize("odd", ODD_IDS)
def test_an_id_of_any_shape_is_one_path_segment_and_a_404_names_it(
    stack: ClientStack, tmp_path: Path, odd: str
) -> None:
    # `job("../me")` sent GET /me and raised pydantic's ValidationError on the answer.
    with Client(stack.url, stack.key) as client:
        for call, words in calls(client, tmp_path):
            with pytest.raises(errors.NotFoundError) as missing:
                call(odd)
            assert missing.value.status == 404
            assert missing.value.message.startswith(words), (odd, missing.value.message)


def test_an_empty_id_is_a_404_without_a_request(stack: ClientStack, tmp_path: Path) -> None:
    # `/jobs/` is no address (the api answers 404 naming `/jobs`, the list), not a job's.
    with Client(stack.url, stack.key) as client:
        for call, words in calls(client, tmp_path):
            with pytest.raises(errors.NotFoundError) as missing:
                call("")
            assert (missing.value.status, missing.value.local) == (404, True)
            assert missing.value.message.startswith(words), missing.value.message
