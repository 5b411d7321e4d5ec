"""Celery workers: thin tasks over pure analysis and matching code."""
