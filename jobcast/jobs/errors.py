"""A failed job's error as its owner sees it: the code and what to do, no server internals.

Exception text can carry server paths (`/srv/jobcast/var/uploads/…`), hosts and ports. The
owner needs none of it: they need to know what to change. The full text stays in the worker's
log, with the traceback, for operators.
"""

from __future__ import annotations

import re
from typing import Any

#: An absolute path (two segments or more) in a message: a server detail, never the client's.
SERVER_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.@+~-]+/)+[\w.@+~-]*")
#: Codes whose message is exception text by construction, replaced by what the owner can do.
GENERIC_MESSAGES = {
    "internal_error": "The job failed on a fault of ours, not of your file; it was logged. "
    "Resubmit it, and quote the job id if it fails again.",
    "transient_error": "Storage or Redis kept failing while the job ran; resubmit it.",
}


def public_error(error: Any) -> Any:
    """`error` ({"code", "message"}) fit to show its owner; anything else as it is."""
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return error
    generic = GENERIC_MESSAGES.get(str(error.get("code")))
    message = generic or SERVER_PATH.sub("<path>", error["message"])
    return {**error, "message": message}
