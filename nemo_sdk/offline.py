"""A client on an emulator started in this process: the whole SDK, offline.

For examples, demos and trying things out without an account::

    async with embedded_client() as nemo:
        result = await nemo.generate_and_export("a sunset", "sunset.mp4")

Needs the ``emulator`` extra. The emulator's "AI" is rule-based: it paints a
procedural clip for ``generate <prompt>`` and understands a few edit phrases.

This module is the one place a demo emulator and its client are made: the CLI's
``--emulator`` uses :func:`embedded_client`, the pytest plugin's clients
:func:`embedded_client_options`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from .client import NemoClient
from .config import DEPRECATED, RenderSettings

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["DEMO_KNOBS", "embedded_client", "embedded_client_options"]

DEMO_KNOBS: dict[str, Any] = {
    # A 5 s 720p clip: long enough to look at, quick to render on a laptop.
    "clip_seconds": 5,
    "clip_width": 1280,
    "clip_height": 720,
    "clip_fps": 24,
    "render_seconds": 0.2,
    # Enough for a few generations and edits; the real service starts anonymous users at 100.
    "starting_credits": 1000,
}
"""The embedded emulator's settings unless told otherwise (``embedded_client``, ``--emulator``)."""


# The options that set how renders are polled: any of them, and the demo's default stays out.
_RENDER_OPTIONS = {"render_settings"} | {
    name for name, (group, _) in DEPRECATED.items() if group == "render_settings"
}


def embedded_client_options(emu: Emulator, **options: Any) -> dict[str, Any]:
    """:class:`NemoClient` arguments for a client of ``emu``; ``options`` win.

    The emulator is on loopback (never through a proxy), renders in about a second (polls
    every 0.2 s, not the service's 10 s), and its renders die with it: they are journaled
    in its data directory, not the user's journal.
    """
    defaults: dict[str, Any] = {
        "base_url": emu.url,
        "journal_path": emu.data_dir / "renders.sqlite3",
        "trust_env": False,
    }
    if not options.keys() & _RENDER_OPTIONS:  # a caller's own render polling wins, whole
        defaults["render_settings"] = RenderSettings(poll_interval=0.2)
    return {**defaults, **options}


@contextlib.asynccontextmanager
async def embedded_client(
    *,
    quiet: bool = False,
    note: Callable[[str], object] = print,
    client_options: dict[str, Any] | None = None,
    **knobs: Any,
) -> AsyncIterator[NemoClient]:
    """A :class:`NemoClient` on a fresh in-process emulator, both closed on exit.

    Args:
        quiet: do not say the emulator's address.
        note: how to say it (``print``).
        client_options: more :class:`NemoClient` arguments (``render_settings``...),
            over :func:`embedded_client_options`.
        knobs: :class:`~nemo_sdk.emulator.Emulator` arguments over :data:`DEMO_KNOBS`.
    """
    from .emulator import Emulator

    async with Emulator(**{**DEMO_KNOBS, **knobs}) as emu:
        if not quiet:
            note(f"embedded emulator at {emu.url} (offline; its 'AI' is rule-based)")
        async with NemoClient(**embedded_client_options(emu, **(client_options or {}))) as nemo:
            yield nemo
