"""Realtime fixtures: keys come from `make_principal` in tests/conftest.py."""

from __future__ import annotations

from tests.conftest import MakePrincipal

#: The name realtime tests import for the principal factory's type.
MakeKey = MakePrincipal
