"""Write the ``if TYPE_CHECKING:`` imports of a lazy package from its ``_EXPORTS`` table.

    python scripts/lazy_exports.py            # nemo_sdk and nemo_sdk.models

The table is the one list of a package's public names (see ``nemo_sdk/_lazy.py``); the
block is what type checkers read. ``tests/unit/test_public_names.py`` fails until this
has been run after a change to a table.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [ROOT / "nemo_sdk" / "__init__.py", ROOT / "nemo_sdk" / "models" / "__init__.py"]


def table(source: str) -> dict[str, str]:
    """The ``_EXPORTS`` dict literal of a package's source."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in targets):
                assert node.value is not None
                value = ast.literal_eval(node.value)
                assert isinstance(value, dict)
                return value
    raise SystemExit("no _EXPORTS table")


def block(exports: dict[str, str]) -> str:
    """The ``if TYPE_CHECKING:`` block for ``exports``."""
    lines = sorted(
        f"    from {module} import {name} as {name}\n" for name, module in exports.items()
    )
    return "if TYPE_CHECKING:\n" + "".join(lines)


def rewrite(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = [
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    ]
    if len(found) != 1:
        raise SystemExit(f"{path}: expected one `if TYPE_CHECKING:` block")
    node = found[0]
    lines = source.splitlines(keepends=True)
    assert node.end_lineno is not None
    new = [*lines[: node.lineno - 1], block(table(source)), *lines[node.end_lineno :]]
    path.write_text("".join(new), encoding="utf-8")


def main() -> None:
    for path in PACKAGES:
        rewrite(path)
    # The imports in the order the linter keeps them.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--select",
            "I",
            "--fix",
            "-q",
            *map(str, PACKAGES),
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
