"""Public names imported on first use (PEP 562), for ``nemo_sdk`` and ``nemo_sdk.models``.

A package keeps one table, name -> the module that defines it; its ``__getattr__`` and
``__dir__`` come from here. The package's ``if TYPE_CHECKING:`` imports (what mypy,
pyright and IDEs read) are written from the table by ``scripts/lazy_exports.py``, and
``tests/unit/test_public_names.py`` fails when they differ: nothing is kept by hand twice.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["attach"]


def attach(
    package: str, table: Mapping[str, str], *, submodules: bool = False
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, importing ``table``'s names on first use.

    ``submodules``: any other public name is tried as a submodule (``nemo_sdk.workflows``
    used to arrive with ``import nemo_sdk``).
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module, package), name)
        elif submodules and not name.startswith("_"):
            try:
                value = importlib.import_module(f".{name}", package)
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        vars(sys.modules[package])[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        namespace = vars(sys.modules[package])
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
