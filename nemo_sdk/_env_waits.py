"""Waits from the environment, so an app's own client runs at test speed under test.

``NEMO_RENDER_POLL_INTERVAL`` (a fixed render poll, seconds; unset: the adaptive schedule)
and ``NEMO_RENDER_POLL_FLOOR`` (the adaptive schedule's least gap, 2 s) fill
:class:`RenderSettings`; ``NEMO_CHAT_DROP_WAIT`` / ``NEMO_CHAT_POLL_INTERVAL`` fill
:class:`ChatSettings` (0 there means 0: read the state at once). Each applies when the
client is given no group of its own. The pytest plugin's ``nemo_env`` sets them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .config import ChatSettings, RenderSettings
from .errors import ConfigurationError

__all__ = ["chat_from_env", "render_from_env", "seconds_from_env"]


def seconds_from_env(env: Mapping[str, str], name: str, *, zero: bool = False) -> float | None:
    """``env[name]`` as a number of seconds above zero (or zero, if ``zero``); ``None`` if unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        least = "zero or more" if zero else "above zero"
        raise ConfigurationError(f"{name} must be a number of seconds {least}, got {raw!r}")
    return value


def chat_from_env(env: Mapping[str, str]) -> ChatSettings:
    """The default :class:`ChatSettings`, with the waits the environment sets."""
    drop = seconds_from_env(env, "NEMO_CHAT_DROP_WAIT", zero=True)
    poll = seconds_from_env(env, "NEMO_CHAT_POLL_INTERVAL", zero=True)
    defaults = ChatSettings()
    return ChatSettings(
        drop_wait=defaults.drop_wait if drop is None else drop,
        poll_interval=defaults.poll_interval if poll is None else poll,
    )


def render_from_env(env: Mapping[str, str]) -> RenderSettings:
    """The default :class:`RenderSettings`, with the polling the environment sets."""
    # Above zero: a render poll of 0 would ask the API back to back (renders.wait
    # refuses poll_interval=0 too); API.md documents polls every 10 s.
    interval = seconds_from_env(env, "NEMO_RENDER_POLL_INTERVAL")
    floor = seconds_from_env(env, "NEMO_RENDER_POLL_FLOOR")
    defaults = RenderSettings()
    return RenderSettings(
        poll_interval=interval,
        poll_floor=defaults.poll_floor if floor is None else floor,
    )
