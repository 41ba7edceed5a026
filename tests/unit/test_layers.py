"""The layers the pipeline keeps: aiohttp is the business of ``nemo_sdk._http`` alone."""

from __future__ import annotations

import ast
from pathlib import Path

import nemo_sdk

PACKAGE = Path(nemo_sdk.__file__).parent
# The emulator and the test plugin's ``serving`` rig are servers (aiohttp's web side);
# the pipeline is the client side.
ALLOWED = ("_http", "emulator", "testing.py")


def _imports_aiohttp(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        if any(n == "aiohttp" or n.startswith("aiohttp.") for n in names):
            lines.append(node.lineno)
    return lines


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Lines of imports under ``if TYPE_CHECKING:`` (for annotations, never run)."""
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            lines.update(_imports_aiohttp(ast.Module(body=node.body, type_ignores=[])))
    return lines


def test_no_module_outside_the_pipeline_imports_aiohttp() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ALLOWED:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        # client.py types the aiohttp session a user may pass through, and nothing more.
        running = set(_imports_aiohttp(tree)) - _type_checking_only(tree)
        offenders += [f"{relative}:{line}" for line in sorted(running)]
    assert offenders == []
