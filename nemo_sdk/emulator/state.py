"""One emulator's world, as its routes see it: :class:`EmulatorState` on the app.

The server builds one ``EmulatorState`` and puts it on both of its aiohttp apps under
:data:`STATE_KEY`; every route reads what it needs from there (``state_of(request)``)
and nothing else: no route sees the :class:`~nemo_sdk.emulator.Emulator` itself, and
no module keeps per-emulator state of its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aiohttp import web

from .faults import FaultInjector
from .knobs import Knobs
from .records import ChatTurn, RecordedRequest, RenderRecord
from .store import Store

__all__ = ["STATE_KEY", "EmulatorState", "HasState"]


@dataclass(eq=False)
class EmulatorState:
    """Everything one emulator holds; tests reach it as ``emu.state`` (or its shortcuts).

    Attributes:
        store: tokens, users, sessions, drafts, credits.
        knobs: the settings routes read at each request (replaceable while serving).
        data_dir: where uploads, generated media and renders are written.
        random: the seeded randomness (no-text replies, noise).
        faults: the planned faults.
        requests: every request received, in order.
        renders: render jobs by id.
        turns: every chat turn accepted, in order.
        edit_charged: the sessions already charged for editing (once per session).
        streaming_routes: routes that carry out their own stream faults.
        url, cdn_url: the two origins, once serving.
    """

    store: Store
    knobs: Knobs
    data_dir: Path
    random: random.Random = field(default_factory=lambda: random.Random(0))
    faults: FaultInjector = field(default_factory=FaultInjector)
    requests: list[RecordedRequest] = field(default_factory=list)
    renders: dict[str, RenderRecord] = field(default_factory=dict)
    turns: list[ChatTurn] = field(default_factory=list)
    edit_charged: set[str] = field(default_factory=set)
    # Downloads carry their own drop/truncate faults (routes_render.serve_file).
    streaming_routes: set[str] = field(default_factory=lambda: {"download", "cdn"})
    url: str = ""
    cdn_url: str = ""


class HasState(Protocol):
    """Anything holding an :class:`EmulatorState` (the ``Emulator``)."""

    @property
    def state(self) -> EmulatorState: ...


STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("nemo_emulator_state", EmulatorState)
"""Where an emulator's apps hold its state."""


def state_of(request: web.Request) -> EmulatorState:
    """The state of the emulator serving ``request``."""
    return request.app[STATE_KEY]
