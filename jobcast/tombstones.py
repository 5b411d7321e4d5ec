"""Tombstones: what an expired record leaves behind, so its id answers 410 rather than 404.

A tombstone is a plain key holding the owner's principal id, beside its record: every record
that expires (jobs, orders) has it at `tombstone_key(record key)`, and the ownership rule in the
api (`api/ownership.py`) reads it there. Workers write them too (orders end in the matching
commit), so the rule's key and lifetime live here, where both runtimes can import them.
"""

from __future__ import annotations

#: Seconds a tombstone outlives its record.
TOMBSTONE_EXTRA_SECONDS = 30 * 86400
