"""The real-ADK tier: google-adk's own server (``adk`` extra) behind a proxy with the emulator.

Tests that need the server take :func:`adk` (a :class:`Rig`); without google-adk
installed they are skipped with the reason (with ``NEMO_REQUIRE_ADK`` set, as
``.ci/run`` does, they fail instead). The capture-based tests need no ADK.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from nemo_sdk import ChatSettings, NemoClient, Timeouts
from nemo_sdk.emulator import Emulator
from tests.adk.proxy import AdkProxy
from tests.conftest import FAST_RETRY

HAVE_ADK = importlib.util.find_spec("google.adk") is not None and (
    importlib.util.find_spec("uvicorn") is not None
)
NO_ADK = "google-adk is not installed: pip install -e '.[adk]' (make test installs it)"


@dataclass
class Rig:
    """One test's view: the SDK client (through the proxy), the proxy, the emulator, a session."""

    nemo: NemoClient
    proxy: AdkProxy
    emulator: Emulator
    session_id: str


@pytest.fixture(scope="session")
def adk_url() -> Iterator[str]:
    """google-adk's own app, served by uvicorn on 127.0.0.1 for the whole run."""
    if not HAVE_ADK:
        if os.environ.get("NEMO_REQUIRE_ADK"):  # CI: a missing tier is a failure
            pytest.fail(NO_ADK)
        pytest.skip(NO_ADK)
    from tests.adk.adk_app import serve, warm_up

    with serve() as url:
        warm_up(url)  # ADK's first turn imports and builds what later turns reuse
        yield url


# A short read-idle timeout, so a silent tool longer than it proves the chat stream
# does not use it; a heartbeat_timeout well above the silence.
READ_IDLE = 0.8
CHAT = ChatSettings(heartbeat_timeout=30.0, drop_wait=0.01, poll_interval=0.01, unchanged_reads=1)


@pytest.fixture
async def adk(adk_url: str) -> AsyncIterator[Rig]:
    async with (
        Emulator(render_seconds=0.05, starting_credits=1000) as emu,
        AdkProxy(adk_url, emu.url) as proxy,
        NemoClient(
            base_url=proxy.url,
            retry=FAST_RETRY,
            chat_settings=CHAT,
            timeouts=Timeouts(connect=5.0, read=READ_IDLE, total=30.0),
        ) as nemo,
    ):
        # The short read-idle limit is for the chat turns; a loaded CI box can take longer
        # than it to answer the set-up call.
        setup = nemo.with_options(timeout=Timeouts(connect=5.0, read=30.0, total=60.0))
        session = await setup.sessions.create(language="en")
        yield Rig(nemo, proxy, emu, session.id)
