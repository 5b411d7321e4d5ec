"""The shape of a job id, `j_` and 24 lowercase hex digits: apart from the store (api/job_store.py
makes them) so the CLI refuses a malformed id the same way the api does, before asking."""

from __future__ import annotations

import re

#: Job ids as `api.job_store.new_job_id` makes them.
JOB_ID = re.compile(r"j_[0-9a-f]{24}")
#: The shape in words, with an example, for a message about an id that does not have it.
JOB_ID_FORM = "j_ and 24 lowercase hex digits (e.g. j_6f1c0e6b2f9d4a7c8e3b5a10)"
