"""The public API models are importable by a client that has only pydantic."""

from __future__ import annotations

import json
import subprocess
import sys

#: Top-level packages `jobcast.schemas` may load: pydantic and what pydantic itself needs.
ALLOWED = {
    "jobcast",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
    "annotated_types",
    "typing_inspection",
}

PROBE = """
import json, sys
before = set(sys.modules)
import jobcast.schemas
print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))
"""


def test_schemas_import_nothing_but_pydantic_and_the_standard_library() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))

    third_party = {
        m
        for m in loaded - ALLOWED
        if m not in sys.stdlib_module_names and not m.startswith("_sysconfigdata")
    }
    assert not third_party, f"jobcast.schemas pulled in {sorted(third_party)}"
    assert "jobcast" in loaded
