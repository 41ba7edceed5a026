"""``nemo_sdk``'s lazily imported public names (PEP 562, ``nemo_sdk/__init__.py``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nemo_sdk
import nemo_sdk.models

LAZY_PACKAGES = [nemo_sdk, nemo_sdk.models]


def _type_checking_imports(package: object) -> dict[str, str]:
    """name -> module of every ``from .module import Name as Name`` under TYPE_CHECKING."""
    tree = ast.parse(Path(package.__file__).read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                for alias in stmt.names:
                    assert alias.asname == alias.name, f"{alias.name}: use `as {alias.name}`"
                    names[alias.name] = "." * stmt.level + (stmt.module or "")
    return names


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_the_lazy_table_and_the_type_checking_block_agree(package: object) -> None:
    assert _type_checking_imports(package) == package._EXPORTS  # type: ignore[attr-defined]


@pytest.mark.parametrize("package", LAZY_PACKAGES, ids=lambda p: p.__name__)
def test_every_public_name_imports_from_its_module(package: object) -> None:
    for name in package.__all__:  # type: ignore[attr-defined]
        value = getattr(package, name)
        assert value is not None, name
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)  # type: ignore[attr-defined]
    assert set(package.__all__) <= set(namespace)  # type: ignore[attr-defined]


def test_unknown_names_raise_attribute_error() -> None:
    for name in ("NoSuchThing", "_private", "no_such_module"):
        assert not hasattr(nemo_sdk, name)


def _python(code: str) -> str:
    """What ``code`` prints in a fresh interpreter (imports already made here do not count)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_submodules_are_reachable_as_attributes() -> None:
    assert nemo_sdk.workflows.__name__ == "nemo_sdk.workflows"  # type: ignore[attr-defined]


def test_import_nemo_sdk_loads_no_heavy_module() -> None:
    code = (
        "import sys, nemo_sdk; print(sorted(m for m in ('aiohttp', 'pydantic', 'nemo_sdk.client', "
        "'nemo_sdk.emulator', 'nemo_sdk.cli', 'sqlite3') if m in sys.modules))"
    )
    out = _python(code)
    assert out.strip() == "[]"


def test_the_client_does_not_load_the_emulator_or_cli() -> None:
    code = (
        "import sys; from nemo_sdk import NemoClient; print(sorted(m for m in sys.modules "
        "if m.split('.')[:2] in (['nemo_sdk', 'emulator'], ['nemo_sdk', 'cli'], ['sqlite3'])))"
    )
    out = _python(code)
    assert out.strip() == "[]"


def test_the_client_defines_no_model_until_a_resource_is_used() -> None:
    # The wire models (and pydantic's model machinery) arrive with the first resource
    # used, and only that resource's: reading credits does not define the draft models.
    code = (
        "import sys; from nemo_sdk import NemoClient; "
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith(('nemo_sdk.models', "
        "'nemo_sdk.resources.', 'pydantic.main'))); print(loaded()); "
        "c = NemoClient(token='t', client_id='c', journal_path=False); c.credits; print(loaded())"
    )
    out = _python(code)
    before, after = out.splitlines()
    assert before == "[]"
    assert "'nemo_sdk.models.credits'" in after and "'nemo_sdk.resources.credits'" in after
    assert "nemo_sdk.models.draft" not in after and "nemo_sdk.resources.chat" not in after


def test_the_token_cache_loads_only_when_turned_on(tmp_path: Path) -> None:
    code = (
        "import sys; from nemo_sdk import NemoClient; "
        "loaded = lambda: print('nemo_sdk._http.token_cache' in sys.modules); "
        "NemoClient(client_id='c', journal_path=False); loaded(); "
        f"NemoClient(client_id='c', journal_path=False, token_cache={str(tmp_path / 't.json')!r}); "
        "loaded()"
    )
    out = _python(code)
    assert out.split() == ["False", "True"]


def test_the_sync_facade_loads_only_when_imported() -> None:
    # ``nemo_sdk.sync`` (and its loop thread) is for sync programs: neither
    # ``import nemo_sdk`` nor the async client brings it; importing it starts no thread.
    code = (
        "import sys, threading, nemo_sdk; from nemo_sdk import NemoClient; "
        "NemoClient(token='t', client_id='c', journal_path=False); "
        "print('nemo_sdk.sync' in sys.modules); import nemo_sdk.sync; "
        "print('nemo_sdk.sync' in sys.modules, threading.active_count())"
    )
    out = _python(code)
    assert out.split() == ["False", "True", "1"]
