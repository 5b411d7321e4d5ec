"""Whether a real answer carries the headers its OpenAPI operation declares, and only those."""

from __future__ import annotations

from typing import Any

import httpx

from api.openapi_headers import DESCRIPTIONS


def header_mismatch(
    spec: dict[str, Any], method: str, template: str, answer: httpx.Response
) -> str:
    """'' when `answer` has every header its operation and status declare as required, and
    every header `api.openapi_headers` knows of that it carries is declared; else what is not."""
    status = str(answer.status_code)
    declared = spec["paths"][template][method.lower()]["responses"][status].get("headers", {})
    sent = {name for name in DESCRIPTIONS if name in answer.headers}
    required = {name for name, value in declared.items() if value["required"]}
    problems = []
    if required - sent:
        problems.append(f"declared, not sent: {sorted(required - sent)}")
    if sent - set(declared):
        problems.append(f"sent, not declared: {sorted(sent - set(declared))}")
    return f"{method.upper()} {template} {status}: " + "; ".join(problems) if problems else ""
