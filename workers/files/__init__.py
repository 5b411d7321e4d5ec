"""File jobs.

Detect a table's format, stream it in record batches, profile / aggregate / convert it.

Everything here but `tasks.py` and `sweeper.py` is pure (no Redis, no Celery)
and tested on its own.
"""
