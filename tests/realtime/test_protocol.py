"""Parsing client frames and reading seqs: pure functions, no Redis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jobcast.events import seq_of, with_seq
from jobcast.seq import seq_key
from realtime.protocol import ProtocolError, error, parse


def test_a_subscribe_frame_is_parsed_with_its_fields() -> None:
    message = parse('{"type": "subscribe", "channel": "job.a", "since": "1-0", "id": 3}', 1000)
    assert (message.type, message.channel, message.since, message.id) == (
        "subscribe",
        "job.a",
        "1-0",
        3,
    )


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("nope", "bad_json"),
        ("[1]", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"type": ["ping"]}', "unknown_type"),
        ('{"type": {"ping": 1}}', "unknown_type"),
        ('{"type": "subscribe", "channel": 5}', "bad_field"),
        ('{"type": "publish", "channel": "chat.a", "data": "hi"}', "bad_field"),
        ('{"type": "subscribe", "channel": "job.a", "since": "garbage"}', "bad_field"),
        ('{"type": "subscribe", "channel": "job.a", "since": "12"}', "bad_field"),
        ('{"type": "ping", "pad": "' + "x" * 100 + '"}', "too_large"),
    ],
)
def test_bad_frames_are_refused_with_a_code(frame: str, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse(frame, 64)
    assert refused.value.code == code


def test_a_frame_that_is_not_json_is_told_where_the_parser_stopped() -> None:
    """A syntax error says where it is, as the HTTP API's 422 does, not the number limits."""
    with pytest.raises(ProtocolError) as refused:
        parse("{nope}", 64)
    assert refused.value.code == "bad_json"
    assert refused.value.message == (
        "The message is not JSON: Expecting property name enclosed in double quotes "
        "at character 1. Each message must be a JSON object."
    )


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("[" * 5000 + "]" * 5000, "bad_json"),  # deeper than the parser's recursion
        ('{"type": "ping", "id": ' + "9" * 5000 + "}", "bad_json"),  # past the digit limit
        ('{"type": "ping", "id": NaN}', "bad_json"),  # `ref` would not be JSON
        ('{"type": "ping", "id": 1e999}', "bad_json"),
        (
            '{"type": "subscribe", "channel": "job.a", "since": "18446744073709551616-0"}',
            "bad_field",
        ),
    ],
)
def test_frames_python_could_parse_only_at_a_cost_are_refused(frame: str, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse(frame, 64 * 1024)
    assert refused.value.code == code


def test_seqs_sort_numerically_and_are_read_without_parsing() -> None:
    assert seq_key("1700000000000-10") > seq_key("1700000000000-9")
    assert seq_of(with_seq("1700-3", '{"channel":"x"}')) == "1700-3"


def test_errors_echo_the_request_id_as_ref() -> None:
    assert (
        error("not_found", "No.", ref="a")
        == '{"type":"error","code":"not_found","message":"No.","ref":"a"}'
    )


def test_an_unknown_type_names_the_types_readme_documents_and_keeps_the_id() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("| client → server | meaning |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r'^\| `\{"type": "([a-z.]+)"', table, re.MULTILINE))
    with pytest.raises(ProtocolError) as refused:
        parse('{"type": "shout", "id": 9}', 1000)
    named = set(re.findall(r"'([a-z.]+)'", refused.value.message))
    assert (named, refused.value.ref) == (documented, 9)
