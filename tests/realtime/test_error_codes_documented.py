"""README's WebSocket error codes and the push layer's stay in step: every code `realtime/` sends
in an `error` message is in README's list, and the list names none it never sends."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from realtime import refusals

ROOT = Path(__file__).resolve().parents[2]
#: The callables whose first argument is the code of an `error` message sent to the client
#: (`RefusedError`: that message, then the close).
ERROR_BUILDERS = frozenset({"ProtocolError", "RefusedError", "error"})


def documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    listing = readme.split("**Error codes**:", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`(\w+)`", listing))


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _codes_in(tree: ast.AST) -> set[str]:
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and _called(node) in ERROR_BUILDERS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def sent() -> set[str]:
    sources = [*(ROOT / "realtime").rglob("*.py"), ROOT / "api" / "routes" / "ws.py"]
    codes = set().union(*(_codes_in(ast.parse(path.read_text())) for path in sources))
    # Raised with a named constant: the close reason, also the code of the error before it.
    return codes | {refusals.TOO_MANY_REFUSED_FRAMES}


def test_the_readme_lists_every_error_code_the_push_layer_sends() -> None:
    assert sorted(sent() - documented()) == []


def test_the_readme_lists_no_error_code_the_push_layer_never_sends() -> None:
    codes = sent()
    assert len(codes) >= 20, "the push layer's error codes were not found"
    assert sorted(documented() - codes) == []
