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

The emulator's "AI" is rule-based: ``generate <prompt>`` paints a clip; "add
BGM at 35%", "add a title 'X' for 3 s", "trim to 5 s", "make it 9:16" edit the
timeline.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .config import ChatSettings, RenderSettings, RetrySettings

__all__ = [
    "FAST_CHAT",
    "FAST_ENV",
    "FAST_RETRY",
    "emulator_available",
    "nemo_client",
    "nemo_emulator",
    "nemo_emulator_knobs",
    "nemo_env",
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
