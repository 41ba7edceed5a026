"""The emulator served from a background thread, for synchronous callers.

Tests of a command-line tool or of synchronous code (click's ``CliRunner``
runs ``asyncio.run`` itself) cannot share the test's event loop with the
emulator, so the emulator gets a loop of its own in a daemon thread. Its
fault plan, request log and store stay usable from the calling thread: the
fault plan is locked, the others are only appended to or read.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from .server import Emulator

__all__ = ["emulator_in_thread"]

_START_TIMEOUT = 30.0


@contextlib.contextmanager
def emulator_in_thread(**kwargs: Any) -> Iterator[Emulator]:
    """An :class:`Emulator` serving until the ``with`` block ends.

    ``kwargs`` are :class:`Emulator`'s arguments (``starting_credits``,
    ``render_seconds``...).
    """
    loop = asyncio.new_event_loop()
    emu = Emulator(**kwargs)
    thread = threading.Thread(target=loop.run_forever, name="nemo-emulator", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(emu.start(), loop).result(_START_TIMEOUT)
        yield emu
    finally:
        try:
            asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(_START_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_START_TIMEOUT)
            loop.close()
