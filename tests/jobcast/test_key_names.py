"""A new principal's name is one line of visible text (`jobcast.keys.check_name`)."""

from __future__ import annotations

import pytest
import redis

from jobcast.keys import MAX_NAME_LENGTH, InvalidNameError, check_name, create_key, list_keys
from jobcast.settings import Settings


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("\x1b[31mEVIL\x1b[0m", "holds U+001B"),  # colours a terminal that prints it
        ("alice\nfake line joined", "holds U+000A"),  # forges a line in chat
        ("bob\u202e", "holds U+202E"),  # turns the text after it around
        ("x" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH} characters"),
        ("   ", "not blank"),
    ],
)
def test_a_name_that_would_not_show_as_itself_is_refused(name: str, said: str) -> None:
    with pytest.raises(InvalidNameError, match=said.replace("+", r"\+")):
        check_name(name)


def test_names_are_kept_without_surrounding_blanks_and_may_be_any_script() -> None:
    assert check_name("  Zoë Ωmega 🚀 ") == "Zoë Ωmega 🚀"


def test_create_key_refuses_a_new_principal_with_such_a_name_and_writes_nothing(
    redis_client: redis.Redis, settings: Settings
) -> None:
    with pytest.raises(InvalidNameError):
        create_key(redis_client, settings.secret("key_secret"), "\x1b[2Jwiped")
    assert list_keys(redis_client) == []
