"""The ``nemo`` command-line tool (the ``cli`` extra: click and rich).

``import nemo_sdk`` never imports this package; ``nemo`` and
``python -m nemo_sdk.cli`` run :func:`main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``nemo`` command with ``argv`` (default: the process arguments)."""
    try:
        from .app import cli
    except ImportError as exc:  # click or rich missing: the extra is not installed
        sys.stderr.write(f"nemo: {exc}; install the command with: pip install 'nemo-sdk[cli]'\n")
        raise SystemExit(1) from exc
    cli.main(args=list(argv) if argv is not None else None, prog_name="nemo")
