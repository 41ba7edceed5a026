"""A pytest plugin: test your app offline against the NemoVideo emulator, faults included.

Installed with the ``emulator`` extra, it registers itself (the ``pytest11``
entry point) and gives every test suite these fixtures:

``nemo_emulator``
    A fresh :class:`~nemo_sdk.emulator.Emulator` on 127.0.0.1, served from a
    background thread so that sync and async tests alike can use it. Plan
    faults with ``nemo_emulator.faults.add("credits", "429")``; read what it
    received in ``nemo_emulator.requests``. Knobs come from
    :func:`nemo_emulator_knobs` and the ``nemo_emulator`` marker:
    ``@pytest.mark.nemo_emulator(starting_credits=1000)``.
``nemo_env``
    Points ``NEMO_API_URL`` at the emulator and the config directory at a
    temporary one, for code that builds its own ``NemoClient()``; sets
    :data:`FAST_ENV` (render polls and chat recovery waits in milliseconds), so
    the app's own client runs at test speed without settings passed through it.
``nemo_client``
    An async :class:`~nemo_sdk.NemoClient` on the emulator with every wait
    (retries, render polls, chat recovery) cut to milliseconds. Needs
    pytest-asyncio (``@pytest.mark.asyncio`` tests, or ``asyncio_mode = auto``).
``nemo_sleep``
    A :class:`RecordingSleep`: pass it as a client's ``sleep=`` to see the waits
    the SDK asked for (30 s for a 429...) without waiting them.
``nemo_rig``
    A :class:`Rig` for an async test: an emulator on the test's own loop, a client
    on it with the API's retry rules whose waits go to a :class:`RecordingSleep`
    (recorded, not waited), and a fresh session.

For tests of what the SDK does against a server that misbehaves in ways the
emulator's faults do not cover, :func:`serving` serves one aiohttp handler on
127.0.0.1; :func:`emulator_rig` builds a :class:`Rig` with any knobs.

The emulator's "AI" is rule-based: ``generate <prompt>`` paints a clip; "add
BGM at 35%", "add a title 'X' for 3 s", "trim to 5 s", "make it 9:16" edit the
timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from aiohttp import web

from .config import ChatSettings, RenderSettings, RetrySettings, Timeouts

if TYPE_CHECKING:
    from .client import NemoClient
    from .emulator import Emulator

__all__ = [
    "FAST_CHAT",
    "FAST_ENV",
    "FAST_RETRY",
    "TINY_DRAFT",
    "Handler",
    "RecordingSleep",
    "Rig",
    "emulator_available",
    "emulator_rig",
    "nemo_client",
    "nemo_emulator",
    "nemo_emulator_knobs",
    "nemo_env",
    "nemo_rig",
    "nemo_sleep",
    "serving",
]

FAST_RETRY = RetrySettings(
    max_retries=2,
    rate_limit_wait=0.01,
    max_rate_limit_wait=5.0,
    backoff_initial=0.001,
    backoff_max=0.01,
)
"""The API's retry rules with millisecond waits (the 30 s rate-limit wait becomes 10 ms)."""

FAST_CHAT = ChatSettings(
    drop_wait=0.01,
    poll_interval=0.01,
    heartbeat_timeout=5.0,
    overall_cap=60.0,
    still_working_every=1.0,
)
"""The chat recovery rules with millisecond waits."""


FAST_ENV = {
    "NEMO_RENDER_POLL_INTERVAL": "0.01",
    "NEMO_CHAT_DROP_WAIT": "0.01",
    "NEMO_CHAT_POLL_INTERVAL": "0.01",
}
"""The environment ``nemo_env`` sets: a client built from it waits milliseconds."""


def emulator_available() -> bool:
    """True when the ``emulator`` extra (av, numpy, pillow) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("av", "numpy", "PIL"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "nemo_emulator(**knobs): knobs for the nemo_emulator fixture's Emulator"
    )


@pytest.fixture
def nemo_emulator_knobs() -> dict[str, Any]:
    """The emulator's knobs: small clips and fast renders. Override it to change them."""
    return {
        "render_seconds": 0.05,
        "clip_seconds": 1.0,
        "clip_width": 160,
        "clip_height": 90,
        "clip_fps": 12,
        "canvas_width": 160,  # what an export renders at unless the draft says
        "canvas_height": 90,
    }


@pytest.fixture
def nemo_emulator(
    request: pytest.FixtureRequest, nemo_emulator_knobs: dict[str, Any]
) -> Iterator[Any]:
    """A fresh emulator for the test, served from a background thread."""
    if not emulator_available():
        pytest.skip("the nemo-sdk emulator needs the 'emulator' extra (av, numpy, pillow)")
    from .emulator.threaded import emulator_in_thread

    knobs = dict(nemo_emulator_knobs)
    marker = request.node.get_closest_marker("nemo_emulator")
    if marker is not None:
        knobs.update(marker.kwargs)
    with emulator_in_thread(**knobs) as emu:
        yield emu


@pytest.fixture
def nemo_env(nemo_emulator: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """``NEMO_API_URL`` set to the emulator, no ``NEMO_TOKEN``, a temporary config directory."""
    monkeypatch.setenv("NEMO_API_URL", nemo_emulator.url)
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    monkeypatch.delenv("NEMO_CLIENT_ID", raising=False)
    monkeypatch.delenv("NEMO_TOKEN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nemo-config"))
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    # The app's own client follows HTTP(S)_PROXY; the emulator on loopback is never
    # behind it. Both spellings: the lowercase one wins where both are set.
    for name in ("NO_PROXY", "no_proxy"):
        kept = os.environ.get(name, "")
        monkeypatch.setenv(name, ",".join(filter(None, (kept, "127.0.0.1", "localhost"))))
    return nemo_emulator


def _client_kwargs(emu: Any, tmp_path: Path) -> dict[str, Any]:
    from .offline import embedded_client_options  # the one builder of emulator clients

    return embedded_client_options(
        emu,
        client_id_path=tmp_path / "nemo-config" / "client_id",
        journal_path=tmp_path / "nemo-config" / "renders.sqlite3",
        render_settings=RenderSettings(poll_interval=0.01),
        retry=FAST_RETRY,
        chat_settings=FAST_CHAT,
    )


def _async_fixture(function: Any) -> Any:
    # pytest-asyncio's decorator works in its strict and auto modes alike; without it,
    # pytest itself says that an async fixture needs a plugin.
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover
        return pytest.fixture(function)
    return pytest_asyncio.fixture(function)


@_async_fixture
async def nemo_client(nemo_emulator: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """A :class:`~nemo_sdk.NemoClient` on the emulator, closed after the test."""
    from .client import NemoClient

    async with NemoClient(**_client_kwargs(nemo_emulator, tmp_path)) as nemo:
        yield nemo


# ---------------------------------------------------------------- waits, servers, rigs


class RecordingSleep:
    """A client's ``sleep=``: records every wait the SDK asks for and waits for none.

    ``NemoClient(sleep=RecordingSleep())`` keeps the API's waits (the 30 s rate-limit
    wait, the chat recovery's 30 s then 60 s) checkable in milliseconds. Each call
    still yields to the loop once, so a polling loop cannot starve a server on it.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []
        """Every wait asked for, in seconds, in order."""

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)

    @property
    def total(self) -> float:
        """The seconds the SDK would have waited."""
        return sum(self.waits)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
"""An aiohttp request handler."""


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """Serve ``handler`` for every method and path on 127.0.0.1 (a free port); yield its URL.

    For the misbehaviour the emulator's faults do not cover. In-flight requests are
    cancelled when the block ends, so a handler may stall for as long as it likes.
    """
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


TINY_DRAFT: dict[str, Any] = {
    "m": {"title": "tiny", "width": 64, "height": 36},
    "t": [{"tt": 7, "sg": [{"d": 200, "m": {"text": "x"}}]}],
}
"""A draft that renders in a few tens of milliseconds: a 0.2 s title on a 64x36 canvas."""


@attrs.define
class Rig:
    """One async test's world: an emulator, a client on it, its sleep, a session."""

    emu: Emulator
    nemo: NemoClient
    sleep: RecordingSleep
    session_id: str = ""

    async def rendered(self, draft: dict[str, Any] | None = None) -> str:
        """Export ``draft`` (:data:`TINY_DRAFT`) through the client, so it is journaled.

        Waits server-side until the file exists; returns the render id.
        """
        job = await self.nemo.renders.export(self.session_id, draft or TINY_DRAFT)
        record = self.emu.renders[job.id]
        if record.task is not None:  # the emulator's render task, on this loop
            await asyncio.wait({record.task})
        assert record.status == "completed", record.error
        return job.id

    def file_of(self, render_id: str) -> bytes:
        """The bytes of a finished render, as the emulator's CDN serves them."""
        path = self.emu.renders[render_id].path
        assert path is not None, f"render {render_id} has no file"
        return path.read_bytes()


FAST_RIG_KNOBS: dict[str, Any] = {
    "render_seconds": 0.01,
    "canvas_width": 160,
    "canvas_height": 90,
}


@contextlib.asynccontextmanager
async def emulator_rig(
    *,
    chat: ChatSettings | None = None,
    timeouts: Timeouts | None = None,
    retry: RetrySettings = FAST_RETRY,
    sleep: RecordingSleep | None = None,
    real_sleep: bool = False,
    session: bool = True,
    journal_path: str | Path | None = None,
    **knobs: Any,
) -> AsyncIterator[Rig]:
    """``async with emulator_rig(**knobs) as rig``: a :class:`Rig` on this loop.

    Knobs are :class:`~nemo_sdk.emulator.Emulator` arguments over fast renders on a
    160x90 canvas; the client retries by ``retry`` and waits through ``sleep`` (a
    new :class:`RecordingSleep` by default; ``real_sleep=True``: it really waits). With ``session``,
    a session is created first. ``journal_path``: the client's render journal
    (the default one under ``XDG_CONFIG_HOME`` if None).
    """
    from .client import NemoClient
    from .emulator import Emulator

    sleep = sleep or RecordingSleep()
    async with (
        Emulator(**{**FAST_RIG_KNOBS, **knobs}) as emu,
        NemoClient(
            base_url=emu.url,
            retry=retry,
            sleep=None if real_sleep else sleep,
            chat_settings=chat,
            timeouts=timeouts,
            journal_path=journal_path,
            trust_env=False,  # loopback: never through a developer's proxy
        ) as nemo,
    ):
        rig = Rig(emu, nemo, sleep)
        if session:
            rig.session_id = (await nemo.sessions.create(language="en")).id
        yield rig


@pytest.fixture
def nemo_sleep() -> RecordingSleep:
    """A :class:`RecordingSleep` for a client's ``sleep=``."""
    return RecordingSleep()


@_async_fixture
async def nemo_rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """A :class:`Rig` (the ``nemo_emulator`` marker's knobs apply), closed after the test."""
    if not emulator_available():
        pytest.skip("the nemo-sdk emulator needs the 'emulator' extra (av, numpy, pillow)")
    marker = request.node.get_closest_marker("nemo_emulator")
    knobs = marker.kwargs if marker else {}
    # The API's own retry rules: the rig's sleep records their waits, never waits them.
    journal = tmp_path / "renders.sqlite3"
    async with emulator_rig(retry=RetrySettings(), journal_path=journal, **knobs) as rig:
        yield rig
