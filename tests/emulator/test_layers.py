"""The emulator imports only the wire models (and the stdlib, aiohttp, av...), never the client.

A static scan of every import in ``nemo_sdk/emulator/**``, those inside functions and
``TYPE_CHECKING`` blocks included: the emulator must stay a separate service that speaks
the contract, not a part of the client that could agree with it by sharing its code.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import nemo_sdk.emulator

PACKAGE = Path(nemo_sdk.emulator.__file__).parent
# nemo_sdk.models: the wire models (and models.limits, the contract's upload limits).
ALLOWED_INTERNAL = ("nemo_sdk.models", "nemo_sdk.emulator")
ALLOWED_THIRD_PARTY = {"aiohttp", "multidict", "yarl", "pydantic", "av", "numpy", "PIL"}


def _module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = node.module or ""
            if node.level:
                target = f"{base}.{target}" if target else base
            # ``from . import x`` may import a submodule: name it.
            names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            for name in names:
                yield node.lineno, name


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_emulator_imports_only_the_wire_models_and_libraries() -> None:
    wrong = []
    for path in _files():
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top == "nemo_sdk":
                ok = any(name == a or name.startswith(a + ".") for a in ALLOWED_INTERNAL)
            else:
                ok = top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY
            if not ok:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line}: {name}")
    assert not wrong, "the emulator imports beyond the wire models:\n" + "\n".join(wrong)


def test_the_scan_sees_relative_imports_of_the_client() -> None:
    # The scan itself: ``from ..errors import X`` in an emulator module names nemo_sdk.errors.
    probe = PACKAGE / "routes_upload.py"
    names = {name for _, name in _imports(probe)}
    assert "nemo_sdk.models.limits" in names
    assert "nemo_sdk.emulator._http" in names


def test_routes_never_see_the_emulator_and_keep_no_state_of_their_own() -> None:
    for path in PACKAGE.glob("routes_*.py"):
        names = {name for _, name in _imports(path)}
        assert "nemo_sdk.emulator.server" not in names, path.name
        assert "weakref" not in names, path.name  # per-emulator state lives in EmulatorState
        assert "Emulator" not in {
            n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)
        }, path.name
