"""A client on an emulator started in this process: the whole SDK, offline.

For examples, demos and trying things out without an account::

    async with embedded_client() as nemo:
        result = await nemo.generate_and_export("a sunset", "sunset.mp4")

Needs the ``emulator`` extra. The emulator's "AI" is rule-based: it paints a
procedural clip for ``generate <prompt>`` and understands a few edit phrases.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from .client import NemoClient
from .config import DEPRECATED, RenderSettings

__all__ = ["DEMO_KNOBS", "embedded_client"]

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
"""The embedded emulator's knobs unless told otherwise."""


# The options that set how renders are polled: any of them, and the demo's default stays out.
_RENDER_OPTIONS = {"render_settings"} | {
    name for name, (group, _) in DEPRECATED.items() if group == "render_settings"
}


@contextlib.asynccontextmanager
async def embedded_client(
    *, quiet: bool = False, client_options: dict[str, Any] | None = None, **knobs: Any
) -> AsyncIterator[NemoClient]:
    """A :class:`NemoClient` on a fresh in-process emulator, both closed on exit.

    Args:
        quiet: do not print the emulator's address.
        client_options: more :class:`NemoClient` arguments (``render_settings``...).
        knobs: :class:`~nemo_sdk.emulator.Emulator` arguments over :data:`DEMO_KNOBS`.
    """
    from .emulator import Emulator

    async with Emulator(**{**DEMO_KNOBS, **knobs}) as emu:
        if not quiet:
            print(f"emulator running at {emu.url} (offline; its 'AI' is rule-based)")
        options = dict(client_options or {})
        # A local render is done in about a second: poll often, unless told otherwise.
        if not options.keys() & _RENDER_OPTIONS:
            options["render_settings"] = RenderSettings(poll_interval=0.2)
        options.setdefault("trust_env", False)  # loopback: never through a proxy
        async with NemoClient(base_url=emu.url, **options) as nemo:
            yield nemo
