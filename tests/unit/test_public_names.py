"""``nemo_sdk``'s lazily imported public names (PEP 562, ``nemo_sdk/__init__.py``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nemo_sdk

INIT = Path(nemo_sdk.__file__)


def _type_checking_imports() -> dict[str, str]:
    """name -> module of every ``from .module import Name as Name`` under TYPE_CHECKING."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                for alias in stmt.names:
                    assert alias.asname == alias.name, f"{alias.name}: use `as {alias.name}`"
                    names[alias.name] = "." * stmt.level + (stmt.module or "")
    return names


def test_the_lazy_table_and_the_type_checking_block_agree() -> None:
    assert _type_checking_imports() == nemo_sdk._EXPORTS


def test_every_public_name_imports_from_its_module() -> None:
    for name in nemo_sdk.__all__:
        value = getattr(nemo_sdk, name)
        assert value is not None, name
    namespace: dict[str, object] = {}
    exec("from nemo_sdk import *", namespace)
    assert set(nemo_sdk.__all__) <= set(namespace)


def test_unknown_names_raise_attribute_error() -> None:
    for name in ("NoSuchThing", "_private", "no_such_module"):
        assert not hasattr(nemo_sdk, name)


def test_submodules_are_reachable_as_attributes() -> None:
    assert nemo_sdk.workflows.__name__ == "nemo_sdk.workflows"  # type: ignore[attr-defined]


def test_import_nemo_sdk_loads_no_heavy_module() -> None:
    code = (
        "import sys, nemo_sdk; print(sorted(m for m in ('aiohttp', 'pydantic', 'nemo_sdk.client', "
        "'nemo_sdk.emulator', 'nemo_sdk.cli', 'sqlite3') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_client_does_not_load_the_emulator_or_cli() -> None:
    code = (
        "import sys; from nemo_sdk import NemoClient; print(sorted(m for m in sys.modules "
        "if m.split('.')[:2] in (['nemo_sdk', 'emulator'], ['nemo_sdk', 'cli'], ['sqlite3'])))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
