"""A failed job's error tells its owner what to do, without the server's paths or internals."""

from __future__ import annotations

from jobcast.jobs.errors import public_error


def test_server_paths_leave_the_message_and_the_advice_stays() -> None:
    error = {
        "code": "unreadable_file",
        "message": "The csv file could not be read: "
        "open /srv/jobcast/var/uploads/u_1.part: no such file",
    }
    shown = public_error(error)
    assert shown["code"] == "unreadable_file"
    assert "/srv" not in shown["message"]
    assert shown["message"].startswith("The csv file could not be read: open <path>")


def test_exception_text_of_a_bug_or_an_outage_is_replaced_by_what_to_do() -> None:
    for code in ("internal_error", "transient_error"):
        shown = public_error({"code": code, "message": "OSError: [Errno 28] /data/artifacts/x"})
        assert "Errno" not in shown["message"]
        assert "resubmit" in shown["message"].lower()


def test_messages_without_paths_and_other_values_are_left_alone() -> None:
    plain = {"code": "too_many_columns", "message": "The table has 2001 columns; at most 2000."}
    assert public_error(plain) == plain
    assert public_error({"code": "ragged_rows", "message": "Rows 3/4 of 10 differ"}) == {
        "code": "ragged_rows",
        "message": "Rows 3/4 of 10 differ",
    }
    assert public_error(None) is None
