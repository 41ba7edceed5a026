"""Loaded at the start of each Python process a docs block runs (``tests/test_docs.py`` puts
this directory on ``PYTHONPATH``): the emulator a block starts in its own process
(``embedded_client()``, ``nemo --emulator``) paints 160x90 clips at 12 fps on a 160x90
canvas. Its clips keep their length; a prompt's "1080p" still sizes its export. Nothing
else of the block changes: this only updates ``nemo_sdk.offline.DEMO_KNOBS`` once that
module is imported.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

SMALL_DEMO = {
    "clip_width": 160,
    "clip_height": 90,
    "clip_fps": 12,
    "canvas_width": 160,
    "canvas_height": 90,
}


class _SmallDemo(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != "nemo_sdk.offline":
            return None
        sys.meta_path.remove(self)  # once, and the real finders find it
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            module.DEMO_KNOBS.update(SMALL_DEMO)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _SmallDemo())
